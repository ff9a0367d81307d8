"""Every command that reads a JSON document a user or an earlier session hands it (a release
file, a smoke or trivy report, a status document) answers a malformed one with exit 2 and one
line on stderr, never a traceback: arbitrary JSON of the wrong shape, bytes that are not JSON,
a release with keys taken out. So does the helm session on a Kubernetes version its bundled
schemas do not cover.

The commands run in-process (``cli.main``), in a scratch copy of the project, with no Docker
CLI: a document the model accepted would go on to need tools, so such examples are skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from release_helpers import released_image, write_release

from vibevoice_ci.build.reports import Release
from vibevoice_ci.cli import main
from vibevoice_ci.core.errors import EXIT_BAD_INPUT
from vibevoice_ci.helm import schema
from vibevoice_ci.report.expect import STATUS_DOCUMENTS
from vibevoice_ci.smoke.reports import SmokeReport
from vibevoice_ci.trivy.reports import TrivyReport

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch project (the real pyproject.toml) as the working directory, without docker."""
    root = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    write_release(root / "good-release.json", released_image("tts"))
    before, docker = Path.cwd(), os.environ.get("VIBEVOICE_DOCKER")
    os.chdir(root)
    os.environ["VIBEVOICE_DOCKER"] = "/nonexistent/docker"
    yield root
    os.chdir(before)
    if docker is None:
        del os.environ["VIBEVOICE_DOCKER"]
    else:
        os.environ["VIBEVOICE_DOCKER"] = docker


def run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def assert_one_line_exit_2(code: int, stderr: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if not line.startswith("[vibevoice-ci] ")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert code == EXIT_BAD_INPUT, stderr


# The commands, each with the file it reads (named as its reader expects) and the model that
# file is read as: ``argv(path)`` runs the command on that file.
Reader = tuple[str, Callable[[str], list[str]], type[BaseModel]]
READERS: dict[str, Reader] = {
    "smoke --release": ("release.json", lambda f: ["smoke", "--release", f], Release),
    "promote --release": (
        "release.json",
        lambda f: ["promote", "--release", f, "--smoke", "smoke.json"],
        Release,
    ),
    "promote --smoke": (
        "smoke.json",
        lambda f: ["promote", "--release", "good-release.json", "--smoke", f],
        SmokeReport,
    ),
    "perf --release": ("release.json", lambda f: ["perf", "--release", f], Release),
    "sign --release": ("release.json", lambda f: ["sign", "--release", f], Release),
    "trivy --release": ("release.json", lambda f: ["trivy", "--release", f], Release),
    "trivy-expect --report": (
        "trivy.json",
        lambda f: ["trivy-expect", "--part", "status", "--status", "pass", "--report", f],
        TrivyReport,
    ),
    **{
        f"expect-status {name}": (
            name,
            lambda f: ["expect-status", "--report", f, "--status", "pass"],
            model,
        )
        for name, model in STATUS_DOCUMENTS.items()
    },
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a JSON document (object keys and list indices)."""
    if isinstance(document, dict):
        items: list[tuple[Any, Any]] = list(document.items())
    elif isinstance(document, list):
        items = list(enumerate(document))
    else:
        return []
    return [p for key, value in items for p in [(*prefix, key), *_paths(value, (*prefix, key))]]


def _without(document: Any, path: tuple[Any, ...]) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return copy


def _release_document() -> Any:
    from release_helpers import release

    return release(released_image("tts"), released_image("agent")).model_dump(mode="json")


@st.composite
def releases_missing_keys(draw: st.DrawFn) -> bytes:
    document = _release_document()
    paths = _paths(document)
    chosen = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True))
    for path in sorted(chosen, key=len, reverse=True):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            document = _without(document, path)
    return json.dumps(document).encode()


malformed = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.text(max_size=40).map(str.encode),
    releases_missing_keys(),
)


def _refused(content: bytes, model: type[BaseModel]) -> bool:
    try:
        model.model_validate_json(content)
    except ValidationError:
        return True
    return False


@pytest.mark.parametrize("reader", sorted(READERS))
@given(content=malformed)
def test_a_malformed_document_is_one_line_exit_2(
    project: Path, reader: str, content: bytes
) -> None:
    name, argv, model = READERS[reader]
    assume(_refused(content, model))  # an accepted document would go on to need tools
    folder = project / "input"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)

    assert_one_line_exit_2(*run_cli(argv(str(path))))


@given(minor=st.integers(min_value=0, max_value=99))
def test_helm_on_a_kubernetes_version_without_schemas_is_one_line_exit_2(
    project: Path, minor: int
) -> None:
    version = f"1.{minor}"
    assume(version not in schema.supported_versions())
    table = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'kubernetes_versions = ["1.29", "1.35"]' in table
    folder = project / f"helm-{minor}"
    folder.mkdir(exist_ok=True)
    if not (folder / "infra").exists():
        (folder / "infra").symlink_to(REPO_ROOT / "infra")  # the real chart
    (folder / "pyproject.toml").write_text(
        table.replace(
            'kubernetes_versions = ["1.29", "1.35"]', f'kubernetes_versions = ["1.29", "{version}"]'
        ),
        encoding="utf-8",
    )
    before = Path.cwd()
    os.chdir(folder)
    try:
        code, stderr = run_cli(["helm", "--level", "static"])
    finally:
        os.chdir(before)

    assert_one_line_exit_2(code, stderr)
    assert f"no bundled schemas for Kubernetes {version}" in stderr
