"""What this run's environment variables say (``$CI``, ``$GITHUB_*``, ``$VIBEVOICE_*``), read
once into a :class:`RunEnvironment`.

Reading is pure (``run_environment`` takes the mapping), so tests need no real environment;
``config.with_environment`` applies the result to a pipeline configuration.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ConfigError


class Secret:
    """A secret's value that never shows: ``repr``, ``str`` and f-strings print ``***``.

    :meth:`reveal` is the one way to the value, used only where it is sent (a request's URL
    or header)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not pickled")


SMOKE_MODES = ("auto", "docker", "local")
# $VIBEVOICE_BUILD_CACHE: "off"; "gha" restores and saves BuildKit layers through the GitHub
# Actions cache (a job that publishes must never restore one: tests/workflows); "gha-write"
# only saves them, so a trusted build can fill the cache without trusting what is in it.
BUILD_CACHE_MODES = ("off", "gha", "gha-write")
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_GITHUB_SERVER_URL = "https://github.com"
# Where caches live between runs on one machine (scripts/ci/install-tools.sh uses it too),
# for root; anyone else (GitHub's `runner` user) cannot create it: see default_cache_dir().
DEFAULT_CACHE_DIR = Path("/var/cache/vibevoice-ci")


def default_cache_dir() -> Path:
    """DEFAULT_CACHE_DIR for root; for any other user a folder of their own, which they can
    create: ``$XDG_CACHE_HOME/vibevoice-ci``, else ``~/.cache/vibevoice-ci``."""
    if os.geteuid() == 0:
        return DEFAULT_CACHE_DIR
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vibevoice-ci"


_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class RunEnvironment:
    """What this run's environment variables say, read once by :func:`with_environment`.

    Nothing else in the pipeline reads ``os.environ`` for a setting; docs/ci-cd.md lists the
    variables.
    """

    # $CI is set (GitHub Actions, .ci/run): an outcome that could not be decided fails.
    ci: bool = False
    # $VIBEVOICE_SMOKE_MODE: the smoke session's default --mode.
    smoke_mode: str = "auto"
    # $VIBEVOICE_BASE_IMAGE: the base image to build FROM, used as given.
    base_image: str | None = None
    # $VIBEVOICE_EXTRA_CA_CERTS: where extra CA certificates come from (None: the default
    # folders; an empty tuple: none at all).
    extra_ca_certs: tuple[Path, ...] | None = None
    # $GITHUB_REF (else the checkout's own ref): what a push is tagged for.
    git_ref: str | None = None
    # $GITHUB_ACTIONS and $GITHUB_RUN_ID: who built an image, recorded in its metadata.
    github_actions: bool = False
    github_run_id: str | None = None
    # $GITHUB_EVENT_NAME: what started the workflow; a pull request never moves the perf
    # baseline.
    github_event: str | None = None
    # $GITHUB_SHA (else the checkout's HEAD): the commit an image is built from.
    github_sha: str | None = None
    # $VIBEVOICE_CACHE_DIR: tool caches that outlive a run on one machine (BuildKit's cache,
    # Debian root filesystems); None means the default, default_cache_dir().
    cache_dir: Path | None = None
    # $DOCKER_CONFIG: the Docker CLI's config folder, where docker login keeps credentials
    # (None: ~/.docker); the release build's own registry calls read them there.
    docker_config: Path | None = None
    # $VIBEVOICE_BUILDX_BUILDER: a multi-platform buildx builder that already runs (GitHub's
    # docker/setup-buildx-action); unset, the release build starts its own buildkitd.
    buildx_builder: str | None = None
    # $VIBEVOICE_BUILD_CACHE: BuildKit's GitHub Actions cache for the release build's layers
    # (BUILD_CACHE_MODES; docs/ci-cd.md, "Caches"). "off" unless set.
    build_cache: str = "off"
    # $ACTIONS_RUNTIME_TOKEN with $ACTIONS_CACHE_URL or $ACTIONS_RESULTS_URL: the GitHub
    # Actions cache service BuildKit's gha backend talks to is reachable from this step.
    actions_cache_service: bool = False

    @property
    def cache_root(self) -> Path:
        return self.cache_dir or default_cache_dir()

    # $VIBEVOICE_OSV_URL: the OSV API root the audit session asks (overrides the config's).
    osv_url: str | None = None

    # $VIBEVOICE_HELM_ACCEPT_UNKNOWN: helm checks a CI job accepts as unknown, one
    # "check: reason" per line (a workflow that cannot run a level says which and why).
    helm_accept_unknown: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # The sign session ($GITHUB_REPOSITORY, below, names the keyless identity and the
    # provenance's URIs). $ACTIONS_ID_TOKEN_REQUEST_URL is set: the job may request an OIDC
    # token (id-token: write), which keyless signing needs.
    oidc_available: bool = False
    # $COSIGN_PASSWORD: the password of the sign session's cosign key (None: empty).
    cosign_password: Secret | None = dataclasses.field(default=None, repr=False)

    # Notifications (docs/ci-cd.md, "Notifications"); each is skipped when its secret is unset.
    # $SLACK_WEBHOOK_URL: the incoming webhook (Slack, or an email gateway taking {"text"}).
    slack_webhook_url: Secret | None = dataclasses.field(default=None, repr=False)
    # $GITHUB_TOKEN: PR comments and regression issues through the REST API.
    github_token: Secret | None = dataclasses.field(default=None, repr=False)
    # $GITHUB_API_URL, $GITHUB_SERVER_URL, $GITHUB_REPOSITORY (owner/name), $GITHUB_WORKFLOW.
    github_api_url: str = DEFAULT_GITHUB_API_URL
    github_server_url: str = DEFAULT_GITHUB_SERVER_URL
    github_repository: str | None = None
    github_workflow: str | None = None
    # $VIBEVOICE_PR_NUMBER, else the number in $GITHUB_REF (refs/pull/N/merge): the PR to
    # comment on.
    pull_request: int | None = None
    # $VIBEVOICE_NEEDS: the workflow's `toJSON(needs)`, read as job -> result.
    needs_results: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # A follow-up job (workflow_run) notifies about another run: $VIBEVOICE_REPORTED_RUN_ID,
    # $VIBEVOICE_REPORTED_SHA and $VIBEVOICE_REPORTED_WORKFLOW name that run, its commit and
    # its workflow, in place of this run's $GITHUB_RUN_ID, $GITHUB_SHA and $GITHUB_WORKFLOW.
    reported_run_id: str | None = None
    reported_sha: str | None = None
    reported_workflow: str | None = None
    # $VIBEVOICE_REPORTED_CONCLUSION: that run's conclusion (success, failure, ...).
    reported_conclusion: str | None = None


def run_environment(environ: Mapping[str, str]) -> RunEnvironment:
    """The :class:`RunEnvironment` that ``environ`` describes (pure)."""
    smoke_mode = _setting(environ, "VIBEVOICE_SMOKE_MODE") or "auto"
    if smoke_mode not in SMOKE_MODES:
        raise ConfigError(
            f"VIBEVOICE_SMOKE_MODE={smoke_mode!r}: choose from {', '.join(SMOKE_MODES)}"
        )
    build_cache = _setting(environ, "VIBEVOICE_BUILD_CACHE") or "off"
    if build_cache not in BUILD_CACHE_MODES:
        raise ConfigError(
            f"VIBEVOICE_BUILD_CACHE={build_cache!r}: choose from {', '.join(BUILD_CACHE_MODES)}"
        )
    raw_ca = environ.get("VIBEVOICE_EXTRA_CA_CERTS")
    return RunEnvironment(
        ci=_setting(environ, "CI").lower() not in _FALSE_WORDS,
        smoke_mode=smoke_mode,
        base_image=_setting(environ, "VIBEVOICE_BASE_IMAGE") or None,
        extra_ca_certs=(
            None
            if raw_ca is None
            else tuple(Path(part) for part in raw_ca.split(os.pathsep) if part.strip())
        ),
        git_ref=_setting(environ, "GITHUB_REF") or None,
        github_actions=_setting(environ, "GITHUB_ACTIONS") == "true",
        github_run_id=_setting(environ, "GITHUB_RUN_ID") or None,
        github_event=_setting(environ, "GITHUB_EVENT_NAME") or None,
        github_sha=_setting(environ, "GITHUB_SHA") or None,
        buildx_builder=_setting(environ, "VIBEVOICE_BUILDX_BUILDER") or None,
        docker_config=(
            Path(_setting(environ, "DOCKER_CONFIG")) if _setting(environ, "DOCKER_CONFIG") else None
        ),
        build_cache=build_cache,
        actions_cache_service=bool(
            _setting(environ, "ACTIONS_RUNTIME_TOKEN")
            and (_setting(environ, "ACTIONS_CACHE_URL") or _setting(environ, "ACTIONS_RESULTS_URL"))
        ),
        cache_dir=(
            Path(_setting(environ, "VIBEVOICE_CACHE_DIR"))
            if _setting(environ, "VIBEVOICE_CACHE_DIR")
            else None
        ),
        osv_url=_setting(environ, "VIBEVOICE_OSV_URL") or None,
        helm_accept_unknown=parse_accept_unknown(environ.get("VIBEVOICE_HELM_ACCEPT_UNKNOWN", "")),
        oidc_available=bool(_setting(environ, "ACTIONS_ID_TOKEN_REQUEST_URL")),
        cosign_password=_secret(environ, "COSIGN_PASSWORD"),
        slack_webhook_url=_secret(environ, "SLACK_WEBHOOK_URL"),
        github_token=_secret(environ, "GITHUB_TOKEN"),
        github_api_url=(_setting(environ, "GITHUB_API_URL") or DEFAULT_GITHUB_API_URL).rstrip("/"),
        github_server_url=(
            _setting(environ, "GITHUB_SERVER_URL") or DEFAULT_GITHUB_SERVER_URL
        ).rstrip("/"),
        github_repository=_setting(environ, "GITHUB_REPOSITORY") or None,
        github_workflow=_setting(environ, "GITHUB_WORKFLOW") or None,
        pull_request=parse_pull_request(
            _setting(environ, "VIBEVOICE_PR_NUMBER"), _setting(environ, "GITHUB_REF")
        ),
        needs_results=parse_needs(_setting(environ, "VIBEVOICE_NEEDS")),
        reported_run_id=_setting(environ, "VIBEVOICE_REPORTED_RUN_ID") or None,
        reported_sha=_setting(environ, "VIBEVOICE_REPORTED_SHA") or None,
        reported_workflow=_setting(environ, "VIBEVOICE_REPORTED_WORKFLOW") or None,
        reported_conclusion=_setting(environ, "VIBEVOICE_REPORTED_CONCLUSION") or None,
    )


def _secret(environ: Mapping[str, str], name: str) -> Secret | None:
    value = _setting(environ, name)
    return Secret(value) if value else None


def parse_pull_request(number: str, git_ref: str) -> int | None:
    """The PR number: ``$VIBEVOICE_PR_NUMBER``, else ``refs/pull/<N>/...`` (pure)."""
    if number:
        if not number.isdigit() or int(number) < 1:
            raise ConfigError(f"VIBEVOICE_PR_NUMBER={number!r} is not a pull request number")
        return int(number)
    match = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", git_ref)
    return int(match[1]) if match else None


def parse_needs(text: str) -> dict[str, str]:
    """``toJSON(needs)`` (``{"job": {"result": "failure", "outputs": {}}}``) as job -> result
    (pure); anything else is a ConfigError."""
    if not text:
        return {}
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"VIBEVOICE_NEEDS is not JSON: {exc}") from None
    if not isinstance(document, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("result"), str) for v in document.values()
    ):
        raise ConfigError("VIBEVOICE_NEEDS is not a `toJSON(needs)` object of jobs with a result")
    return {str(job): str(value["result"]) for job, value in document.items()}


def parse_accept_unknown(text: str) -> dict[str, str]:
    """``check: reason`` lines into a mapping (pure); a line without a reason is an error."""
    accepted = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, reason = line.partition(":")
        if not name.strip() or not reason.strip():
            raise ConfigError(
                f"VIBEVOICE_HELM_ACCEPT_UNKNOWN: {line.strip()!r} is not 'check: reason'"
            )
        accepted[name.strip()] = reason.strip()
    return accepted


def _setting(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()
