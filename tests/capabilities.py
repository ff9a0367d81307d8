"""What a test needs from the machine, and what happens when the machine does not have it.

One rule for every such test (a tool, root, a daemon):

* locally (neither ``$CI`` nor ``VIBEVOICE_REQUIRE_DOCKER=1``): skipped, with the reason;
* under CI: a failure, so CI never passes without exercising what the test is for,
  **unless** the job declares that capability an accepted unknown in
  ``$VIBEVOICE_TESTS_ACCEPT_UNKNOWN`` (``capability: why this job cannot have it``, one per
  line, like the helm session's ``$VIBEVOICE_HELM_ACCEPT_UNKNOWN``). Then the test is skipped
  with a reason that starts ``ACCEPTED UNKNOWN [capability]`` and carries both reasons; the
  run lists every such skip at its end and in the GitHub job summary, with a warning
  annotation: never a silent pass.

A name in ``$VIBEVOICE_TESTS_ACCEPT_UNKNOWN`` that is not in :data:`CAPABILITIES` stops the
run (a typo must not accept anything). This module is a pytest plugin (tests/conftest.py
loads it) and the helpers the tests call.

What a job accepted as unknown is run where it can be: ``--accepted-unknown-from JUNIT`` runs
exactly the tests that JUnit report (a job's ``junit.xml``) lists as skipped ``ACCEPTED
UNKNOWN``, and deselects the rest. ``.ci/run`` runs ci-test's test job by act as the runner,
then those tests as root with it.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import pytest
from _pytest.junitxml import mangle_test_address

ACCEPT_ENV = "VIBEVOICE_TESTS_ACCEPT_UNKNOWN"
ACCEPTED_PREFIX = "ACCEPTED UNKNOWN"
# Capabilities a job may accept as unknown, and what needs them.
CAPABILITIES: Mapping[str, str] = {
    "helm-pods": "the helm session's level 3: containerd, the CNI plugins and a kubelet, as root",
    "buildkitd": "the release build's own BuildKit daemon on the host, which runs as root",
    "act-runner": "act run by the workflows harness as the runner user, started through sudo",
}
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def under_ci(environ: Mapping[str, str] | None = None) -> bool:
    """``$CI`` is set (GitHub sets CI=true) or ``VIBEVOICE_REQUIRE_DOCKER=1`` (.ci/run)."""
    env = os.environ if environ is None else environ
    return (
        env.get("CI", "").strip().lower() not in _FALSE_WORDS
        or env.get("VIBEVOICE_REQUIRE_DOCKER") == "1"
    )


def accepted_unknowns(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``$VIBEVOICE_TESTS_ACCEPT_UNKNOWN`` as ``{capability: reason}``; raises
    ``pytest.UsageError`` for a line that is not ``capability: reason`` or an unknown name."""
    env = os.environ if environ is None else environ
    accepted: dict[str, str] = {}
    for line in env.get(ACCEPT_ENV, "").splitlines():
        if not line.strip():
            continue
        name, colon, reason = line.partition(":")
        name, reason = name.strip(), reason.strip()
        if not colon or not name or not reason:
            raise pytest.UsageError(f"{ACCEPT_ENV}: {line.strip()!r} is not 'capability: reason'")
        if name not in CAPABILITIES:
            raise pytest.UsageError(
                f"{ACCEPT_ENV}: unknown capability {name!r} (known: {', '.join(CAPABILITIES)})"
            )
        accepted[name] = reason
    return accepted


def decide(
    capability: str, reason: str, environ: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """What a missing ``capability`` means here (pure): ``("skip", message)`` or
    ``("fail", message)``."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}: add it to CAPABILITIES")
    if not under_ci(environ):
        return "skip", reason
    why = accepted_unknowns(environ).get(capability)
    if why is None:
        return "fail", (
            f"{reason} ({capability} is required under CI; a job that cannot have it declares "
            f"it in {ACCEPT_ENV} with its reason)"
        )
    return "skip", f"{ACCEPTED_PREFIX} [{capability}]: {reason}; accepted by this job: {why}"


def missing(capability: str, reason: str) -> NoReturn:
    """Skip or fail the calling test because ``capability`` is not here (see the module)."""
    action, message = decide(capability, reason)
    if action == "fail":
        pytest.fail(message)
    pytest.skip(message)


# --------------------------------------------------------------------------------------------
# The plugin: check the variable at start, list the accepted unknowns at the end.


FROM_OPTION = "--accepted-unknown-from"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        FROM_OPTION,
        metavar="JUNIT",
        type=Path,
        help="run only the tests this JUnit report lists as skipped ACCEPTED UNKNOWN (what a "
        "job could not run, run where it can); give it as --accepted-unknown-from=JUNIT, or "
        "pytest takes the file's folder into its choice of rootdir",
    )


def pytest_configure(config: pytest.Config) -> None:
    accepted_unknowns()  # a malformed or unknown entry stops the run before any test


def _without_group(name: str) -> str:
    """A test's name without the ``@group`` pytest-xdist appends under ``--dist loadgroup``."""
    return re.sub(r"@[\w.-]+$", "", name)


def accepted_in_junit(text: str) -> set[tuple[str, str]]:
    """The ``(classname, name)`` of every test case a JUnit report lists as skipped ACCEPTED
    UNKNOWN, names without an xdist ``@group`` (pure); malformed XML raises ``ET.ParseError``."""
    found: set[tuple[str, str]] = set()
    for case in ET.fromstring(text).iter("testcase"):  # noqa: S314 (our own pytest's output)
        skipped = case.find("skipped")
        if skipped is None:
            continue
        message = skipped.get("message", "") or ""
        if message.removeprefix("Skipped: ").startswith(ACCEPTED_PREFIX):
            found.add((case.get("classname", ""), _without_group(case.get("name", ""))))
    return found


def junit_address(nodeid: str) -> tuple[str, str]:
    """A test's ``(classname, name)`` as pytest's JUnit report writes them, without an xdist
    ``@group``."""
    names = mangle_test_address(nodeid)
    return ".".join(names[:-1]), _without_group(names[-1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    junit: Path | None = config.getoption(FROM_OPTION)
    if junit is None:
        return
    try:
        wanted = accepted_in_junit(junit.read_text(encoding="utf-8"))
    except (OSError, ET.ParseError) as exc:
        raise pytest.UsageError(f"{FROM_OPTION} {junit}: {exc}") from None
    if not wanted:
        raise pytest.UsageError(f"{FROM_OPTION} {junit}: no test was skipped {ACCEPTED_PREFIX}")
    keep = [item for item in items if junit_address(item.nodeid) in wanted]
    missing_here = wanted - {junit_address(item.nodeid) for item in keep}
    if missing_here:
        names = ", ".join(sorted(f"{c}::{n}" for c, n in missing_here)[:5])
        raise pytest.UsageError(
            f"{FROM_OPTION} {junit}: {len(missing_here)} of its tests are not collected "
            f"here ({names}): pass the same test paths the job ran"
        )
    kept = {item.nodeid for item in keep}
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid not in kept])
    items[:] = keep


def _accepted_skips(reporter: pytest.TerminalReporter) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for report in reporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        message = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        message = str(message).removeprefix("Skipped: ")
        if message.startswith(ACCEPTED_PREFIX):
            found.append((report.nodeid, message))
    return found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skips = _accepted_skips(terminalreporter)
    if not skips:
        return
    terminalreporter.section(f"{ACCEPTED_PREFIX}: not run here, not passed", sep="=")
    for nodeid, message in skips:
        terminalreporter.line(f"{nodeid}: {message}")
    reasons = dict.fromkeys(message for _, message in skips)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for message in reasons:
            title = message.split(":", 1)[0]
            terminalreporter.line(f"::warning title={title}::{_escape_annotation(message)}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        lines = [
            f"### Tests: {len(skips)} {ACCEPTED_PREFIX.lower()} (not run here, not passed)",
            "",
            "| tests | why |",
            "| --- | --- |",
        ]
        for message in reasons:
            count = sum(1 for _, m in skips if m == message)
            cell = message.replace("|", "\\|")
            lines.append(f"| {count} | {cell} |")
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n\n")


def _escape_annotation(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
