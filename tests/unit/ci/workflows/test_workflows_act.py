"""The act wrapper (tools/act.py): its argument list (pure) and the reading of its JSON log.

``data/act_lint_success.log`` and ``data/act_lint_failure.log`` are lines copied unchanged from
real act 0.2.89 logs of ``python -m vibevoice_ci workflows --run ci-test-lint`` on this
project's build machine (``/home/runner/vibevoice-act/runs/1001-ci-test-lint/act.log``): the
passing lint job, and the same job with a planted step ``touch /usr/local/lib/planted``, which
the runner user may not write (the failure log ends with act's own plain-text line).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.tools import act

DATA = Path(__file__).with_name("data")
JOB = "CI test/lint (nox -s lint)"


def _invocation(**overrides: object) -> act.ActInvocation:
    fields: dict[str, object] = {
        "workflow": Path(".github/workflows/ci-test.yml"),
        "event_name": "push",
        "event_path": Path("/state/runs/1001/event.json"),
    }
    fields.update(overrides)
    return act.ActInvocation(**fields)  # type: ignore[arg-type]


def _value_after(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, item in enumerate(argv) if item == flag]


def test_the_servers_are_pinned_to_loopback_and_the_cache_server_is_off() -> None:
    argv = act.act_argv("act", _invocation())
    assert _value_after(argv, "--cache-server-addr") == ["127.0.0.1"]
    assert _value_after(argv, "--artifact-server-addr") == ["127.0.0.1"]
    assert "--no-cache-server" in argv
    assert not any(flag.startswith("--artifact-server-path") for flag in argv)


def test_host_mode_offline_json() -> None:
    argv = act.act_argv("/bin/act", _invocation(job="lint"))
    assert argv[:2] == ["/bin/act", "push"]
    assert _value_after(argv, "--platform") == ["ubuntu-24.04=-self-hosted"]
    assert "--action-offline-mode" in argv
    assert "--json" in argv
    # The jobs of a run share the runner's home here (one machine each on GitHub): one at a time.
    assert _value_after(argv, "--concurrent-jobs") == ["1"]
    assert _value_after(argv, "--job") == ["lint"]
    assert "--action-cache-path" not in argv  # act's default unless the harness names one
    named = act.act_argv("/bin/act", _invocation(action_cache=Path("/state/act")))
    assert _value_after(named, "--action-cache-path") == ["/state/act"]


text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), max_size=30)
names = st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    secrets=st.dictionaries(
        names, st.from_regex(r"s3cr3t-[a-z0-9]{8}", fullmatch=True), max_size=4
    ),
    env=st.dictionaries(names, text.filter(lambda v: "s3cr3t" not in v), max_size=4),
    matrix=st.dictionaries(st.from_regex(r"[a-z-]{1,10}", fullmatch=True), text, max_size=3),
)
def test_secrets_by_name_only_and_servers_always_on_loopback(
    secrets: dict[str, str], env: dict[str, str], matrix: dict[str, str]
) -> None:
    argv = act.act_argv("act", _invocation(secrets=secrets, env=env, matrix=matrix))
    assert sorted(_value_after(argv, "--secret")) == sorted(secrets)
    for value in secrets.values():
        assert not any(value in item for item in argv)
    for flag in ("--cache-server-addr", "--artifact-server-addr"):
        (address,) = _value_after(argv, flag)
        assert ipaddress.ip_address(address).is_loopback
    assert sorted(_value_after(argv, "--env")) == sorted(f"{k}={v}" for k, v in env.items())
    assert sorted(_value_after(argv, "--matrix")) == sorted(f"{k}:{v}" for k, v in matrix.items())


def test_local_repositories_are_mapped_by_pin() -> None:
    argv = act.act_argv(
        "act", _invocation(local_repositories={"actions/cache@abc": Path("/s/actions__cache/abc")})
    )
    assert _value_after(argv, "--local-repository") == ["actions/cache@abc=/s/actions__cache/abc"]


def _lines(name: str) -> list[act.LogLine]:
    raw = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in map(act.parse_log_line, raw) if line is not None]


def test_a_passing_real_log() -> None:
    lines = _lines("act_lint_success.log")
    assert act.job_results(lines) == {JOB: "success"}
    shown = [p for p in map(act.progress, lines) if p]
    assert f"[{JOB}] ⭐ Run Set up job" in shown
    assert f"[{JOB}] ✅  Success - Set up job" in shown
    assert shown[-1] == f"[{JOB}] job success"
    # act's step output and its set-env echo are kept in the log, not shown live
    assert not any("Successfully set up CPython" in p or "set-env" in p for p in shown)


def test_a_failing_real_log() -> None:
    raw = (DATA / "act_lint_failure.log").read_text(encoding="utf-8").splitlines()
    assert act.parse_log_line(raw[-1]) is None  # "Error: Job 'lint (nox -s lint)' failed"
    lines = _lines("act_lint_failure.log")
    assert act.job_results(lines) == {JOB: "failure"}
    shown = [p for p in map(act.progress, lines) if p]
    assert f"[{JOB}] ❌  Failure - Main Planted root-only write [7.321333ms]" in shown
    assert f"[{JOB}]   exit status 1" in shown  # the error-level line
    assert shown[-1] == f"[{JOB}] job failure"


def test_plain_and_non_object_lines_are_not_log_lines() -> None:
    for text_line in ("", "Error: Job 'x' failed", "[1, 2]", '"text"', "42"):
        assert act.parse_log_line(text_line) is None


log_lines = st.builds(
    act.LogLine,
    job=st.sampled_from(["", JOB]),
    message=text,
    step_result=st.sampled_from(["", "success", "failure"]),
    job_result=st.sampled_from(["", "success", "failure"]),
    level=st.sampled_from(["info", "error", "debug"]),
)


@settings(max_examples=300, deadline=None)
@given(line=log_lines)
def test_progress_never_raises_and_shows_every_result(line: act.LogLine) -> None:
    shown = act.progress(line)
    if line.job_result or line.step_result or line.level == "error":
        assert shown is not None
    if line.job_result:
        assert shown == f"[{line.job}] job {line.job_result}"
