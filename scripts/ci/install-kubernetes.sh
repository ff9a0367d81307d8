#!/usr/bin/env bash
# Install what the helm session's levels need on a fresh Debian 12 machine (run as root): helm,
# kwok, and a Kubernetes control plane plus kubelet and kubectl, all built from the Go module
# proxy at the versions pinned in pyproject.toml ([tool.vibevoice-ci.tools]); etcd,
# containerd, the CNI plugins and a static busybox (for the pause image) from Debian.
#
#   bash scripts/ci/install-kubernetes.sh [--levels LEVELS] [--phase all|packages|builds]
#                                         [--plan | --cache-key | --cache-files]
#
# --levels: the helm session's levels that will run, comma-separated (default: all three);
#   each installs only what it needs:
#     static   helm
#     cluster  etcd (Debian), kwok and its stages, kube-apiserver, kube-controller-manager,
#              kube-scheduler, kubectl
#     pods     cluster's, and containerd, the CNI plugins, busybox-static (Debian), kubelet,
#              kube-proxy
#   On GitHub's runners `--levels static,cluster`: their Docker ships containerd.io, which
#   Debian's containerd conflicts with (apt would remove Docker), and level 3 needs root.
# --phase: all (the default) installs everything the levels need; packages only the Debian
#   packages; builds only the Go builds (they need none of the packages), so that .ci/run builds
#   while the packages install. --plan honours it; --cache-key and --cache-files
#   ignore it.
# --plan: print what these levels install (apt packages, then the built tools) and exit.
# --cache-key: print a key naming what these levels build into $VIBEVOICE_CACHE (the pinned
#   versions and a hash of this script, which decides how they are built; never a whole file
#   that changes for other reasons) and exit.
# --cache-files: print the built binaries these levels keep, relative to $VIBEVOICE_CACHE, one
#   a line (bin/<name>-<version>), and exit. They are all a second run needs (it builds nothing
#   when they are there), so they are what a CI cache keeps: not Go's module and build caches,
#   which are several GB.
# None of --plan, --cache-key, --cache-files needs root, go or the network.
#
# Idempotent. Go builds are cached under $VIBEVOICE_CACHE (default /var/cache/vibevoice): the
# module and build caches, and each built binary under a name that carries its version, so a
# second run on the same machine builds nothing. The cache is only a speed-up: when it is
# empty or gone everything is built again. Each binary is built to a temporary name and then
# renamed, so an interrupted build never leaves a broken tool behind. See docs/helm.md.
set -euo pipefail
# Under pipefail a reader that stops early (head, grep -q) can fail the pipeline with its
# writer's SIGPIPE (exit 141): version lines are read with `sed -n 1p` and `grep >/dev/null`.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { printf '[install-kubernetes] %s\n' "$*" >&2; }
die() { printf '[install-kubernetes] error: %s\n' "$*" >&2; exit 1; }
usage() {
    die "usage: install-kubernetes.sh [--levels static,cluster,pods] [--phase all|packages|builds] [--plan | --cache-key | --cache-files]"
}

levels="static,cluster,pods"
phase=all
mode=install
while [ "$#" -gt 0 ]; do
    case "$1" in
        --levels) [ "$#" -ge 2 ] || usage; levels="$2"; shift 2 ;;
        --levels=*) levels="${1#--levels=}"; shift ;;
        --phase) [ "$#" -ge 2 ] || usage; phase="$2"; shift 2 ;;
        --phase=*) phase="${1#--phase=}"; shift ;;
        --plan) mode=plan; shift ;;
        --cache-key) mode="cache-key"; shift ;;
        --cache-files) mode="cache-files"; shift ;;
        *) usage ;;
    esac
done
case "$phase" in
    all | packages | builds) ;;
    *) die "unknown phase '$phase' (all, packages, builds)" ;;
esac
want_static=false want_cluster=false want_pods=false
IFS=',' read -r -a requested <<<"$levels"
for level in "${requested[@]}"; do
    case "$level" in
        static) want_static=true ;;
        cluster) want_cluster=true ;;
        pods) want_pods=true ;;
        *) die "unknown level '$level' in --levels $levels (static, cluster, pods)" ;;
    esac
done
$want_static || $want_cluster || $want_pods || die "--levels names no level"
$want_pods && want_cluster=true  # the kubelet joins a control plane of level 2's tools

tool_version() {
    python3 - "$repo_root/pyproject.toml" "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    print(tomllib.load(handle)["tool"]["vibevoice-ci"]["tools"][sys.argv[2]])
PY
}

kubernetes_version="$(tool_version kubernetes)"   # e.g. 1.35.4
helm_version="$(tool_version helm)"
kwok_version="$(tool_version kwok)"
staging_version="0.${kubernetes_version#*.}"       # k8s.io/<staging> modules: v0.35.4

# What the levels need: Debian packages, then the Kubernetes binaries built from source.
apt_packages=()
kube_tools=()
$want_cluster && apt_packages+=(etcd-server) \
    && kube_tools+=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
# A containerd for the kubelet's CRI, CNI plugins, busybox for the pause image.
$want_pods && apt_packages+=(containerd containernetworking-plugins busybox-static) \
    && kube_tools+=(kubelet kube-proxy)
go_tools=(helm)  # every level renders the chart with helm
$want_cluster && go_tools+=(kwok)

case "$mode" in
    plan)
        planned_apt="${apt_packages[*]}" planned_build="${go_tools[*]} ${kube_tools[*]}"
        if [ "$phase" = packages ]; then planned_build=""; fi  # a phase keeps only its part
        if [ "$phase" = builds ]; then planned_apt=""; fi
        printf 'apt: %s\n' "$planned_apt"
        printf 'build: %s\n' "$planned_build"
        exit 0 ;;
    "cache-key")
        # Cache keys may not contain commas.
        key="helm${helm_version}"
        $want_cluster && key+="-kwok${kwok_version}"
        [ "${#kube_tools[@]}" -gt 0 ] && key+="-kubernetes${kubernetes_version}"
        $want_cluster && key+="-cluster"
        $want_pods && key+="-pods"
        # How they are built (wrapper module, ldflags) is this script: a change builds afresh.
        script_hash="$(sha256sum "${BASH_SOURCE[0]}")"
        key+="-script${script_hash:0:16}"
        printf '%s\n' "$key"
        exit 0 ;;
    "cache-files")
        for name in "${go_tools[@]}"; do
            case "$name" in
                helm) printf 'bin/helm-%s\n' "$helm_version" ;;
                kwok) printf 'bin/kwok-%s\n' "$kwok_version" ;;
            esac
        done
        for name in "${kube_tools[@]+"${kube_tools[@]}"}"; do
            printf 'bin/%s-%s\n' "$name" "$kubernetes_version"
        done
        exit 0 ;;
esac

[ "$(id -u)" -eq 0 ] || die "run as root (apt-get and /usr/local/bin need it)"
[ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
[ "$phase" = packages ] || command -v go >/dev/null \
    || die "go is not on PATH (the Go toolchain builds these tools)"

# --- Debian packages ---
[ "$phase" = builds ] && apt_packages=()
missing=()
for package in "${apt_packages[@]+"${apt_packages[@]}"}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep "install ok installed" >/dev/null \
        || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -q
    # The packaged etcd service is not wanted: the session runs its own on loopback ports.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

if [ "$phase" = packages ]; then
    ready="packages ready for levels $levels"
    $want_cluster && ready+=": etcd $(etcd --version | sed -n 1p)"
    $want_pods && ready+="; containerd $(containerd --version | cut -d' ' -f3)"
    log "$ready"
    exit 0
fi

# --- Go builds, cached by version ---
cache="${VIBEVOICE_CACHE:-/var/cache/vibevoice}"
mkdir -p "$cache/bin"
export GOPATH="$cache/go" GOCACHE="$cache/go-build" GOFLAGS=-mod=mod GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
bin_dir=/usr/local/bin

# install_cached NAME VERSION: copy the cached build into $bin_dir when it differs.
install_cached() {
    local cached="$cache/bin/$1-$2"
    if ! cmp -s "$cached" "$bin_dir/$1"; then
        install -m 0755 "$cached" "$bin_dir/.$1.tmp"
        mv -f "$bin_dir/.$1.tmp" "$bin_dir/$1"
        log "installed $1 $2"
    fi
}

# go_install NAME VERSION PACKAGE@VERSION: build with `go install` into the cache.
go_install() {
    local name="$1" version="$2" package="$3"
    if [ ! -x "$cache/bin/$name-$version" ]; then
        log "building $name $version from the Go module proxy"
        local start gobin
        start="$(date +%s)"
        gobin="$(mktemp -d "$cache/bin/.build.XXXXXX")"
        GOBIN="$gobin" go install "$package"
        mv -f "$gobin/$name" "$cache/bin/$name-$version"
        rmdir "$gobin"
        log "built $name in $(( $(date +%s) - start )) s"
    fi
    install_cached "$name" "$version"
}

go_install helm "$helm_version" "helm.sh/helm/v3/cmd/helm@v${helm_version}"
$want_cluster && go_install kwok "$kwok_version" "sigs.k8s.io/kwok/cmd/kwok@v${kwok_version}"

# kwok's stage definitions ship in its module: one multi-document file for `kwok --config`.
stages_dir="$GOPATH/pkg/mod/sigs.k8s.io/kwok@v${kwok_version}/kustomize/stage"
stages=/usr/local/share/vibevoice/kwok-stages.yaml
if $want_cluster && { [ ! -s "$stages" ] || ! grep -q "kwok v${kwok_version}" "$stages"; }; then
    [ -d "$stages_dir" ] || (cd "$cache" && go mod download "sigs.k8s.io/kwok@v${kwok_version}")
    mkdir -p "$(dirname "$stages")"
    {
        echo "# kwok v${kwok_version} stages: node/fast, node/heartbeat, pod/fast"
        for file in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
            pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
            echo "---"
            cat "$stages_dir/$file"
        done
    } >"$stages.tmp"
    mv -f "$stages.tmp" "$stages"
    log "wrote $stages"
fi

# The Kubernetes binaries: k8s.io/kubernetes can't be `go install`ed (its go.mod replaces
# its staging modules with local paths), so a wrapper module requires it and replaces every
# k8s.io/<staging> module with its v0.x release, the list taken from kubernetes's own go.mod.
# The wrapper module lists every tool (so its go.sum serves any later level); the levels
# asked for decide which are built ($kube_tools, above).
all_kube_tools=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy)
# A plain `go build` leaves the version at v0.0.0-master, which helm's kubeVersion check and
# kubectl's version skew check reject: stamp the release in, as Kubernetes's own build does.
version_pkgs=(k8s.io/component-base/version k8s.io/client-go/pkg/version)
ldflags="-s -w"
for pkg in "${version_pkgs[@]}"; do
    ldflags+=" -X ${pkg}.gitVersion=v${kubernetes_version} -X ${pkg}.gitMajor=1"
    ldflags+=" -X ${pkg}.gitMinor=$(echo "$kubernetes_version" | cut -d. -f2)"
    ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done
reports_version() {  # reports_version BINARY NAME: does it say v<kubernetes_version>?
    if [ "$2" = kubectl ]; then
        "$1" version --client 2>/dev/null | grep "v${kubernetes_version}\$" >/dev/null
    else
        "$1" --version 2>/dev/null | grep "v${kubernetes_version}\$" >/dev/null
    fi
}
need_build=()
for name in "${kube_tools[@]+"${kube_tools[@]}"}"; do
    cached="$cache/bin/$name-$kubernetes_version"
    [ -x "$cached" ] && reports_version "$cached" "$name" || need_build+=("$name")
done
if [ "${#need_build[@]}" -gt 0 ]; then
    wrapper="$cache/kubernetes-wrapper-v${kubernetes_version}"
    mkdir -p "$wrapper"
    if [ ! -f "$wrapper/go.sum" ]; then
        log "preparing the wrapper module for k8s.io/kubernetes v${kubernetes_version}"
        upstream_mod="$(cd "$wrapper" && go mod download -json \
            "k8s.io/kubernetes@v${kubernetes_version}" | python3 -c \
            'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
        {
            echo "module vibevoice.local/kubernetes-tools"
            echo
            echo "go 1.25"
            echo
            echo "require k8s.io/kubernetes v${kubernetes_version}"
            echo
            echo "replace ("
            # The staging modules: `k8s.io/x => ./staging/src/k8s.io/x` in upstream's go.mod.
            sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$upstream_mod" \
                | while read -r module; do
                    echo "    $module => $module v${staging_version}"
                done
            echo ")"
        } >"$wrapper/go.mod.tmp"
        grep -q "k8s.io/api => " "$wrapper/go.mod.tmp" \
            || die "no staging replaces found in $upstream_mod"
        mv -f "$wrapper/go.mod.tmp" "$wrapper/go.mod"
        {
            echo "//go:build tools"
            echo
            echo "package tools"
            echo
            echo "import ("
            for name in "${all_kube_tools[@]}"; do
                echo "    _ \"k8s.io/kubernetes/cmd/$name\""
            done
            echo ")"
        } >"$wrapper/tools.go"
        (cd "$wrapper" && go mod tidy)
    fi
    for name in "${need_build[@]}"; do
        log "building $name v${kubernetes_version} (the first, kube-apiserver, takes minutes)"
        start="$(date +%s)"
        (cd "$wrapper" && go build -ldflags "$ldflags" -o "$cache/bin/.$name.tmp" \
            "k8s.io/kubernetes/cmd/$name")
        reports_version "$cache/bin/.$name.tmp" "$name" \
            || die "$name does not report v${kubernetes_version} after the build"
        mv -f "$cache/bin/.$name.tmp" "$cache/bin/$name-$kubernetes_version"
        log "built $name in $(( $(date +%s) - start )) s"
    done
fi
for name in "${kube_tools[@]+"${kube_tools[@]}"}"; do
    install_cached "$name" "$kubernetes_version"
done

ready="helm $(helm version --short)"
$want_cluster && ready+="; kwok $kwok_version; $(kube-apiserver --version)"
$want_pods && ready+="; $(kubelet --version)"
if [ "$phase" = builds ]; then  # the packages may not be installed yet: their versions later
    log "kubernetes builds ready for levels $levels: $ready"
    exit 0
fi
$want_cluster && ready+="; etcd $(etcd --version | sed -n 1p)"
$want_pods && ready+="; containerd $(containerd --version | cut -d' ' -f3)"
log "kubernetes tools ready for levels $levels: $ready"
