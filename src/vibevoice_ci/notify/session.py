"""The notify session (``nox -s notify -- <event>``): tell people what the reports say.

Events (docs/ci-cd.md, "Notifications"):

* ``failure``: a failed run. On main, the webhook (``SLACK_WEBHOOK_URL``); on a pull request,
  the PR comment naming the failed sessions (``GITHUB_TOKEN``), updated in place.
* ``security``: any CRITICAL finding in reports/trivy or reports/audit, to the webhook at once.
* ``perf``: a regression in reports/perf/verdict.json opens (or updates) one GitHub issue; on a
  pull request the perf summary is a PR comment, updated in place.

Each notification is skipped, said plainly, when its secret or its context is missing; a
notification that was tried and failed fails the session (exit 1). No secret's value is ever
printed, written to the report, or put in an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.environment import Secret
from vibevoice_ci.core.errors import PipelineError, UsageError
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    overall,
    publish_summary,
    render_summary,
    unknown_warning,
    verdict_error,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import read_report, write_report
from vibevoice_ci.core.retry import RetryLog
from vibevoice_ci.core.vulnerability_models import OutcomeDocument
from vibevoice_ci.notify import messages
from vibevoice_ci.notify.reports import NotifyReport
from vibevoice_ci.perf.reports import PerfVerdict
from vibevoice_ci.report.model import Overview
from vibevoice_ci.report.read import read_overview
from vibevoice_ci.report.security import security_findings_of
from vibevoice_ci.tools.github import GitHub, Posted
from vibevoice_ci.tools.http import check_url, redact, request_json

SESSION = "notify"
EVENTS = ("failure", "security", "perf")


@dataclass
class NotifyRun:
    """What the session did: one outcome per notification tried, and the ones skipped."""

    event: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)  # what was (or would be) sent

    def skip(self, what: str, why: str) -> None:
        line = f"{what}: skipped, {why}"
        self.skipped.append(line)
        progress(line)

    def to_document(self, secrets: tuple[Secret | None, ...]) -> NotifyReport:
        """``notify.json``, every string with the secrets' values redacted."""
        return NotifyReport.model_validate(
            {
                "status": self.status.value,
                "event": self.event,
                "dry_run": self.dry_run,
                "checks": [
                    OutcomeDocument(
                        name=redact(o.name, secrets),
                        status=o.status.value,
                        detail=redact(o.detail, secrets),
                    )
                    for o in self.outcomes
                ],
                "notes": [redact(note, secrets) for note in self.skipped],
            }
        )

    @property
    def status(self) -> Status:
        # Nothing tried (every notification skipped) is not a failure of this session.
        return overall(self.outcomes) if self.outcomes else Status.PASS


def context_of(config: PipelineConfig) -> messages.RunContext:
    """The run the notification is about: this one, or the one a follow-up job reports on
    (``$VIBEVOICE_REPORTED_*``, set by ci-pr-feedback.yml from the workflow_run event)."""
    env = config.env
    run_id = env.reported_run_id or env.github_run_id
    run_url = (
        f"{env.github_server_url}/{env.github_repository}/actions/runs/{run_id}"
        if env.github_repository and run_id
        else None
    )
    return messages.RunContext(
        workflow=env.reported_workflow or env.github_workflow or "CI",
        ref=env.git_ref,
        sha=env.reported_sha or env.github_sha,
        run_url=run_url,
        needs=dict(env.needs_results),
        conclusion=env.reported_conclusion,
    )


def run_notify(
    config: PipelineConfig, event: str, *, dry_run: bool = False, strict: bool | None = None
) -> NotifyRun:
    """Send what ``event`` calls for, from the reports under reports/; write reports/notify/.
    Exit as the one rule says (``core.outcome.exit_code``): an unknown (a scanner report that
    could not be read) fails under CI unless ``strict`` is False."""
    if event not in EVENTS:
        raise UsageError(f"unknown notify event {event!r} (choose from {', '.join(EVENTS)})")
    overview = read_overview(config.reports_dir, checkout_commit=None, skip=(SESSION, "report"))
    context = context_of(config)
    run = NotifyRun(event, dry_run)
    secrets = (config.env.slack_webhook_url, config.env.github_token)
    if event == "failure":
        _failure(config, overview, context, run)
    elif event == "security":
        _security(config, overview, context, run)
    else:
        _perf(config, overview, context, run)
    report_dir = config.report_dir(SESSION)
    write_report(report_dir / f"{SESSION}.json", run.to_document(secrets))
    notes = [*run.skipped] + (["dry run: nothing was sent"] if dry_run else [])
    markdown = render_summary(f"notify ({event})", run.outcomes, notes)
    publish_summary(report_dir, redact(markdown, secrets))
    for outcome in run.outcomes:
        progress(redact(outcome.line(), secrets))
    detail = redact("; ".join(o.detail for o in run.outcomes if not o.passed), secrets)
    error = verdict_error(SESSION, run.status, ci=config.env.ci, strict=strict, detail=detail)
    if error is not None:
        raise error
    warning = unknown_warning(SESSION, run.status)
    if warning is not None:
        progress(f"{warning}: {detail}")
    return run


def _failure(
    config: PipelineConfig, overview: Overview, context: messages.RunContext, run: NotifyRun
) -> None:
    if config.env.pull_request is not None:
        run.skip("webhook", "a pull request's run: its failure goes in its comment")
    elif messages.is_main(context):
        _webhook(config, "failure on main", messages.failure_message(overview, context), run)
    else:
        run.skip("webhook", f"the run is on {context.ref or 'no known ref'}, not main")
    if config.env.pull_request is not None:
        body = messages.failure_comment(overview, context)
        # A passed run only turns an earlier failure's comment green; it never adds one.
        create = not context.passed
        _comment(config, "PR comment (failure)", messages.FAILURE_MARKER, body, run, create)
    else:
        run.skip("PR comment (failure)", "the run is not for a pull request")


def _security(
    config: PipelineConfig, overview: Overview, context: messages.RunContext, run: NotifyRun
) -> None:
    findings = security_findings_of(overview)
    if not findings:
        run.skip("security alert", "no trivy or audit report under reports/")
        return
    for name, result in sorted(findings.items()):
        for problem in result.problems:
            run.outcomes.append(
                Outcome(f"{name} report", Status.UNKNOWN, f"could not be read: {problem}")
            )
        progress(f"{name}: {result.counts.line()}")
    text = messages.security_alert(findings, context)
    if text is None:
        run.skip("security alert", "no CRITICAL finding in " + ", ".join(sorted(findings)))
        return
    _webhook(config, "security alert", text, run)


def _perf(
    config: PipelineConfig, overview: Overview, context: messages.RunContext, run: NotifyRun
) -> None:
    perf = overview.session("perf")
    if perf is None:
        run.skip("perf notifications", "no reports/perf/ folder")
        return
    verdict_path = config.report_dir("perf") / "verdict.json"
    if config.env.pull_request is not None:
        # A pull request's run compares with main's baseline and never moves it: a slowdown
        # there belongs in its comment, not in an issue about main.
        run.skip("regression issue", "a pull request's run: its verdict goes in its comment")
    elif not verdict_path.is_file():
        run.skip("regression issue", "reports/perf/verdict.json is absent")
    else:
        # A verdict of another shape is bad input (exit 2), never read as "no regression".
        verdict = read_report(verdict_path, PerfVerdict, "the perf gate's verdict")
        draft = messages.regression_issue(verdict, perf, context)
        if draft is None:
            run.skip("regression issue", "the perf gate found no regression")
        else:
            _issue(config, draft, run)
    if config.env.pull_request is not None:
        body = messages.perf_comment(perf, context)
        _comment(config, "PR comment (perf)", messages.PERF_MARKER, body, run)
    else:
        run.skip("PR comment (perf)", "the run is not for a pull request")


def _webhook(config: PipelineConfig, what: str, text: str, run: NotifyRun) -> None:
    run.messages[what] = text
    url = config.env.slack_webhook_url
    if url is None:
        run.skip(what, "SLACK_WEBHOOK_URL is not set")
        return
    if run.dry_run:
        run.skip(what, "dry run")
        return

    def send() -> str:
        check_url(url.reveal(), "SLACK_WEBHOOK_URL")
        request_json("POST", url.reveal(), payload={"text": text}, secret_url=url)
        return "sent to the webhook"

    _attempt(run, what, send, (url,))


def _comment(
    config: PipelineConfig,
    what: str,
    marker: str,
    body: str,
    run: NotifyRun,
    create: bool = True,
) -> None:
    """Update the PR's comment carrying ``marker``; create it only when ``create``."""
    run.messages[what] = body
    github = _github(config, what, run)
    pull_request = config.env.pull_request
    if github is None or pull_request is None:
        return

    def send() -> str | None:
        if create:
            posted: Posted | None = github.upsert_comment(pull_request, marker, body)
        else:
            posted = github.update_comment(pull_request, marker, body)
        if posted is None:
            return None
        return f"{posted.action} on PR #{pull_request} {posted.url}".rstrip()

    nothing = f"PR #{pull_request} has no earlier comment to update, and a passed run adds none"
    _attempt(run, what, send, (github.token,), nothing_done=nothing)


def _issue(config: PipelineConfig, draft: messages.IssueDraft, run: NotifyRun) -> None:
    what = "regression issue"
    run.messages[what] = f"{draft.title}\n\n{draft.body}"
    github = _github(config, what, run)
    if github is None:
        return

    def send() -> str:
        posted = github.upsert_issue(draft.marker, draft.title, draft.body, draft.labels)
        return f"{posted.action} issue #{posted.id} {posted.url}".rstrip()

    _attempt(run, what, send, (github.token,))


def _github(config: PipelineConfig, what: str, run: NotifyRun) -> GitHub | None:
    env = config.env
    if env.github_token is None:
        run.skip(what, "GITHUB_TOKEN is not set")
        return None
    if not env.github_repository:
        run.skip(what, "GITHUB_REPOSITORY is not set")
        return None
    if run.dry_run:
        run.skip(what, "dry run")
        return None
    try:
        return GitHub(env.github_api_url, env.github_repository, env.github_token, RetryLog())
    except PipelineError as exc:
        run.outcomes.append(Outcome(what, Status.FAIL, str(exc)))
        return None


def _attempt(
    run: NotifyRun,
    what: str,
    send: Callable[[], str | None],
    secrets: tuple[Secret | None, ...],
    *,
    nothing_done: str = "there was nothing to send",
) -> None:
    """Send; a detail is a pass, None a skip (``nothing_done`` says why), an error a fail."""
    try:
        detail = send()
    except PipelineError as exc:
        run.outcomes.append(Outcome(what, Status.FAIL, redact(str(exc), secrets)))
        return
    if detail is None:
        run.skip(what, nothing_done)
        return
    run.outcomes.append(Outcome(what, Status.PASS, redact(detail, secrets)))
