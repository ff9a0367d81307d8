#!/usr/bin/env bash
# Build the release build's Go tools from the Go module proxy, at the versions pinned in
# pyproject.toml ([tool.vibevoice-ci.tools]), and install them.
#
#   bash scripts/ci/install-go-tools.sh [--bin-dir DIR] [--plugin-dir DIR] TOOL...
#   bash scripts/ci/install-go-tools.sh --cache-key TOOL...
#   bash scripts/ci/install-go-tools.sh --cache-files TOOL...
#
# TOOL: buildx (a Docker CLI plugin, into --plugin-dir), buildkitd, buildctl, crane, cosign,
# trivy-db, oras (into --bin-dir; default /usr/local/bin). Needs go >= 1.24, not root (given
# writable folders): install-tools.sh calls it for everything, the GitHub workflows for crane
# alone. --cache-key prints a key naming the pinned versions of those TOOLs and a hash of this
# script, which decides how they are built (for a cache of $VIBEVOICE_GO_CACHE), and exits;
# --cache-files prints the built binaries those TOOLs keep, relative to $VIBEVOICE_GO_CACHE,
# one a line (bin/<name>-<version>), and exits: all a second run needs (it builds nothing when
# they are there), so they are what a CI cache keeps, not Go's multi-GB module and build
# caches. Neither needs go or the network.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { printf '[install-go-tools] %s\n' "$*" >&2; }
die() { printf '[install-go-tools] error: %s\n' "$*" >&2; exit 1; }

bin_dir=/usr/local/bin
plugin_dir=/usr/local/lib/docker/cli-plugins
cache_key=false
cache_files=false
while [ "$#" -gt 0 ]; do
    case "$1" in
        --bin-dir) bin_dir="$2"; shift 2 ;;
        --plugin-dir) plugin_dir="$2"; shift 2 ;;
        --cache-key) cache_key=true; shift ;;
        --cache-files) cache_files=true; shift ;;
        *) break ;;
    esac
done

tool_version() {
    python3 - "$repo_root/pyproject.toml" "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    print(tomllib.load(handle)["tool"]["vibevoice-ci"]["tools"][sys.argv[2]])
PY
}

pinned_version() {  # pinned_version TOOL: the version pyproject.toml pins for TOOL
    case "$1" in
        buildkitd | buildctl) tool_version buildkit ;;
        buildx | crane | cosign | trivy-db | oras) tool_version "$1" ;;
        *) die "unknown tool $1 (buildx, buildkitd, buildctl, crane, cosign, trivy-db, oras)" ;;
    esac
}
if $cache_key; then  # e.g. crane0.22.1-cosign2.6.5-script0123456789abcdef (no commas in keys)
    key=""
    for tool in "$@"; do
        key+="${key:+-}${tool}$(pinned_version "$tool")"
    done
    script_hash="$(sha256sum "${BASH_SOURCE[0]}")"
    printf '%s\n' "$key-script${script_hash:0:16}"
    exit 0
fi
if $cache_files; then  # the binaries go_tool names below, relative to $VIBEVOICE_GO_CACHE
    for tool in "$@"; do
        printf 'bin/%s-%s\n' "$tool" "$(pinned_version "$tool")"
    done
    exit 0
fi

# Built once per pinned version into $go_cache (GOPATH, GOCACHE and the binaries, keyed by
# the versions), each binary written atomically, so a second run on this machine builds
# nothing and an interrupted build never leaves a broken tool. A fresh machine builds them
# all in about 4 minutes on 2 cores (measured: docs/ci-cd.md, "The release build").
go_cache="${VIBEVOICE_GO_CACHE:-/var/cache/vibevoice-ci/go}"
go_bin_dir="$go_cache/bin"
[ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
export GOPATH="$go_cache/gopath" GOCACHE="$go_cache/gocache" GOFLAGS=-buildvcs=false
go_tool() {  # go_tool NAME VERSION: the cached binary path for NAME at VERSION
    printf '%s/%s-%s' "$go_bin_dir" "$1" "$2"
}
go_build_module() {  # go_build_module NAME VERSION MODULE PACKAGE: build PACKAGE of MODULE
    # The module's version package is stamped, so `--version` names the pinned release.
    local name="$1" version="$2" module="$3" package="$4" target work
    local ldflags="-X $module/version.Version=v$version"
    target="$(go_tool "$name" "$version")"
    [ -x "$target" ] && return 0
    command -v go >/dev/null || die "go >= 1.24 is needed to build $name (the machine image has it in /usr/local/go)"
    log "building $name $version from the Go module proxy"
    mkdir -p "$go_bin_dir"
    # A wrapper module: buildkit's own go.mod has exclude directives, so `go install` refuses.
    work="$go_cache/modules/$name-$version"
    mkdir -p "$work"
    printf 'module vibevoice-ci/tools/%s\n\ngo 1.24\n\nrequire %s v%s\n' \
        "$name" "$module" "$version" >"$work/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" >"$work/tools.go"
    local started="$SECONDS"
    (cd "$work" && go mod tidy && go build -trimpath -ldflags "$ldflags" -o "$target.tmp.$$" "$package")
    mv -f "$target.tmp.$$" "$target"
    log "built $name $version in $((SECONDS - started)) s"
}
go_install_module() {  # go_install_module NAME VERSION PACKAGE LDFLAGS: `go install PACKAGE@vVERSION`
    # For modules whose own go.mod installs as is: the build uses exactly their pinned
    # dependencies (no wrapper module, no `go mod tidy`).
    local name="$1" version="$2" package="$3" ldflags="$4" target gobin
    target="$(go_tool "$name" "$version")"
    [ -x "$target" ] && return 0
    command -v go >/dev/null || die "go >= 1.24 is needed to build $name (the machine image has it in /usr/local/go)"
    log "building $name $version from the Go module proxy"
    mkdir -p "$go_bin_dir"
    gobin="$(mktemp -d "$go_bin_dir/.build-$name.XXXXXX")"
    local started="$SECONDS"
    GOBIN="$gobin" go install -trimpath -ldflags "$ldflags" "$package@v$version"
    mv -f "$gobin/$name" "$target"
    rmdir "$gobin"
    log "built $name $version in $((SECONDS - started)) s"
}
install_binary() {  # install_binary SOURCE TARGET: copy atomically when it differs
    cmp -s "$1" "$2" 2>/dev/null && return 0
    install -D -m 0755 "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
for tool in "$@"; do
    case "$tool" in
        buildx)
            version="$(tool_version buildx)"
            go_build_module buildx "$version" github.com/docker/buildx \
                github.com/docker/buildx/cmd/buildx
            install_binary "$(go_tool buildx "$version")" "$plugin_dir/docker-buildx" ;;
        buildkitd | buildctl)
            version="$(tool_version buildkit)"
            go_build_module "$tool" "$version" github.com/moby/buildkit \
                "github.com/moby/buildkit/cmd/$tool"
            install_binary "$(go_tool "$tool" "$version")" "$bin_dir/$tool" ;;
        crane)
            version="$(tool_version crane)"
            go_build_module crane "$version" github.com/google/go-containerregistry \
                github.com/google/go-containerregistry/cmd/crane
            install_binary "$(go_tool crane "$version")" "$bin_dir/crane" ;;
        cosign)
            # Signs and attests the release images (the sign session); its version is stamped
            # where `cosign version` reads it.
            version="$(tool_version cosign)"
            go_install_module cosign "$version" github.com/sigstore/cosign/v2/cmd/cosign \
                "-X sigs.k8s.io/release-utils/version.gitVersion=v$version"
            install_binary "$(go_tool cosign "$version")" "$bin_dir/cosign" ;;
        trivy-db | oras)
            # The trivy session's planted-advisory database (docs/ci-cd.md, "trivy"): trivy-db
            # builds a database from a hand-made advisory tree, oras serves it as an OCI
            # artifact from the local registry.
            case "$tool" in
                trivy-db) module=github.com/aquasecurity/trivy-db package="$module/cmd/trivy-db" ;;
                oras) module=oras.land/oras package="$module/cmd/oras" ;;
            esac
            version="$(tool_version "$tool")"
            go_build_module "$tool" "$version" "$module" "$package"
            install_binary "$(go_tool "$tool" "$version")" "$bin_dir/$tool" ;;
        *) die "unknown tool $tool (buildx, buildkitd, buildctl, crane, cosign, trivy-db, oras)" ;;
    esac
done

