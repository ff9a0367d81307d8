#!/usr/bin/env bash
# Start what the container sessions need: the Docker engine and a local registry on 127.0.0.1.
#
#   bash scripts/ci/start-services.sh        # prints the registry address on stdout
#
# Never starts a second dockerd; the registry listens on loopback only.
set -euo pipefail

registry_port="${VIBEVOICE_LOCAL_REGISTRY_PORT:-5000}"
state_dir="${VIBEVOICE_STATE_DIR:-/var/lib/vibevoice-ci}"
log() { printf '[start-services] %s\n' "$*" >&2; }
die() { printf '[start-services] error: %s\n' "$*" >&2; exit 1; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds="$1" what="$2"; shift 2
    for _ in $(seq 1 $((seconds * 4))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    die "$what did not come up within ${seconds} s"
}

mkdir -p "$state_dir"

if ! docker info >/dev/null 2>&1; then
    if pgrep -x dockerd >/dev/null; then
        log "dockerd is running but not answering yet; waiting"
    else
        log "starting dockerd (log: $state_dir/dockerd.log)"
        command -v cgroupfs-mount >/dev/null && cgroupfs-mount || true
        nohup dockerd >"$state_dir/dockerd.log" 2>&1 &
    fi
    wait_for 60 "dockerd" docker info
fi
log "Docker engine $(docker version --format '{{.Server.Version}}')"

# QEMU user emulation for the release build's foreign platforms (linux/arm64): the kernel's
# binfmt_misc handlers that qemu-user-static registers (with the F flag, so they work inside
# build containers too).
if command -v update-binfmts >/dev/null && [ -x /usr/bin/qemu-aarch64-static ]; then
    if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
            || log "cannot mount binfmt_misc: arm64 builds will fail"
    fi
    if [ -e /proc/sys/fs/binfmt_misc/status ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        update-binfmts --enable qemu-aarch64 || log "cannot enable qemu-aarch64 emulation"
    fi
fi

registry_url="http://127.0.0.1:${registry_port}/v2/"
if ! python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "$registry_url" >/dev/null 2>&1; then
    log "starting a local registry on 127.0.0.1:${registry_port}"
    cat >"$state_dir/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state_dir/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${registry_port}
YAML
    nohup docker-registry serve "$state_dir/registry.yml" >"$state_dir/registry.log" 2>&1 &
    wait_for 30 "the local registry" python3 -c \
        "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$registry_url"
fi
echo "127.0.0.1:${registry_port}"
