"""The default cache folder is one its user can create: /var/cache/vibevoice-ci for root,
the user's own cache folder for anyone else (GitHub's `runner` user is not root, and trivy's
database download into a folder it cannot create left the vulnerability part UNKNOWN)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from vibevoice_ci.core.environment import DEFAULT_CACHE_DIR, RunEnvironment
from vibevoice_ci.trivy.session import db_cache_dir

SRC = Path(__file__).resolve().parents[4] / "src"
NOBODY = 65534


def test_root_keeps_the_machine_wide_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert RunEnvironment().cache_root == DEFAULT_CACHE_DIR


def test_another_user_gets_a_folder_of_their_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1001)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert RunEnvironment().cache_root == tmp_path / "home" / ".cache" / "vibevoice-ci"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert RunEnvironment().cache_root == tmp_path / "xdg" / "vibevoice-ci"


def test_vibevoice_cache_dir_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1001)
    assert RunEnvironment(cache_dir=tmp_path).cache_root == tmp_path


# What the trivy session does first with the default: create its database folder (argv[1]:
# db_cache_dir's folder relative to the cache root). Only core.environment is imported, which
# needs nothing but the standard library, so any python3 of a supported version can run it
# with src/ alone on its path (the venv's compiled dependencies may be for another Python).
CREATE_TRIVY_CACHE = """
import sys
from vibevoice_ci.core.environment import RunEnvironment
folder = RunEnvironment().cache_root / sys.argv[1]
folder.mkdir(parents=True, exist_ok=True)
(folder / "probe").write_text("ok")
print(folder)
"""
TRIVY_FOLDER = str(db_cache_dir(Path(), ""))


def test_a_user_who_is_not_root_can_create_the_default_trivy_cache() -> None:
    """For real, as a user who is not root: this process's own user, or (when the tests run
    as root, as in .ci/run) `nobody`, with a home of its own, through Debian's python3."""
    if os.geteuid() != 0:
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "HOME": home}
            env.pop("XDG_CACHE_HOME", None)
            completed = subprocess.run(
                ["python3", "-c", CREATE_TRIVY_CACHE, TRIVY_FOLDER],
                env={**env, "PYTHONPATH": str(SRC)},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert completed.returncode == 0, completed.stderr
            assert completed.stdout.strip().startswith(home)
        return
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("no /usr/bin/python3 that the user nobody may run")
    home = Path(tempfile.mkdtemp(prefix="vibevoice-nobody-"))
    try:
        os.chown(home, NOBODY, NOBODY)
        completed = subprocess.run(
            [python, "-c", CREATE_TRIVY_CACHE, TRIVY_FOLDER],
            env={"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
            user=NOBODY,
            group=NOBODY,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        assert completed.stdout.strip() == str(db_cache_dir(home / ".cache" / "vibevoice-ci", ""))
    finally:
        shutil.rmtree(home, ignore_errors=True)
