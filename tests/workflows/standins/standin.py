"""The stand-ins for the pinned GitHub Actions, when act runs the workflows on this machine.

The real actions reach github.com, ghcr.io, Docker Hub or the Actions service, none of which
answer here (docs/workflows.md, "The workflows executed by act"). `nox -s workflows` writes one
action directory per pinned action, whose ``action.yml`` declares exactly the inputs recorded
from the real file (tests/workflows/action_interfaces.toml) and whose ``main``/``post`` run
this script as ``python3 standin.py <action> <stage>``. Standard library only: it runs on
whatever Python the job has.

What each stand-in does instead of the real thing, with the real action's failure modes:

* ``actions/checkout`` (act itself copies the workspace when a checkout has no ``ref``): clones
  this repository (``$VIBEVOICE_ACT_REPOSITORY``) at ``ref`` into ``path``; another repository
  fails.
* ``actions/setup-python``: the highest matching version from ``$RUNNER_TOOL_CACHE/Python``,
  put on ``$GITHUB_PATH``, as the real action does on a cache hit; no match fails (the real one
  would download; nothing can be downloaded here).
* ``actions/cache`` (+ ``/restore``, ``/save``): archives under ``$VIBEVOICE_ACT_CACHE``, found
  by exact key, then by ``restore-keys`` prefix (newest first), a restored file replacing the
  old one as GNU tar does (unlinked first); saved after the job unless the key hit exactly.
  Past ``$VIBEVOICE_ACT_CACHE_LIMIT`` bytes (GitHub's 10 GB per repository by default) the
  least recently used entries are evicted after a save, as GitHub does.
* ``actions/upload-artifact`` / ``actions/download-artifact``: directories under
  ``$VIBEVOICE_ACT_ARTIFACTS/<run id>/<name>``; another run's artifacts need ``run-id`` and
  ``github-token``, as on GitHub; a name that was not uploaded fails.
* ``docker/login-action``: ``docker login --password-stdin`` to the registry named.
* ``docker/setup-qemu-action``: checks the host's binfmt handlers for the platforms asked.
* ``docker/setup-buildx-action``: creates the job's builder, as the job's user, with the remote
  driver on the host's BuildKit daemon (``$VIBEVOICE_ACT_BUILDKIT``, started by root for the
  run: tests/workflows/release_services.py), and removes it after the job (``cleanup``).
* ``github/codeql-action/upload-sarif``: validates the SARIF (version 2.1.0, runs with tool
  and results) and keeps it beside the run's artifacts, as ``sarif/<category>.sarif``.

Exit codes: 0 done; 1 the action failed (one ``::error::`` line says why).
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path


class ActionFailed(Exception):
    """The stand-in failed as the real action would; the message is its one line."""


# --- the runner's files and inputs ----------------------------------------------------------


def env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ActionFailed(f"${name} is not set: run the workflows through `nox -s workflows`")
    return value


def get_input(name: str, *, required: bool = False) -> str:
    """The input as the Actions toolkit reads it (``INPUT_<NAME>``, spaces to ``_``)."""
    value = os.environ.get("INPUT_" + name.replace(" ", "_").upper(), "").strip()
    if required and not value:
        raise ActionFailed(f"Input required and not supplied: {name}")
    return value


def get_bool(name: str, default: bool) -> bool:
    value = get_input(name).lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise ActionFailed(f"Input does not meet YAML 1.2 Core Schema: {name}={value!r}")
    return value == "true"


def get_lines(name: str) -> list[str]:
    return [line.strip() for line in get_input(name).splitlines() if line.strip()]


def append_file(variable: str, text: str) -> None:
    with Path(env(variable)).open("a", encoding="utf-8") as handle:
        handle.write(text)


def set_output(name: str, value: str) -> None:
    append_file("GITHUB_OUTPUT", f"{name}={value}\n")


def save_state(name: str, value: str) -> None:
    append_file("GITHUB_STATE", f"{name}={value}\n")


def get_state(name: str) -> str:
    return os.environ.get(f"STATE_{name}", "")


def expand(path: str) -> Path:
    """A path input as the toolkit resolves it: ``~`` expanded, relative to the workspace."""
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else Path(env("GITHUB_WORKSPACE")) / expanded


# --- actions/checkout -----------------------------------------------------------------------


def checkout(_stage: str) -> None:
    repository = get_input("repository") or env("GITHUB_REPOSITORY")
    if repository.lower() != env("GITHUB_REPOSITORY").lower():
        raise ActionFailed(f"only this repository can be checked out here, not {repository}")
    ref = get_input("ref") or env("GITHUB_SHA")
    target = expand(get_input("path") or ".")
    source = env("VIBEVOICE_ACT_REPOSITORY")
    if target.exists() and any(target.iterdir()):
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", "advice.detachedHead=false"]
    subprocess.run([*git, "clone", "--quiet", "--no-checkout", source, str(target)], check=True)
    fetched = subprocess.run([*git, "-C", str(target), "checkout", "--quiet", ref], check=False)
    if fetched.returncode != 0:
        raise ActionFailed(f"the ref {ref!r} is not in {repository}")
    if not get_bool("persist-credentials", True):
        print("credentials not persisted (persist-credentials: false)")


# --- actions/setup-python -------------------------------------------------------------------


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def setup_python(_stage: str) -> None:
    wanted = get_input("python-version")
    version_file = get_input("python-version-file")
    if not wanted and version_file:
        wanted = expand(version_file).read_text(encoding="utf-8").split()[0]
    if not wanted:
        raise ActionFailed("no python-version given (the stand-in does not guess one)")
    cache = Path(env("RUNNER_TOOL_CACHE")) / "Python"
    found = sorted(
        (
            entry
            for entry in (cache.iterdir() if cache.is_dir() else [])
            if (entry.name == wanted or entry.name.startswith(wanted + "."))
            and (entry / "x64.complete").is_file()
        ),
        key=lambda entry: _version_key(entry.name),
    )
    if not found:
        raise ActionFailed(
            f"Version {wanted} was not found in the local cache ({cache}); "
            "nothing can be downloaded here"
        )
    location = found[-1] / "x64"
    append_file("GITHUB_PATH", f"{location}\n{location / 'bin'}\n")
    if get_bool("update-environment", True):
        append_file(
            "GITHUB_ENV",
            f"pythonLocation={location}\nPython_ROOT_DIR={location}\n"
            f"Python3_ROOT_DIR={location}\nPKG_CONFIG_PATH={location / 'lib' / 'pkgconfig'}\n",
        )
    set_output("python-version", found[-1].name)
    set_output("python-path", str(location / "bin" / "python"))
    print(f"Successfully set up CPython ({found[-1].name}) from the tool cache")


# --- actions/cache --------------------------------------------------------------------------


def _cache_dir() -> Path:
    return Path(env("VIBEVOICE_ACT_CACHE"))


# The archive folder that stands for the job's workspace: actions/cache archives paths relative
# to $GITHUB_WORKSPACE (its tar runs in it), so an entry a job saved from its workspace restores
# into another job's workspace. act gives each run a workspace folder of its own here.
WORKSPACE_MEMBER = "@workspace"


def _member_name(path: Path) -> str:
    workspace = Path(env("GITHUB_WORKSPACE"))
    if path == workspace or workspace in path.parents:
        return str(Path(WORKSPACE_MEMBER) / path.relative_to(workspace))
    return str(path).lstrip("/")


def _restored_name(name: str) -> str:
    if name == WORKSPACE_MEMBER or name.startswith(WORKSPACE_MEMBER + "/"):
        return env("GITHUB_WORKSPACE").lstrip("/") + name.removeprefix(WORKSPACE_MEMBER)
    return name


def _archive(key: str) -> Path:
    return _cache_dir() / (re.sub(r"[^A-Za-z0-9._-]", "_", key) + ".tar")


def _cache_paths() -> list[str]:
    paths = get_lines("path")
    if not paths:
        raise ActionFailed("Input required and not supplied: path")
    return paths


def cache_restore(_stage: str) -> None:
    key = get_input("key", required=True)
    _cache_paths()
    candidates = [_archive(key)] if _archive(key).is_file() else []
    for prefix in get_lines("restore-keys"):
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", prefix)
        matches = sorted(
            _cache_dir().glob(glob.escape(stem) + "*.tar"),
            key=lambda path: path.stat().st_mtime,
            reverse=True,
        )
        candidates.extend(matches[:1])
    save_state("CACHE_KEY", key)
    set_output("cache-primary-key", key)
    if not candidates:
        if get_bool("fail-on-cache-miss", False):
            raise ActionFailed(
                "Failed to restore cache entry. Exiting as fail-on-cache-miss is set. "
                f"Input key: {key}"
            )
        set_output("cache-hit", "false")
        print(f"Cache not found for input keys: {key}")
        return
    chosen = candidates[0]
    exact = chosen == _archive(key)
    # Last use is the access time (set here, whatever the mount's atime policy); the
    # modification time stays the creation time that restore-keys order by.
    os.utime(chosen, (time.time(), chosen.stat().st_mtime))
    if not get_bool("lookup-only", False):
        with tarfile.open(chosen) as archive:
            members = archive.getmembers()
            for member in members:
                member.name = _restored_name(member.name)
                _unlink_old(Path("/", member.name), member)
            # Archives this stand-in wrote itself, of the job's own paths.
            archive.extractall("/", members=members, filter="fully_trusted")  # noqa: S202
    matched = chosen.name.removesuffix(".tar")
    save_state("CACHE_RESULT", matched)
    set_output("cache-hit", "true" if exact else "false")
    set_output("cache-matched-key", matched)
    print(f"Cache restored from key: {matched}")


def _unlink_old(target: Path, member: tarfile.TarInfo) -> None:
    """Remove a file the member replaces before it is written, as GNU tar (the real
    action's) does: a program still running from the old file (another job on this machine
    executing a cached tool) then keeps its copy, where writing over it fails with "Text file
    busy". Folders are merged, never removed."""
    if member.isdir() or (target.is_dir() and not target.is_symlink()):
        return
    if target.is_symlink() or target.exists():
        target.unlink()


def cache_save(stage: str) -> None:
    key = get_input("key", required=True) if stage != "post" else get_state("CACHE_KEY")
    if stage == "post" and (not key or get_state("CACHE_RESULT") == _archive(key).stem):
        print("Cache hit occurred on the primary key, not saving cache." if key else "")
        return
    target = _archive(key)
    if target.is_file():
        print(f"Cache with key {key} already exists, not saving.")
        return
    members = [expand(path) for path in _cache_paths()]
    present = [path for path in members if path.exists()]
    if not present:
        print(f"::warning::Path Validation Error: no path of {[str(p) for p in members]} exists")
        return
    _cache_dir().mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w") as archive:
        for path in present:
            archive.add(path, arcname=_member_name(path))
    partial.replace(target)
    print(f"Cache saved with key: {key}")
    for evicted in evict_least_recently_used(_cache_dir(), _cache_limit()):
        print(f"Cache entry {evicted.stem} evicted: the entries passed {_cache_limit()} bytes")


DEFAULT_CACHE_LIMIT = 10 * 1000**3  # GitHub's default cache size per repository


def _cache_limit() -> int:
    text = os.environ.get("VIBEVOICE_ACT_CACHE_LIMIT", "")
    try:
        return int(text) if text else DEFAULT_CACHE_LIMIT
    except ValueError:
        raise ActionFailed(f"VIBEVOICE_ACT_CACHE_LIMIT={text!r} is not a number of bytes") from None


def evict_least_recently_used(folder: Path, limit: int) -> list[Path]:
    """Remove the least recently used archives (oldest access time first) until the rest fit in
    ``limit`` bytes; the newest one stays even if it alone is larger."""
    archives = sorted(folder.glob("*.tar"), key=lambda path: path.stat().st_atime)
    total = sum(path.stat().st_size for path in archives)
    evicted: list[Path] = []
    for archive in archives[:-1]:
        if total <= limit:
            break
        total -= archive.stat().st_size
        archive.unlink()
        evicted.append(archive)
    return evicted


# --- actions/upload-artifact, actions/download-artifact ---------------------------------------


def _artifacts(run_id: str) -> Path:
    return Path(env("VIBEVOICE_ACT_ARTIFACTS")) / run_id


def upload_artifact(_stage: str) -> None:
    name = get_input("name") or "artifact"
    patterns = get_lines("path")
    if not patterns:
        raise ActionFailed("Input required and not supplied: path")
    hidden = get_bool("include-hidden-files", False)
    files: list[Path] = []
    for pattern in patterns:
        matches = glob.glob(str(expand(pattern)), recursive=True, include_hidden=hidden)  # noqa: PTH207
        for match in matches:
            root = Path(match)
            found = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
            files.extend(
                p
                for p in found
                if hidden
                or not any(part.startswith(".") for part in p.relative_to(root.parent).parts)
            )
    if not files:
        mode = get_input("if-no-files-found") or "warn"
        message = (
            f"No files were found with the provided path: {' '.join(patterns)}. "
            "No artifacts will be uploaded."
        )
        if mode == "error":
            raise ActionFailed(message)
        print(f"::warning::{message}" if mode == "warn" else message)
        return
    destination = _artifacts(env("GITHUB_RUN_ID")) / name
    if destination.exists():
        if not get_bool("overwrite", False):
            raise ActionFailed(
                "Failed to CreateArtifact: an artifact with this name already exists "
                f"on the workflow run: {name}"
            )
        shutil.rmtree(destination)
    root = Path(os.path.commonpath([str(path.parent) for path in files]))
    for path in files:
        target = destination / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    print(f"Artifact {name} has been successfully uploaded ({len(files)} files)")
    set_output("artifact-id", str(abs(hash(str(destination))) % 10**9))


def download_artifact(_stage: str) -> None:
    run_id = get_input("run-id")
    if run_id and not get_input("github-token"):
        raise ActionFailed(
            "a run-id needs github-token: another run's artifacts are read through the API"
        )
    source = _artifacts(run_id or env("GITHUB_RUN_ID"))
    names = sorted(path.name for path in source.iterdir()) if source.is_dir() else []
    name, pattern = get_input("name"), get_input("pattern")
    if name:
        if name not in names:
            raise ActionFailed(
                f"Artifact not found for name: {name} (this run has: {', '.join(names) or 'none'})"
            )
        chosen, nested = [name], False
    else:
        chosen = [n for n in names if not pattern or fnmatch.fnmatchcase(n, pattern)]
        nested = not get_bool("merge-multiple", False)
    target = expand(get_input("path") or ".")
    for artifact in chosen:
        shutil.copytree(
            source / artifact, target / artifact if nested else target, dirs_exist_ok=True
        )
    print(f"Downloaded {len(chosen)} artifact(s) to {target}: {', '.join(chosen) or 'none'}")
    set_output("download-path", str(target))


# --- docker/login-action, setup-qemu-action, setup-buildx-action ------------------------------


def login(stage: str) -> None:
    registry = get_input("registry") or "docker.io"
    if stage == "post":
        if get_bool("logout", True):
            subprocess.run(["docker", "logout", registry], check=False, capture_output=True)
        return
    username, password = get_input("username"), get_input("password")
    if not username or not password:
        raise ActionFailed("Username and password required")
    result = subprocess.run(
        ["docker", "login", "--username", username, "--password-stdin", registry],
        input=password,
        text=True,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise ActionFailed(f"login to {registry} failed: {result.stderr.strip().splitlines()[-1:]}")
    print(f"Login Succeeded ({registry})")


def setup_qemu(_stage: str) -> None:
    wanted = [p.strip() for p in (get_input("platforms") or "all").split(",") if p.strip()]
    handlers = Path("/proc/sys/fs/binfmt_misc")
    present = sorted(p.name.removeprefix("qemu-") for p in handlers.glob("qemu-*"))
    arch = {"linux/arm64": "aarch64", "arm64": "aarch64", "linux/amd64": "x86_64"}
    missing = [
        p
        for p in wanted
        if p != "all" and arch.get(p, p) not in present and arch.get(p) != "x86_64"
    ]
    if not present or missing:
        raise ActionFailed(
            f"no QEMU binfmt handler for {missing or wanted} on this host (found: {present})"
        )
    set_output("platforms", ",".join(f"linux/{name}" for name in present))
    print(f"QEMU emulators registered on the host: {', '.join(present)}")


def setup_buildx(stage: str) -> None:
    """As the real action does with its default cleanup, but with the remote driver on the
    host's BuildKit daemon (``$VIBEVOICE_ACT_BUILDKIT``, started by root for the harness run)
    instead of a docker-container builder whose image would come from Docker Hub: the builder
    is created as the job's user, checked to answer, used, and removed after the job."""
    if stage == "post":
        name = get_state("BUILDER")
        if name and get_state("CLEANUP") == "true":
            subprocess.run(["docker", "buildx", "rm", name], check=False, capture_output=True)
            print(f"Removed builder {name}")
        return
    address = env("VIBEVOICE_ACT_BUILDKIT")
    driver = get_input("driver") or "docker-container"
    if driver not in ("docker-container", "remote"):
        raise ActionFailed(f"driver {driver!r} is not served here (docker-container or remote)")
    name = get_input("name") or f"builder-{os.urandom(8).hex()}"
    create = ["docker", "buildx", "create", "--name", name, "--driver", "remote"]
    if get_bool("use", True):
        create.append("--use")
    steps = [
        [*create, address],
        ["docker", "buildx", "inspect", "--bootstrap", name],
    ]
    save_state("BUILDER", name)
    save_state("CLEANUP", "true" if get_bool("cleanup", True) else "false")
    output = ""
    for argv in steps:
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise ActionFailed(f"{' '.join(argv[:4])} failed: {last}")
        output = result.stdout
    platforms = next(
        (
            line.split(":", 1)[1].strip()
            for line in output.splitlines()
            if line.startswith("Platforms:")
        ),
        "",
    )
    set_output("name", name)
    set_output("driver", "remote")
    set_output("platforms", platforms.replace(" ", ""))
    set_output("endpoint", address)
    print(f"Builder {name} (remote driver) on the host's BuildKit {address}: {platforms}")


# --- github/codeql-action/upload-sarif --------------------------------------------------------


def upload_sarif(_stage: str) -> None:
    source = expand(get_input("sarif_file") or "../results")
    files = sorted(source.rglob("*.sarif")) if source.is_dir() else [source]
    if not files or not all(path.is_file() for path in files):
        raise ActionFailed(f"Path does not exist: {source}")
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ActionFailed(f"Invalid SARIF. JSON syntax error in {path.name}: {exc}") from None
        runs = document.get("runs") if isinstance(document, dict) else None
        if document.get("version") != "2.1.0" or not isinstance(runs, list) or not runs:
            raise ActionFailed(
                f"Invalid SARIF in {path.name}: version 2.1.0 with a list of runs expected"
            )
        for run in runs:
            if "tool" not in run or not isinstance(run.get("results", []), list):
                raise ActionFailed(f"Invalid SARIF in {path.name}: a run without tool or results")
    category = re.sub(r"[^A-Za-z0-9._-]", "_", get_input("category") or "default")
    target = _artifacts(env("GITHUB_RUN_ID")).parent / "sarif" / env("GITHUB_RUN_ID")
    target.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(files):
        shutil.copy2(path, target / f"{category}-{index}.sarif")
    set_output("sarif-id", f"{env('GITHUB_RUN_ID')}-{category}")
    print(f"Validated and kept {len(files)} SARIF file(s) as category {category}")


ACTIONS: dict[str, Callable[[str], None]] = {
    "actions/checkout": checkout,
    "actions/setup-python": setup_python,
    "actions/cache": lambda stage: cache_save(stage) if stage == "post" else cache_restore(stage),
    "actions/cache/restore": cache_restore,
    "actions/cache/save": cache_save,
    "actions/upload-artifact": upload_artifact,
    "actions/download-artifact": download_artifact,
    "docker/login-action": login,
    "docker/setup-qemu-action": setup_qemu,
    "docker/setup-buildx-action": setup_buildx,
    "github/codeql-action/upload-sarif": upload_sarif,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ACTIONS or argv[1] not in ("main", "post"):
        print(f"usage: standin.py {{{'|'.join(ACTIONS)}}} main|post", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        ACTIONS[argv[0]](argv[1])
    except ActionFailed as exc:
        print(f"::error::{argv[0]} (stand-in): {exc}")
        return 1
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"::error::{argv[0]} (stand-in): {exc}")
        return 1
    print(f"({argv[0]} stand-in, {time.monotonic() - started:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
