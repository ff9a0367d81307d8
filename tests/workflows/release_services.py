"""The host services the release chain's jobs use when act executes them here.

On GitHub, ci-build-push logs in to ghcr.io (a registry that demands a bearer token) and
docker/setup-buildx-action starts a BuildKit daemon for the job. Here both are host services,
started by root for as long as the harness runs (docs/workflows.md, "The workflows executed
by act"):

* the token-auth registry of tests/integration/token_registry.py on 127.0.0.1, with one user
  (``github.actor``: the repository's owner) whose password is the job's ``GITHUB_TOKEN``
  secret, read from the environment;
* BuildKit's daemon on a unix socket owned by group ``docker`` (the runner user is a member),
  the registry marked plain HTTP in its configuration; the setup-buildx stand-in creates the
  job's builder on it (remote driver), as the runner;
* the offline base in that registry (``<registry>/<owner>/<offline base>``): Docker Hub's
  Python image, which the build starts from on GitHub, cannot be pulled here. It is resolved
  exactly as the build session resolves it (built from the cached Debian root filesystems when
  absent), with credentials from a docker login of root's own (a temporary Docker config).

``python tests/workflows/release_services.py --folder DIR --user NAME --password-env VAR
--env-file FILE`` serves until SIGTERM or SIGINT; once everything answers it writes FILE, shell
assignments of ``VIBEVOICE_REGISTRY_HOST`` (the ``--var`` the workflows read) and
``VIBEVOICE_ACT_BUILDKIT`` (the daemon's address, a ``--job-env`` for the stand-in).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "integration")]
sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from token_registry import (  # noqa: E402
    docker_config,
    password_from,
    running_token_registry,
    stop_event,
)

from vibevoice_ci.build import base_image  # noqa: E402
from vibevoice_ci.core.config import load_config  # noqa: E402
from vibevoice_ci.core.retry import RetryLog  # noqa: E402
from vibevoice_ci.tools import buildkitd, buildx  # noqa: E402

BUILDKIT_ROOT = Path("/var/cache/vibevoice-ci/buildkit-act")
SOCKET_GROUP = "docker"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="release_services.py")
    parser.add_argument("--folder", type=Path, required=True, help="state: keys, storage, logs")
    parser.add_argument("--user", required=True, help="the registry's one user (github.actor)")
    parser.add_argument("--password-env", required=True, help="the variable with its password")
    parser.add_argument("--env-file", type=Path, required=True, help="written once all is up")
    parser.add_argument("--buildkit-root", type=Path, default=BUILDKIT_ROOT)
    args = parser.parse_args(argv)
    password = password_from(parser, args.password_env)
    stop = stop_event()
    config = load_config()
    owner = args.user.lower()
    folder = args.folder.resolve()
    # The socket's folder of its own, which the runner can traverse; DIR (keys, passwords)
    # stays root's alone, whatever its mode (mktemp -d makes it 0700).
    socket_dir = Path(tempfile.mkdtemp(prefix="vibevoice-act-buildkit-"))
    socket_dir.chmod(0o755)
    with (
        running_token_registry(folder / "registry", {args.user: password}) as registry,
        buildkitd.running(
            state_dir=socket_dir,
            root=args.buildkit_root,
            plain_http_registries=[registry.address],
            log_path=folder / "buildkitd.log",
            group=SOCKET_GROUP,
        ) as daemon,
    ):
        os.environ["DOCKER_CONFIG"] = str(
            docker_config(folder / "root-docker", registry.address, args.user, password)
        )
        with buildx.remote_builder(f"vibevoice-act-seed-{os.getpid()}", daemon.address) as name:
            base = base_image.resolve_for_platforms(
                config.base_image,
                override=None,
                registry=f"{registry.address}/{owner}",
                platforms=config.platforms,
                builder=name,
                cache_dir=config.env.cache_root,
                retries=RetryLog(),
            )
        print(f"offline base in the registry: {base.reference} ({base.how})", flush=True)
        partial = args.env_file.with_name(args.env_file.name + ".partial")
        partial.write_text(
            f"VIBEVOICE_REGISTRY_HOST={registry.address}\n"
            f"VIBEVOICE_ACT_BUILDKIT={daemon.address}\n",
            encoding="utf-8",
        )
        partial.replace(args.env_file)
        print(
            f"token-auth registry {registry.address}; buildkitd {daemon.address} "
            f"({', '.join(daemon.platforms)})",
            flush=True,
        )
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
