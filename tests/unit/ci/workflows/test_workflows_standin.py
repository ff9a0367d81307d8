"""The stand-in script (tests/workflows/standins/standin.py), run as act runs it: a separate
``python3 standin.py <action> <stage>`` with the runner's files (``$GITHUB_OUTPUT``,
``$GITHUB_ENV``, ``$GITHUB_PATH``, ``$GITHUB_STATE``), its workspace and its inputs as
``INPUT_<NAME>`` variables. Real files, real tar archives, a real git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[4] / "tests" / "workflows" / "standins" / "standin.py"


@dataclass
class Job:
    """One job's runner files, shared by the steps run in it."""

    root: Path
    run_id: str = "1001"
    extra: dict[str, str] = field(default_factory=dict)  # more of the job's environment
    cache: Path | None = None  # the cache stand-in's archives (default: root/cache)
    cache_limit: str | None = None  # $VIBEVOICE_ACT_CACHE_LIMIT (default: GitHub's 10 GB)

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    def file(self, variable: str) -> Path:
        return self.root / "files" / variable.lower()

    def environ(self, inputs: dict[str, str], state: dict[str, str]) -> dict[str, str]:
        environ = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.root / "home"),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": "owner/project",
            "GITHUB_RUN_ID": self.run_id,
            "RUNNER_TOOL_CACHE": str(self.root / "toolcache"),
            "VIBEVOICE_ACT_ARTIFACTS": str(self.root / "artifacts"),
            "VIBEVOICE_ACT_CACHE": str(self.cache or self.root / "cache"),
            "VIBEVOICE_ACT_REPOSITORY": str(self.root / "origin"),
        }
        if self.cache_limit is not None:
            environ["VIBEVOICE_ACT_CACHE_LIMIT"] = self.cache_limit
        for variable in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
            environ[variable] = str(self.file(variable))
        environ |= self.extra
        environ |= {
            "INPUT_" + name.replace(" ", "_").upper(): value for name, value in inputs.items()
        }
        environ |= {f"STATE_{name}": value for name, value in state.items()}
        return environ

    def run(
        self,
        action: str,
        stage: str = "main",
        state: dict[str, str] | None = None,
        raw: dict[str, str] | None = None,
        **inputs: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``action``; a keyword input's ``_`` reads as ``-``, ``raw`` inputs as given."""
        for variable in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
            self.file(variable).write_text("", encoding="utf-8")
        return subprocess.run(
            [sys.executable, str(SCRIPT), action, stage],
            env=self.environ(
                {k.replace("_", "-"): v for k, v in inputs.items()} | (raw or {}), state or {}
            ),
            cwd=self.workspace,
            capture_output=True,
            text=True,
            check=False,
        )

    def values(self, variable: str) -> dict[str, str]:
        text = self.file(variable).read_text(encoding="utf-8")
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.fixture
def job(tmp_path: Path) -> Job:
    made = Job(tmp_path)
    for folder in ("workspace", "files", "home"):
        (tmp_path / folder).mkdir()
    return made


def _error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("::error::")]
    return line


# --- actions/cache ----------------------------------------------------------------------------


def test_cache_restore_by_exact_key_then_post_save_is_skipped(job: Job) -> None:
    cached = job.workspace / "deps"
    cached.mkdir()
    (cached / "wheel.txt").write_text("v1", encoding="utf-8")
    first = job.run("actions/cache", path=str(cached), key="Linux-lint-abc")
    assert first.returncode == 0, first.stdout
    assert job.values("GITHUB_OUTPUT")["cache-hit"] == "false"
    saved = job.run("actions/cache", "post", state=job.values("GITHUB_STATE"), path=str(cached))
    assert "Cache saved with key: Linux-lint-abc" in saved.stdout
    (cached / "wheel.txt").unlink()

    hit = job.run("actions/cache", path=str(cached), key="Linux-lint-abc")
    assert hit.returncode == 0
    assert job.values("GITHUB_OUTPUT")["cache-hit"] == "true"
    assert (cached / "wheel.txt").read_text(encoding="utf-8") == "v1"
    post = job.run("actions/cache", "post", state=job.values("GITHUB_STATE"), path=str(cached))
    assert "Cache hit occurred on the primary key, not saving cache." in post.stdout
    assert sorted(p.name for p in (job.root / "cache").iterdir()) == ["Linux-lint-abc.tar"]


def test_cache_restore_replaces_a_file_a_running_program_executes(job: Job) -> None:
    """Another job on the machine may be running a tool from the cached folder (the runner's
    home is shared here): the restore replaces the file, as GNU tar does, instead of failing
    with "Text file busy"; the running program keeps its copy."""
    cached = job.workspace / "tools"
    cached.mkdir()
    sleeper = cached / "sleeper"
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", sleeper)
    saved = job.run("actions/cache/save", path=str(cached), key="Linux-tools-1")
    assert saved.returncode == 0, saved.stdout + saved.stderr
    sleeper.unlink()
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", sleeper)
    running = subprocess.Popen([str(sleeper), "30"])
    try:
        restored = job.run("actions/cache", path=str(cached), key="Linux-tools-1")
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert job.values("GITHUB_OUTPUT")["cache-hit"] == "true"
        assert running.poll() is None  # still running, from the old file
        assert os.access(sleeper, os.X_OK)
    finally:
        running.kill()
        running.wait()


def test_cache_restore_by_a_restore_keys_prefix_then_saves_the_new_key(job: Job) -> None:
    cached = job.workspace / "deps"
    cached.mkdir()
    (cached / "old.txt").write_text("old", encoding="utf-8")
    job.run("actions/cache/save", path=str(cached), key="Linux-lint-old")
    (cached / "old.txt").unlink()
    restored = job.run(
        "actions/cache", path=str(cached), key="Linux-lint-new", restore_keys="Linux-lint-\n"
    )
    assert restored.returncode == 0, restored.stdout
    outputs = job.values("GITHUB_OUTPUT")
    assert (outputs["cache-hit"], outputs["cache-matched-key"]) == ("false", "Linux-lint-old")
    assert (cached / "old.txt").is_file()
    post = job.run("actions/cache", "post", state=job.values("GITHUB_STATE"), path=str(cached))
    assert "Cache saved with key: Linux-lint-new" in post.stdout


def test_a_workspace_path_restores_into_another_jobs_workspace(job: Job) -> None:
    # act gives each run a workspace of its own; actions/cache archives workspace paths
    # relative to it, so main's saved .perf-state restores into a pull request's workspace.
    state = job.workspace / ".perf-state"
    state.mkdir()
    (state / "baseline.json").write_text("{}", encoding="utf-8")
    job.run("actions/cache/save", path=".perf-state", key="perf-state-main-1001")
    later = Job(job.root / "later", run_id="1002", cache=job.root / "cache")
    for folder in ("workspace", "files", "home"):
        (later.root / folder).mkdir(parents=True)
    restored = later.run(
        "actions/cache/restore",
        path=".perf-state",
        key="perf-state-main-1002",
        restore_keys="perf-state-main-\n",
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert later.values("GITHUB_OUTPUT")["cache-matched-key"] == "perf-state-main-1001"
    assert (later.workspace / ".perf-state" / "baseline.json").read_text(encoding="utf-8") == "{}"


def test_past_the_limit_the_least_recently_used_entries_are_evicted(job: Job) -> None:
    # Three 51 kB archives (40 kB and tar's padding) fit in 160 kB; a fourth does not. The
    # oldest entry was restored since, so the least recently used is the second one saved.
    job.cache_limit = "160000"
    cached = job.workspace / "deps"
    cached.mkdir()
    (cached / "blob").write_bytes(os.urandom(40_000))
    for key in ("Linux-a", "Linux-b", "Linux-c"):
        assert job.run("actions/cache/save", path="deps", key=key).returncode == 0
    restored = job.run("actions/cache/restore", path="deps", key="Linux-a")
    assert job.values("GITHUB_OUTPUT")["cache-hit"] == "true", restored.stdout
    saved = job.run("actions/cache/save", path="deps", key="Linux-d")
    assert "Cache entry Linux-b evicted" in saved.stdout
    assert sorted(p.stem for p in (job.root / "cache").glob("*.tar")) == [
        "Linux-a",
        "Linux-c",
        "Linux-d",
    ]


def test_a_cache_limit_that_is_not_a_number_fails_the_save(job: Job) -> None:
    (job.workspace / "deps").mkdir()
    (job.workspace / "deps" / "f").write_text("x", encoding="utf-8")
    job.cache_limit = "ten gigabytes"
    result = job.run("actions/cache/save", path="deps", key="k")
    assert "'ten gigabytes' is not a number of bytes" in _error(result)


def test_cache_miss_with_fail_on_cache_miss(job: Job) -> None:
    result = job.run("actions/cache/restore", path="x", key="k", fail_on_cache_miss="true")
    assert "Failed to restore cache entry" in _error(result)


# --- actions/upload-artifact, actions/download-artifact ---------------------------------------


def _report(job: Job, name: str, text: str) -> None:
    path = job.workspace / "reports" / name / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_upload_then_download_by_name_and_by_pattern(job: Job) -> None:
    _report(job, "build", '{"digest": "sha256:1"}')
    _report(job, "lint", "{}")
    for name in ("build", "lint"):
        uploaded = job.run(
            "actions/upload-artifact", name=f"reports-{name}", path=f"reports/{name}/"
        )
        assert uploaded.returncode == 0, uploaded.stdout
    by_name = job.run("actions/download-artifact", name="reports-build", path="got")
    assert by_name.returncode == 0, by_name.stdout
    assert json.loads((job.workspace / "got" / "build.json").read_text()) == {"digest": "sha256:1"}
    by_pattern = job.run("actions/download-artifact", pattern="reports-*", path="all")
    assert by_pattern.returncode == 0
    assert (job.workspace / "all" / "reports-build" / "build.json").is_file()
    assert (job.workspace / "all" / "reports-lint" / "lint.json").is_file()


def test_download_of_a_name_that_was_not_uploaded_fails(job: Job) -> None:
    """The planted class "the artifact's name differs between ci-build-push and ci-smoke-test":
    the build uploads one name, the smoke test downloads another, from the build's run."""
    _report(job, "build", "{}")
    job.run("actions/upload-artifact", name="build-metadata", path="reports/build/")
    smoke = Job(job.root, run_id="1002")
    result = smoke.run(
        "actions/download-artifact",
        name="build-meta",
        run_id="1001",
        github_token="t",  # noqa: S106 (a stand-in token)
    )
    assert _error(result) == (
        "::error::actions/download-artifact (stand-in): Artifact not found for name: build-meta "
        "(this run has: build-metadata)"
    )


def test_download_from_another_run_needs_a_token(job: Job) -> None:
    result = job.run("actions/download-artifact", name="build-metadata", run_id="1001")
    assert "a run-id needs github-token" in _error(result)


def test_a_second_upload_of_the_same_name_fails(job: Job) -> None:
    _report(job, "lint", "{}")
    job.run("actions/upload-artifact", name="reports-lint", path="reports/lint/")
    again = job.run("actions/upload-artifact", name="reports-lint", path="reports/lint/")
    assert "an artifact with this name already exists" in _error(again)


# --- actions/setup-python ---------------------------------------------------------------------


def _python(job: Job, version: str, complete: bool = True) -> Path:
    folder = job.root / "toolcache" / "Python" / version
    (folder / "x64" / "bin").mkdir(parents=True)
    if complete:
        (folder / "x64.complete").write_text("", encoding="utf-8")
    return folder / "x64"


def test_setup_python_takes_the_highest_matching_version(job: Job) -> None:
    _python(job, "3.11.2")
    newest = _python(job, "3.11.10")
    _python(job, "3.11.12", complete=False)
    _python(job, "3.12.1")
    result = job.run("actions/setup-python", python_version="3.11")
    assert result.returncode == 0, result.stdout
    assert job.values("GITHUB_OUTPUT")["python-version"] == "3.11.10"
    assert job.file("GITHUB_PATH").read_text().splitlines() == [str(newest), str(newest / "bin")]
    assert job.values("GITHUB_ENV")["pythonLocation"] == str(newest)


def test_setup_python_without_a_match_fails_with_one_line(job: Job) -> None:
    _python(job, "3.12.1")
    line = _error(job.run("actions/setup-python", python_version="3.1"))
    assert "Version 3.1 was not found in the local cache" in line


# --- docker/setup-buildx-action ---------------------------------------------------------------

FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$DOCKER_CALLS"
case "$2" in
  inspect) printf 'Name: %s\\nPlatforms: linux/amd64, linux/arm64\\n' "$4" ;;
esac
"""


def _fake_docker(job: Job) -> Path:
    bin_dir = job.root / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER, encoding="utf-8")
    (bin_dir / "docker").chmod(0o755)
    calls = job.root / "docker-calls"
    job.extra |= {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "DOCKER_CALLS": str(calls),
        "VIBEVOICE_ACT_BUILDKIT": "unix:///run/buildkit/buildkitd.sock",
    }
    return calls


def test_setup_buildx_creates_a_remote_builder_on_the_hosts_buildkit_and_removes_it(
    job: Job,
) -> None:
    calls = _fake_docker(job)
    result = job.run("docker/setup-buildx-action", cache_binary="false")
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = job.values("GITHUB_OUTPUT")
    name = outputs["name"]
    assert name.startswith("builder-")
    assert outputs["driver"] == "remote"
    assert outputs["platforms"] == "linux/amd64,linux/arm64"
    created, inspected = calls.read_text(encoding="utf-8").splitlines()
    assert created == (
        f"buildx create --name {name} --driver remote --use unix:///run/buildkit/buildkitd.sock"
    )
    assert inspected == f"buildx inspect --bootstrap {name}"
    post = job.run("docker/setup-buildx-action", "post", state=job.values("GITHUB_STATE"))
    assert post.returncode == 0, post.stdout
    assert calls.read_text(encoding="utf-8").splitlines()[-1] == f"buildx rm {name}"


def test_setup_buildx_keeps_the_builder_without_cleanup(job: Job) -> None:
    calls = _fake_docker(job)
    assert job.run("docker/setup-buildx-action", name="b", cleanup="false").returncode == 0
    post = job.run("docker/setup-buildx-action", "post", state=job.values("GITHUB_STATE"))
    assert post.returncode == 0
    assert not any("rm" in line for line in calls.read_text(encoding="utf-8").splitlines())


def test_setup_buildx_without_the_hosts_buildkit_fails_with_one_line(job: Job) -> None:
    _fake_docker(job)
    del job.extra["VIBEVOICE_ACT_BUILDKIT"]
    line = _error(job.run("docker/setup-buildx-action"))
    assert "$VIBEVOICE_ACT_BUILDKIT is not set" in line


def test_setup_buildx_refuses_a_driver_it_cannot_serve(job: Job) -> None:
    _fake_docker(job)
    line = _error(job.run("docker/setup-buildx-action", driver="kubernetes"))
    assert "driver 'kubernetes' is not served here" in line


# --- github/codeql-action/upload-sarif --------------------------------------------------------


def _sarif(job: Job, version: str) -> None:
    document = {"version": version, "runs": [{"tool": {"driver": {"name": "t"}}, "results": []}]}
    (job.workspace / "scan.sarif").write_text(json.dumps(document), encoding="utf-8")


def test_upload_sarif_keeps_a_valid_2_1_0_file(job: Job) -> None:
    _sarif(job, "2.1.0")
    result = job.run(
        "github/codeql-action/upload-sarif", raw={"sarif_file": "scan.sarif"}, category="deps"
    )
    assert result.returncode == 0, result.stdout
    assert (job.root / "artifacts" / "sarif" / "1001" / "deps-0.sarif").is_file()


def test_upload_sarif_rejects_another_version(job: Job) -> None:
    _sarif(job, "2.0.0")
    line = _error(job.run("github/codeql-action/upload-sarif", raw={"sarif_file": "scan.sarif"}))
    assert "Invalid SARIF in scan.sarif: version 2.1.0" in line


# --- inputs, checkout, usage ------------------------------------------------------------------


def test_a_missing_required_input(job: Job) -> None:
    line = _error(job.run("actions/cache/save", path="x"))
    assert line.endswith("Input required and not supplied: key")


def test_checkout_of_a_ref_clones_this_repository_at_it(job: Job) -> None:
    origin = job.root / "origin"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(origin)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    (origin / "f.txt").write_text("one", encoding="utf-8")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    first = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    (origin / "f.txt").write_text("two", encoding="utf-8")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    result = job.run("actions/checkout", ref=first, path="src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (job.workspace / "src" / "f.txt").read_text(encoding="utf-8") == "one"
    other = job.run("actions/checkout", repository="someone/else")
    assert "only this repository can be checked out here" in _error(other)


def test_an_unknown_action_is_a_usage_error(job: Job) -> None:
    assert job.run("actions/unknown").returncode == 2
