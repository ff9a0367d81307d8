"""The runner act runs as: GitHub's ``runner`` user, its folders, and the variables it sets.

On GitHub a job runs as the non-root ``runner`` user (passwordless sudo, ``HOME=/home/runner``,
the tool cache in ``/opt/hostedtoolcache``). ``scripts/ci/setup-runner.sh`` makes that user
here; the harness then starts act through ``sudo -u runner``, so a step that writes outside its
workspace, ``$RUNNER_TEMP`` or the tool cache without sudo fails here as it would there. Run as
any other user, act runs as that user (a contributor's own machine).

Everything the harness keeps lives in the runner's state folder (owned by that user):
the repository clone act starts from, the stand-ins, the event payloads, act's logs, the
artifacts of each run and the cache stand-in's archives.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolMissingError, UsageError

DEFAULT_USER = "runner"
LOCK_NAME = ".lock"
TOOL_CACHE = Path("/opt/hostedtoolcache")
# What the machine's TLS and package-index settings need to reach the package registries;
# `sudo` would drop them (ENVIRONMENT.md: "su - runner drops them and every download fails").
PASSED_THROUGH = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "PIP_CERT",
    "PIP_FIND_LINKS",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_INDEX_URL",
    "UV_INDEX_URL",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "GOPROXY",
    "GOFLAGS",
    "GONOSUMDB",
    "GOPRIVATE",
    "TMPDIR",
)


@dataclass(frozen=True)
class Runner:
    """Who act runs as and where its state lives."""

    user: str
    home: Path
    switch_user: bool
    tool_cache: Path
    state_dir: Path | None = None

    @property
    def state(self) -> Path:
        """The state folder: ``--state-dir``, else ``~runner/vibevoice-act``."""
        return self.state_dir or self.home / "vibevoice-act"

    @property
    def cache_dir(self) -> Path:
        """The Actions cache stand-in's folder, ``~runner/vibevoice-act-cache``: one for every
        state folder, as GitHub keeps one cache per repository whatever the run."""
        return self.home / "vibevoice-act-cache"

    @property
    def workspace(self) -> Path:
        """Where act starts (GitHub's ``/home/runner/work/<repo>/<repo>``)."""
        return self.state / "repository"


def find_runner(user: str | None, state_dir: Path | None = None) -> Runner:
    """The runner for ``user`` (default: ``runner`` when run as root, else the current user);
    a user that does not exist is a ``UsageError`` naming the setup script."""
    if user is None:
        user = DEFAULT_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise UsageError(
            f"no user {user!r} on this machine: run `sudo bash scripts/ci/setup-runner.sh {user}`"
        ) from None
    switch = entry.pw_uid != os.geteuid()
    if switch and os.geteuid() != 0:
        raise UsageError(f"only root can run act as {user!r}; run as {user} or pass --user")
    tool_cache = TOOL_CACHE if TOOL_CACHE.is_dir() else Path(entry.pw_dir) / "hostedtoolcache"
    return Runner(
        user=user,
        home=Path(entry.pw_dir),
        switch_user=switch,
        tool_cache=tool_cache,
        state_dir=state_dir,
    )


@contextmanager
def state_lock(state: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the state folder's lock: one harness run at a time, since every run replaces the
    same clone, stand-ins, runs and act binary. Another run's lock is waited for (said once on
    stdout), or with ``wait=False`` is a ``UsageError`` naming the lock file."""
    state.mkdir(parents=True, exist_ok=True)
    lock = state / LOCK_NAME
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise UsageError(f"{lock}: another workflows run holds it") from None
            print(f"waiting for another workflows run to finish (it holds {lock})", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_binary(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a new file and a rename, so a previous copy that
    is still executing (``Text file busy`` on a plain overwrite) is replaced, not written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    shutil.copy2(source, partial)
    partial.replace(target)


def as_user_prefix(runner: Runner, passed: Sequence[str]) -> list[str]:
    """The command prefix that starts act as ``runner.user`` keeping ``passed`` variables
    (pure). Empty when act already runs as that user."""
    if not runner.switch_user:
        return []
    return ["sudo", "--user", runner.user, "--set-home", f"--preserve-env={','.join(passed)}", "--"]


def act_environment(
    runner: Runner, environ: Mapping[str, str], passed: Sequence[str]
) -> dict[str, str]:
    """act's own process environment: a login-like one for the runner (pure)."""
    kept = {name: environ[name] for name in passed if name in environ}
    return {
        # A login PATH, plus Go, which the ubuntu-24.04 image has on PATH (here: /usr/local/go).
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin",
        "HOME": str(runner.home),
        "USER": runner.user,
        "LANG": environ.get("LANG", "C.UTF-8"),
        **kept,
    }


def give_to(runner: Runner, path: Path) -> None:
    """Make ``path`` (recursively) the runner's, when act runs as another user."""
    if not runner.switch_user:
        return
    entry = pwd.getpwnam(runner.user)
    os.lchown(path, entry.pw_uid, entry.pw_gid)
    for child in path.rglob("*") if path.is_dir() and not path.is_symlink() else ():
        os.lchown(child, entry.pw_uid, entry.pw_gid)


def clone_workspace(source: Path, runner: Runner) -> str:
    """Clone ``source`` (a git checkout) into the runner's workspace with its uncommitted
    changes (tracked and untracked, ignored files left out); return the HEAD commit."""
    git = shutil.which("git")
    if git is None:
        raise ToolMissingError("git not found on PATH: apt-get install git")
    target = runner.workspace
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [git, "clone", "--quiet", "--no-hardlinks", str(source), str(target)], check=True
        )
        head = subprocess.run(
            [git, "-C", str(source), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        changed = subprocess.run(
            [
                git,
                "-C",
                str(source),
                "ls-files",
                "-z",
                "--modified",
                "--others",
                "--exclude-standard",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split("\0")
    except subprocess.CalledProcessError as exc:
        raise UsageError(f"{source}: cannot clone it for the runner ({exc})") from None
    for name in filter(None, changed):
        origin = source / name
        if origin.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / name)
        elif not origin.exists():
            (target / name).unlink(missing_ok=True)
    return head


PLANTER = ("-c", "user.name=vibevoice-ci planted", "-c", "user.email=planted@vibevoice.invalid")


def plant_argv(git: str, workspace: Path, patch: Path, message: str) -> list[list[str]]:
    """The git commands that apply ``patch`` to the index and work tree of ``workspace`` and
    commit the index alone (so the clone's copied uncommitted changes stay uncommitted) (pure).
    ``safe.directory`` lets root run them on the runner's clone; the index's file stats are
    refreshed first (the clone was handed to the runner, which changes them)."""
    base = [git, "-c", f"safe.directory={workspace}", "-C", str(workspace)]
    return [
        [*base, "update-index", "-q", "--refresh"],
        [*base, "apply", "--index", str(patch)],
        [*base, *PLANTER, "commit", "--quiet", "--no-verify", "--message", message],
    ]


def unplant_argv(git: str, workspace: Path, head: str, patch: Path) -> list[list[str]]:
    """The git commands that take a planted commit back out: HEAD back to ``head`` and the
    patch reversed in the index and work tree (pure). The planted commit stays in the clone's
    objects, as a pull request's head stays fetchable on GitHub."""
    base = [git, "-c", f"safe.directory={workspace}", "-C", str(workspace)]
    return [
        [*base, "reset", "--quiet", "--soft", head],
        [*base, "update-index", "-q", "--refresh"],
        [*base, "apply", "--index", "--reverse", str(patch)],
    ]


def _git_steps(steps: Sequence[Sequence[str]], what: str) -> None:
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            command = " ".join(arg for arg in argv[5:] if not arg.startswith("user."))
            raise UsageError(f"{what}: git {command} failed: {' '.join(detail[-2:])}")


@contextmanager
def planted(runner: Runner, head: str, patch: Path) -> Iterator[str]:
    """Commit ``patch`` on top of ``head`` in the runner's clone for the length of the
    ``with``; yield the planted commit's SHA. The clone is back at ``head``, with the same work
    tree, afterwards (also when the run raised)."""
    git = shutil.which("git")
    if git is None:
        raise ToolMissingError("git not found on PATH: apt-get install git")
    workspace = runner.workspace
    message = f"planted: {patch.name}"
    _git_steps(plant_argv(git, workspace, patch, message), f"cannot plant {patch}")
    try:
        sha = subprocess.run(
            [git, "-c", f"safe.directory={workspace}", "-C", str(workspace), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        give_to(runner, workspace)
        yield sha
    finally:
        _git_steps(unplant_argv(git, workspace, head, patch), f"cannot take {patch} back out")
        give_to(runner, workspace)
