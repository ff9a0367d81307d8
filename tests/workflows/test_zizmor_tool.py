"""The zizmor wrapper: argument building and JSON parsing (pure), and runs of the real tool.

``data/zizmor_findings.json`` is real ``zizmor 1.32.0 --format json --offline`` output for
the BAD_WORKFLOW below.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError
from vibevoice_ci.tools import zizmor

DATA = Path(__file__).with_name("data")
REPO_ROOT = Path(__file__).resolve().parents[2]

BAD_WORKFLOW = """\
name: bad
on:
  workflow_run:  # zizmor: ignore[dangerous-triggers] reason here
    workflows: ["x"]
    types: [completed]
  pull_request_target:
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_argv_defaults() -> None:
    args = zizmor.argv("/bin/zizmor", [Path(".github"), "x.yml"])
    assert args[0] == "/bin/zizmor"
    assert args[-2:] == [".github", "x.yml"]
    for pair in (["--format", "json"], ["--persona", "regular"], ["--color", "never"]):
        assert any(args[i : i + 2] == pair for i in range(len(args))), pair
    assert {"--offline", "--no-exit-codes", "--no-progress"} <= set(args)


def test_argv_options() -> None:
    args = zizmor.argv(
        "z",
        ["."],
        offline=False,
        persona="pedantic",
        output_format="sarif",
        min_severity="medium",
        config=Path("zizmor.yml"),
    )
    assert "--offline" not in args
    assert args[args.index("--format") + 1] == "sarif"
    assert args[args.index("--persona") + 1] == "pedantic"
    assert args[args.index("--min-severity") + 1] == "medium"
    assert args[args.index("--config") + 1] == "zizmor.yml"


@pytest.mark.parametrize(("inputs", "severity"), [([], None), (["."], "critical")])
def test_argv_rejects_bad_arguments(inputs: list[str], severity: str | None) -> None:
    with pytest.raises(ValueError, match="zizmor"):
        zizmor.argv("z", inputs, min_severity=severity)


def test_parse_real_output() -> None:
    findings = zizmor.parse((DATA / "zizmor_findings.json").read_text(encoding="utf-8"))
    assert [f.ident for f in findings] == [
        "artipacked",
        "excessive-permissions",
        "template-injection",
        "unpinned-uses",
    ]
    injection = findings[2]
    assert (injection.severity, injection.confidence, injection.persona) == (
        "high",
        "high",
        "regular",
    )
    assert injection.location is not None
    assert injection.location.primary
    assert (injection.location.path, injection.location.line, injection.location.column) == (
        ".github/workflows/bad.yml",
        12,
        24,
    )
    assert str(injection) == (
        ".github/workflows/bad.yml:12:24: template-injection [high]: code injection via "
        "template expansion (may expand into attacker-controllable code)"
    )
    # excessive-permissions lists a Related location first in the JSON; Primary comes first.
    assert findings[1].locations[0].annotation.startswith("default permissions used")


def test_parse_no_findings() -> None:
    assert zizmor.parse("[]") == []


@pytest.mark.parametrize("text", ["", "not json", "{}", '[{"desc": "no ident"}]', "[1]"])
def test_parse_rejects_what_is_not_a_findings_list(text: str) -> None:
    with pytest.raises(ToolFailedError):
        zizmor.parse(text)


finding_entries = st.builds(
    lambda ident, severity, row, column, primary: {
        "ident": ident,
        "desc": f"{ident} description",
        "url": f"https://docs.zizmor.sh/audits/#{ident}",
        "determinations": {"confidence": "High", "severity": severity, "persona": "Regular"},
        "locations": [
            {
                "symbolic": {
                    "key": {"Local": {"verbatim_path": ".github/workflows/w.yml"}},
                    "annotation": "here",
                    "kind": "Primary" if primary else "Related",
                },
                "concrete": {"location": {"start_point": {"row": row, "column": column}}},
            }
        ],
        "ignored": False,
    },
    st.from_regex(r"[a-z]+(-[a-z]+){0,3}", fullmatch=True),
    st.sampled_from(["Informational", "Low", "Medium", "High"]),
    st.integers(0, 10_000),
    st.integers(0, 500),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(finding_entries, max_size=6))
def test_parse_keeps_every_finding_and_counts_lines_from_one(
    entries: list[dict[str, object]],
) -> None:
    findings = zizmor.parse(json.dumps(entries))
    assert [f.ident for f in findings] == [e["ident"] for e in entries]
    for finding, entry in zip(findings, entries, strict=True):
        location = entry["locations"][0]  # type: ignore[index]
        start = location["concrete"]["location"]["start_point"]
        assert finding.severity == entry["determinations"]["severity"].lower()  # type: ignore[index]
        assert finding.location is not None
        assert (finding.location.line, finding.location.column) == (
            start["row"] + 1,
            start["column"] + 1,
        )


def test_parse_version() -> None:
    assert zizmor.parse_version("zizmor 1.32.0\n") == "1.32.0"
    with pytest.raises(ToolFailedError):
        zizmor.parse_version("something else")


def test_check_version_names_the_fix() -> None:
    zizmor.check_version("1.32.0", "1.32.0")
    with pytest.raises(ToolMissingError, match=r"pip install zizmor==1\.32\.0"):
        zizmor.check_version("1.20.0", "1.32.0")


def _fake_zizmor(tmp_path: Path, stdout: str, code: int) -> Path:
    script = tmp_path / "zizmor"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{stdout}\nEOF\necho boom >&2\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.parametrize(("stdout", "code"), [("[]", 3), ("Traceback", 0)])
def test_run_never_reads_a_failure_as_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdout: str, code: int
) -> None:
    monkeypatch.setenv("VIBEVOICE_ZIZMOR", str(_fake_zizmor(tmp_path, stdout, code)))
    with pytest.raises(ToolFailedError):
        zizmor.run(["."], cwd=tmp_path, expected_version=None)


def test_missing_zizmor_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBEVOICE_ZIZMOR", "/nonexistent/zizmor")
    with pytest.raises(ToolMissingError, match=r"pip install zizmor==1\.32\.0"):
        zizmor.zizmor()


needs_zizmor = pytest.mark.skipif(
    shutil.which("zizmor") is None, reason="zizmor is not installed (pip install zizmor==1.32.0)"
)


@pytest.mark.integration
@needs_zizmor
def test_repository_workflows_have_no_findings() -> None:
    result = zizmor.run([".github"], cwd=REPO_ROOT)
    assert [str(f) for f in result.findings] == []
    assert json.loads(result.raw_json) == []


@pytest.mark.integration
@needs_zizmor
def test_real_zizmor_reports_a_bad_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(BAD_WORKFLOW, encoding="utf-8")
    result = zizmor.run([".github"], cwd=tmp_path)
    idents = {f.ident for f in result.findings}
    assert {"template-injection", "unpinned-uses", "artipacked"} <= idents
    assert "dangerous-triggers" not in idents  # the inline ignore was honoured
