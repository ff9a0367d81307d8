#!/usr/bin/env bash
# Give this machine what a GitHub-hosted ubuntu-24.04 runner gives a job, for `nox -s workflows`
# (act runs the workflow files as that user; docs/workflows.md, "The workflows executed by act").
# Run as root; idempotent.
#
#   bash scripts/ci/setup-runner.sh [USER]      # USER defaults to runner
#
# - the user (home /home/USER), in the docker group, with passwordless sudo, as on GitHub;
# - the runner's tool cache, /opt/hostedtoolcache, holding CPython for the lowest and the
#   highest Python the project supports, laid out as actions/setup-python finds it there
#   (Python/<version>/x64 and x64.complete), each a copy of this machine's interpreter without
#   its site-packages, made relocatable (patchelf), with pip from ensurepip.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
user="${1:-runner}"
tool_cache="${RUNNER_TOOL_CACHE_DIR:-/opt/hostedtoolcache}"
log() { printf '[setup-runner] %s\n' "$*" >&2; }
die() { printf '[setup-runner] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it creates a user and writes $tool_cache)"

missing=()
command -v sudo >/dev/null || missing+=(sudo)
command -v patchelf >/dev/null || missing+=(patchelf)
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

if ! id "$user" >/dev/null 2>&1; then
    log "creating the user $user"
    useradd --create-home --shell /bin/bash "$user"
fi
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" >"/etc/sudoers.d/90-$user"
chmod 0440 "/etc/sudoers.d/90-$user"
if getent group docker >/dev/null; then
    usermod -aG docker "$user"
fi

# CPython in the tool cache: a copy of each interpreter the project's classifiers name at
# their ends (find-python.sh), as setup-python's cache hit expects it.
mkdir -p "$tool_cache/Python"
for end in lowest highest; do
    interpreter="$(bash "$repo_root/scripts/ci/find-python.sh" "$end" || true)"
    if [ -z "$interpreter" ]; then
        log "no interpreter for the $end supported Python here: setup-python will fail for it"
        continue
    fi
    read -r version prefix minor < <("$interpreter" -c \
        'import sys; print("%d.%d.%d" % sys.version_info[:3], sys.base_prefix, "%d.%d" % sys.version_info[:2])')
    target="$tool_cache/Python/$version/x64"
    if [ -f "$target.complete" ]; then
        continue
    fi
    log "CPython $version into the tool cache (from $prefix)"
    rm -rf "$target"
    mkdir -p "$target"
    tar -C "$prefix" --exclude="lib/python$minor/site-packages/*" --exclude='__pycache__' -cf - . \
        | tar -C "$target" -xf -
    binary="$target/bin/python$minor"
    if readelf -d "$binary" 2>/dev/null | grep RUNPATH >/dev/null; then
        # shellcheck disable=SC2016 # $ORIGIN is for the dynamic loader, not the shell
        patchelf --set-rpath '$ORIGIN/../lib' "$binary"
    fi
    ln -sf "python$minor" "$target/bin/python"
    ln -sf "python$minor" "$target/bin/python3"
    "$binary" -m ensurepip --default-pip >/dev/null 2>&1 \
        || log "ensurepip failed for $version: pip is missing from it"
    touch "$target.complete"
done
chown -R "$user:$user" "$tool_cache"

log "runner $user ready (tool cache $tool_cache)"
