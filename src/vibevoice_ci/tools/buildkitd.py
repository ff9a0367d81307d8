"""buildkitd: a BuildKit daemon on the host for multi-platform builds (buildx's remote driver).

The engine's built-in BuildKit (buildx's ``docker`` driver) builds one platform and cannot
push an image index, so the release build starts its own daemon: on a unix socket in a
folder of its own, with the OCI worker (runc) and QEMU user emulation for foreign platforms,
and always stops it (:func:`running`).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.progress import progress
from vibevoice_ci.tools._exec import find_tool, run_tool, start_process, stop_process

INSTALL_HINT = (
    "build buildkitd and buildctl from the Go module proxy: bash scripts/ci/install-tools.sh"
)
START_TIMEOUT = 60.0
_PLATFORMS_LINE = re.compile(r"^Platforms:\s*(?P<platforms>\S.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Daemon:
    """A running buildkitd: where it listens and which platforms its worker builds."""

    address: str
    platforms: tuple[str, ...]
    log_path: Path


def buildkitd() -> str:
    return find_tool("buildkitd", INSTALL_HINT, env_override="VIBEVOICE_BUILDKITD")


def buildctl() -> str:
    return find_tool("buildctl", INSTALL_HINT, env_override="VIBEVOICE_BUILDCTL")


def config_toml(plain_http_registries: Sequence[str]) -> str:
    """buildkitd.toml: the given registries are plain HTTP (loopback ones); no GC surprises."""
    lines = ["[worker.oci]", "  enabled = true", "  gc = true", "  gckeepstorage = 20000000000"]
    lines += ["[worker.containerd]", "  enabled = false"]
    for registry in sorted(set(plain_http_registries)):
        # http alone: with insecure too, BuildKit tries HTTPS first and falls back to HTTP
        # only on some requests (a token-auth registry's blob HEAD fails with a TLS error).
        lines += [f'[registry."{registry}"]', "  http = true"]
    return "\n".join(lines) + "\n"


def daemon_argv(
    binary: str, *, config: Path, address: str, root: Path, group: str | None = None
) -> list[str]:
    """The argument list that starts buildkitd (pure); ``group`` owns its unix socket (so
    that group's members, such as the runner user in ``docker``, can build on it)."""
    return [
        binary,
        "--config",
        str(config),
        "--addr",
        address,
        *(["--group", group] if group else []),
        "--root",
        str(root),
        "--oci-worker=true",
        "--containerd-worker=false",
    ]


def parse_worker_platforms(output: str) -> tuple[str, ...]:
    """The platforms ``buildctl debug workers -v`` lists, in order, without repeats (pure)."""
    seen: list[str] = []
    for match in _PLATFORMS_LINE.finditer(output):
        for platform in match.group("platforms").split(","):
            name = platform.strip()
            if name and name not in seen:
                seen.append(name)
    return tuple(seen)


def missing_platforms(wanted: Sequence[str], available: Sequence[str]) -> list[str]:
    """Platforms in ``wanted`` that the worker cannot build (pure)."""
    return [platform for platform in wanted if platform not in available]


@contextmanager
def running(
    *,
    state_dir: Path,
    root: Path,
    plain_http_registries: Sequence[str],
    log_path: Path,
    group: str | None = None,
) -> Iterator[Daemon]:
    """Start buildkitd (cache in ``root``, socket and config in ``state_dir``, a folder of its
    own that is removed afterwards), wait until it answers, yield it, and always stop it."""
    binary, client = buildkitd(), buildctl()
    state_dir.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    config = state_dir / "buildkitd.toml"
    write_text_atomic(config, config_toml(plain_http_registries))
    address = f"unix://{state_dir / 'buildkitd.sock'}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    progress(f"starting buildkitd on {address} (cache {root}; log {log_path})")
    with log_path.open("ab") as log:
        process = start_process(
            daemon_argv(binary, config=config, address=address, root=root, group=group),
            output=log,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                result = run_tool(
                    [client, "--addr", address, "debug", "workers", "-v"], check=False, timeout=30
                )
                platforms = parse_worker_platforms(result.stdout) if result.ok else ()
                if platforms:
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                    state = (
                        f"exited {process.returncode}"
                        if process.poll() is not None
                        else f"no answer in {START_TIMEOUT:g} s"
                    )
                    last = tail[-1] if tail else "no output"
                    raise ToolFailedError(f"buildkitd did not start ({state}): {last}")
                time.sleep(0.5)
            yield Daemon(address, platforms, log_path)
        finally:
            stop_process(process, timeout=30)
            shutil.rmtree(state_dir, ignore_errors=True)
