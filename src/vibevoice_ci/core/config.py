"""The pipeline's single source of truth, read from ``[tool.vibevoice-ci]`` in pyproject.toml.

Each table is a frozen pydantic model below, and the models are the whole of the checking:
``parse_config`` validates the decoded TOML table against :class:`PipelineConfig` (paths
resolve against the project root it is given) and turns any problem into one
:class:`ConfigError` line that names the file, the table and the key::

    pyproject.toml: [tool.vibevoice-ci.perf] alpha: Input should be less than 1 (got 1.5)

Parsing is pure, so it is tested without files; ``load_config`` is the edge that reads the
file and ``with_environment`` applies the run's environment variables (core/environment.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    InstanceOf,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import ErrorDetails, core_schema

from vibevoice_ci.core.environment import RunEnvironment, run_environment
from vibevoice_ci.core.errors import ConfigError
from vibevoice_ci.core.vulnerabilities import AllowListEntry, Severity

TABLE = "tool.vibevoice-ci"
PYPROJECT = "pyproject.toml"


# --- the kinds of value the tables hold ---------------------------------------------------------


def _project_root(info: ValidationInfo) -> Path | None:
    """The root ``parse_config`` validates against (None: a model built directly, in code)."""
    context = info.context
    root = context.get("root") if isinstance(context, dict) else None
    return root if isinstance(root, Path) else None


def _non_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must be a non-empty string")
    return text


def _path_text(value: object) -> object:
    if isinstance(value, str):
        _non_blank(value)
    elif not isinstance(value, Path):
        raise ValueError("must be a path (a string)")
    return value


def _under_root(path: Path, info: ValidationInfo) -> Path:
    root = _project_root(info)
    return path if root is None else root / path


def _has_word(text: str) -> str:
    if not any(character.isalnum() for character in text):
        raise ValueError("has no word to recognise")
    return text


def _endpoint(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError("must start with '/'")
    return path


_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _dns_label(name: str) -> str:
    if not re.fullmatch(_DNS_LABEL, name):
        raise ValueError("is not a DNS label (lowercase letters, digits and '-')")
    return name


_KUBERNETES_MINOR = r"^1\.\d+$"


def _kubernetes_minor(version: str) -> str:
    if not re.fullmatch(_KUBERNETES_MINOR, version):
        raise ValueError('must be a minor version like "1.35"')
    return version


def _https(url: str) -> str:
    if not url.startswith("https://"):
        raise ValueError("is not an https URL")
    return url


def _http_root(url: str) -> str:
    url = url.rstrip("/")
    if not re.match(r"https?://[^/\s]+", url):
        raise ValueError("is not an http(s) URL")
    return url


def _stripped(text: str) -> str:
    return text.strip()


def _severity(value: object) -> object:
    """A gate's severity word, in any case (``moderate``: GitHub's word for MEDIUM)."""
    severity = Severity.parse(value) if isinstance(value, str) else value
    if not isinstance(severity, Severity) or severity is Severity.UNKNOWN:
        raise ValueError("must be CRITICAL, HIGH, MEDIUM or LOW")
    return severity


def _toml_date(value: object) -> object:
    # TOML's datetime is a date subclass too: an expiry is a day, so refuse a time of day.
    if type(value) is not date:
        raise ValueError("must be an unquoted TOML date like 2027-03-31, without a time of day")
    return value


def _day(value: object) -> object:
    """A TOML date, or a quoted ``YYYY-MM-DD``."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value.strip())
    if type(value) is not date:
        raise ValueError("must be a date like 2027-01-31")
    return value


def _array_of_tables(value: object) -> object:
    if not isinstance(value, list | tuple):
        raise ValueError("must be an array of tables")
    return value


Text = Annotated[
    StrictStr, AfterValidator(_non_blank), WithJsonSchema({"type": "string", "pattern": r"\S"})
]
Texts = Annotated[tuple[Text, ...], Field(min_length=1)]  # a non-empty array of strings
Names = tuple[Text, ...]  # an array of names that may be empty (`agent = []`: none)
Sentence = Annotated[Text, AfterValidator(_has_word)]
EndpointPath = Annotated[Text, AfterValidator(_endpoint)]
DnsLabel = Annotated[
    Text, AfterValidator(_dns_label), WithJsonSchema({"type": "string", "pattern": _DNS_LABEL})
]
KubernetesMinor = Annotated[
    Text,
    AfterValidator(_kubernetes_minor),
    WithJsonSchema({"type": "string", "pattern": _KUBERNETES_MINOR}),
]
# A path relative to the project root (absolute once parse_config has read it).
ProjectPath = Annotated[Path, BeforeValidator(_path_text), AfterValidator(_under_root)]
ProjectPaths = Annotated[tuple[ProjectPath, ...], Field(min_length=1)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
Count = Annotated[StrictInt, Field(ge=0)]
Positive = Annotated[StrictInt, Field(ge=1)]
Fraction = Annotated[StrictFloat, Field(gt=0, lt=1)]  # a share strictly between 0 and 1
Milliseconds = Annotated[StrictFloat, Field(gt=0, allow_inf_nan=False)]  # a finite time > 0
Recall = Annotated[StrictFloat, Field(gt=0, le=1)]
Score = Annotated[StrictFloat, Field(gt=0, le=1)]  # a mutation score: killed / counted
GateSeverity = Annotated[
    Severity,
    BeforeValidator(_severity),
    WithJsonSchema({"type": "string", "enum": ["CRITICAL", "HIGH", "MEDIUM", "LOW"]}),
]
TomlDate = Annotated[date, BeforeValidator(_toml_date)]
Day = Annotated[date, BeforeValidator(_day)]


class _Table(BaseModel):
    """A TOML table: immutable, and a key it does not declare is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class _Entry(Protocol):
    def value(self) -> object: ...


def _read_as(table: type[_Table]) -> GetPydanticSchema:
    """For a plain class (one the rest of the pipeline shares, such as AllowListEntry) that
    TOML fills: validate the TOML table as ``table``, keep what its ``value()`` makes. An
    instance of the class itself passes as it is (code and tests build them directly)."""

    def schema(source: Any, handler: Callable[[Any], core_schema.CoreSchema]) -> Any:
        def read(value: Any, validate: core_schema.ValidatorFunctionWrapHandler) -> Any:
            if isinstance(value, source):
                return value
            entry: _Entry = validate(value)
            return entry.value()

        return core_schema.no_info_wrap_validator_function(read, handler(table))

    return GetPydanticSchema(schema)


# --- the tables ---------------------------------------------------------------------------------


class ServiceConfig(_Table):
    """One deployable service of the platform (one image, one compose service):
    ``[tool.vibevoice-ci.services.<name>]``."""

    name: SkipJsonSchema[Text]  # the table's own name
    image: Text
    dockerfile: ProjectPath
    requirements: ProjectPath
    extra: Text
    module: Text
    container_port: Port
    host_port: Port
    health_path: EndpointPath
    ready_path: EndpointPath
    metrics_path: EndpointPath


class BaseImageConfig(_Table):
    """The base every service image builds FROM, and the recipe for an offline equivalent."""

    default: Text
    offline: Text
    debian_suite: Text
    debian_packages: Texts


class PerfConfig(_Table):
    """The perf session's run size, regression thresholds and where its state lives
    (``[tool.vibevoice-ci.perf]``; every key optional, these are the defaults)."""

    engine: Text = "piper"
    concurrency: Positive = 2
    # Enough to catch a 20% tail-only slowdown in 97.5% of nights (docs/performance.md).
    requests: Positive = 3000
    warmup: Count = 5
    max_concurrency: Positive = 8  # the service's VIBEVOICE_TTS_MAX_CONCURRENCY during a run
    capacity_max: Count = 24  # realtime capacity: step 1..N concurrent streams (0: skip)
    ttfa_slo_ms: Milliseconds = 250.0  # a capacity level's TTFA p95 must be at most this
    prompts: ProjectPath | None = None  # None: the prompt set built into vibevoice_ci.perf
    # baseline.json and history.jsonl (validated as a default too, so it lands under the root)
    state_dir: ProjectPath = Field(default=Path(".perf-state"), validate_default=True)
    ttfa_increase: Fraction = 0.10  # TTFA mean and p50: more than 10% higher is a regression
    e2e_p95_increase: Fraction = 0.15  # end-to-end p95: more than 15% higher
    max_error_rate: Fraction = 0.01  # an error rate above 1%
    capacity_decrease: Fraction = 0.10  # realtime capacity: more than 10% fewer streams
    alpha: Fraction = 0.01  # significance level of the statistical rule


HelmLevel = Literal["static", "cluster", "pods"]
HELM_LEVELS: tuple[HelmLevel, ...] = ("static", "cluster", "pods")


class HelmConfig(_Table):
    """The helm session's chart, targets and accepted unknowns (``[tool.vibevoice-ci.helm]``;
    docs/helm.md)."""

    chart: ProjectPath
    ci_values: ProjectPath
    # The services the chart deploys (None: every configured service). A service not in it is
    # named in the session's report as not charted, never silently left out.
    services: Texts | None = None
    release: DnsLabel = "vibevoice-ci"
    namespace: DnsLabel = "vibevoice"
    # Schema validation and API-removal targets (minor versions, oldest first).
    kubernetes_versions: Annotated[tuple[KubernetesMinor, ...], Field(min_length=1)] = (
        "1.29",
        "1.35",
    )
    levels: Annotated[tuple[HelmLevel, ...], Field(min_length=1)] = HELM_LEVELS
    # Which of the chart's services may reach each service (its NetworkPolicy's clients).
    network_clients: Mapping[str, Names] = Field(default_factory=dict)
    # Variables each service's container must take from a Secret (a secretKeyRef), e.g. the
    # agent's bearer tokens.
    secret_env: Mapping[str, Names] = Field(default_factory=dict)
    # Checks this machine cannot decide, each with its reason: reported UNKNOWN, never passed,
    # and not a failure of the run even under CI. Any other unknown fails under CI.
    expected_unknown: Mapping[str, Text] = Field(default_factory=dict)
    # Checks a CI job may accept as unknown by naming them in $VIBEVOICE_HELM_ACCEPT_UNKNOWN
    # (a job without what they need, e.g. GitHub's runner for level 3), each with its reason.
    # A job can accept nothing else: every accepted unknown is listed here or above.
    job_accepted_unknown: Mapping[str, Text] = Field(default_factory=dict)
    # kwok's stage definitions (written by scripts/ci/install-kubernetes.sh); not under the root.
    kwok_stages: Annotated[Path, BeforeValidator(_path_text)] = Path(
        "/usr/local/share/vibevoice/kwok-stages.yaml"
    )


class AgentSpeechCheckConfig(_Table):
    """The agent's speech check (``[tool.vibevoice-ci.smoke.agent]``): the turn the smoke
    session sends, and per engine the lowest recall each sentence of the reply must reach."""

    turn: Sentence
    min_recall: Mapping[str, Recall]


class SpeechCheckConfig(_Table):
    """The smoke session's speech check (``[tool.vibevoice-ci.smoke]``): the sentences it
    synthesizes on each endpoint, and per engine the lowest word recall each must reach."""

    sentences: Annotated[tuple[Sentence, ...], Field(min_length=1)]
    # Engine name -> the lowest recall each sentence must reach (0 < r <= 1), measured.
    min_recall: Mapping[str, Recall]
    # Engine name -> why its audio is not scored: its speech check is reported as unknown.
    unscored: Mapping[str, Text] = Field(default_factory=dict)
    agent: AgentSpeechCheckConfig

    @property
    def agent_turn(self) -> str:
        return self.agent.turn

    @property
    def agent_min_recall(self) -> Mapping[str, float]:
        return self.agent.min_recall

    @model_validator(mode="after")
    def _scored_or_unscored(self) -> Self:
        both = sorted((set(self.min_recall) | set(self.agent.min_recall)) & set(self.unscored))
        if both:
            raise ValueError(
                f"{', '.join(both)} has both a min_recall and an unscored reason: choose one"
            )
        return self


# The workflow (its `name:`) whose run of a commit must have concluded success before promote
# moves a tag to, or sign signs, an image of that commit (docs/ci-cd.md, "Only tested commits").
REQUIRED_WORKFLOW = "CI test"
TESTS_WAIT_SECONDS = 2400


class PromoteConfig(_Table):
    """The promote session's gate (``[tool.vibevoice-ci.promote]``): the commit's run of
    ``required_workflow`` must have concluded success before a tag moves."""

    required_workflow: Text = REQUIRED_WORKFLOW
    # How long to wait for that run while it is still queued or running (GitHub starts it
    # beside the build; it may not have concluded when the build's follow-up starts).
    tests_wait_seconds: Count = TESTS_WAIT_SECONDS


class SignConfig(_Table):
    """The sign session's keyless identity (``[tool.vibevoice-ci.sign]``; docs/ci-cd.md,
    "Signing and provenance"): the certificate of a keyless signature must name
    ``certificate_identity`` (``{repository}``: ``$GITHUB_REPOSITORY``), issued by
    ``certificate_oidc_issuer``; and the commit's run of ``required_workflow`` must have
    concluded success before anything is signed."""

    required_workflow: Text = REQUIRED_WORKFLOW
    tests_wait_seconds: Count = TESTS_WAIT_SECONDS

    certificate_identity: Text = (
        "https://github.com/{repository}/.github/workflows/ci-provenance.yml@refs/heads/main"
    )
    certificate_oidc_issuer: Annotated[Text, AfterValidator(_https)] = (
        "https://token.actions.githubusercontent.com"
    )

    def identity_for(self, repository: str) -> str:
        return self.certificate_identity.replace("{repository}", repository)


class _AuditAllowEntry(_Table):
    """One ``[[tool.vibevoice-ci.audit.allow]]`` entry: id, reason and expires are required."""

    id: Text
    reason: Text
    expires: Day
    package: StrictStr = ""

    def value(self) -> AllowListEntry:
        # Package names as pip-audit reports them (PEP 503: lower case, runs of -_. as one -).
        package = re.sub(r"[-_.]+", "-", self.package.strip()).lower()
        return AllowListEntry(id=self.id, reason=self.reason, expires=self.expires, package=package)


AuditService = Literal["osv", "pypi"]
AUDIT_SERVICES: tuple[AuditService, ...] = ("osv", "pypi")


class AuditConfig(_Table):
    """The audit session's gate, advisory service and allow-list (``[tool.vibevoice-ci.audit]``,
    ``[[tool.vibevoice-ci.audit.allow]]``; every key optional, these are the defaults)."""

    # Findings at or above this severity fail; the ones below are listed in the summary.
    fail_at: GateSeverity = Severity.HIGH
    # The lowest severity written to the SARIF log (GitHub's Security tab).
    sarif_min: GateSeverity = Severity.LOW
    # pip-audit's vulnerability service: "osv" (the same service the severities come from,
    # at osv_url) or "pypi" (PyPI's JSON API, at a fixed address).
    service: AuditService = "osv"
    # OSV's API root: pip-audit queries <osv_url>/v1/query, severities come from
    # <osv_url>/v1/vulns/<id>. $VIBEVOICE_OSV_URL overrides it (tests serve recorded records).
    osv_url: Annotated[Text, AfterValidator(_http_root)] = "https://api.osv.dev"
    timeout: Positive = 15  # seconds per request, pip-audit's and the OSV client's
    # Accepted findings, each with its reason and an expiry date (an expired entry fails).
    allow: Annotated[
        tuple[Annotated[AllowListEntry, _read_as(_AuditAllowEntry)], ...],
        BeforeValidator(_array_of_tables),
    ] = ()


class ScanException(_Table):
    """An accepted configuration finding: which check, on which file (a glob), why, until
    when (``[[tool.vibevoice-ci.trivy.exceptions]]``; an expired one fails the session)."""

    id: Text
    target: Text = "*"
    reason: Text
    expires: TomlDate

    def expired(self, today: date) -> bool:
        return today > self.expires


class _TrivyAllowEntry(_Table):
    """One ``[[tool.vibevoice-ci.trivy.allow]]`` entry (package names as trivy reports them)."""

    id: Text
    reason: Text
    expires: TomlDate
    package: Text = ""

    def value(self) -> AllowListEntry:
        return AllowListEntry(
            id=self.id, reason=self.reason, expires=self.expires, package=self.package
        )


class TrivyConfig(_Table):
    """The trivy session's gate (``[tool.vibevoice-ci.trivy]``; docs/ci-cd.md, "trivy")."""

    # Vulnerabilities at this severity or above fail (unless allowed); lower ones are listed.
    fail_on: GateSeverity = Severity.CRITICAL
    # Configuration findings at this severity or above fail (unless excepted).
    misconfig_fail_on: GateSeverity = Severity.LOW
    # The SARIF log holds findings at this severity or above.
    sarif_min_severity: GateSeverity = Severity.HIGH
    # Folders scanned as configuration (Dockerfiles, the Helm chart), relative to the root.
    config_targets: ProjectPaths = ()
    # Values files the Helm chart is rendered with for the scan (none: its defaults).
    helm_values: ProjectPaths = ()
    # Where the vulnerability database comes from ("": trivy's own, mirror.gcr.io / ghcr.io).
    db_repository: Annotated[StrictStr, AfterValidator(_stripped)] = ""
    allow: Annotated[
        tuple[Annotated[AllowListEntry, _read_as(_TrivyAllowEntry)], ...],
        BeforeValidator(_array_of_tables),
    ] = ()
    exceptions: Annotated[tuple[ScanException, ...], BeforeValidator(_array_of_tables)] = ()


class MutationModule(_Table):
    """One module the mutation session mutates, and the tests of that module alone
    (``[[tool.vibevoice-ci.mutation.modules]]``)."""

    name: DnsLabel  # what the reports and `nox -s mutation -- NAME` call it
    path: ProjectPath  # the module's file, under src/
    # Only these functions' mutants (a method as Class.method); none: every function's.
    functions: Names = ()
    tests: ProjectPaths  # the test files that run against each mutant
    # Files or folders at the root that the tests read besides src/ and tests/ (mutmut runs
    # the tests in a copy of the project).
    also_copy: tuple[ProjectPath, ...] = ()
    min_score: Score | None = None  # None: the table's min_score


class MutationConfig(_Table):
    """The mutation session's modules and the score each must reach
    (``[tool.vibevoice-ci.mutation]``; docs/ci-cd.md, "Mutation testing")."""

    min_score: Score = 0.9  # killed / (mutants less the listed equivalents), per module
    max_children: Positive = 2  # mutmut's test runs at once
    timeout: Positive = 3600  # seconds one module's mutmut run may take
    # The equivalent mutants (a change no test can see), each with why; None: none listed.
    equivalents: ProjectPath | None = None
    modules: Annotated[tuple[MutationModule, ...], BeforeValidator(_array_of_tables)] = ()


def _some_service(services: Mapping[str, ServiceConfig]) -> Mapping[str, ServiceConfig]:
    if not services:
        raise ValueError("names no service")
    return services


class PipelineConfig(_Table):
    """Everything the sessions need to know about the project, in one place."""

    root: SkipJsonSchema[Path]  # the folder of pyproject.toml (not a key of the table)
    reports_dir: ProjectPath
    registry: Text
    platforms: Texts
    compose_file: ProjectPath
    compose_project: Text
    base_image: BaseImageConfig
    tools: Mapping[str, Text]
    services: Annotated[Mapping[str, ServiceConfig], AfterValidator(_some_service)]
    speech: SpeechCheckConfig = Field(alias="smoke")
    # What this run's environment variables say (with_environment; not a key of the table).
    env: SkipJsonSchema[InstanceOf[RunEnvironment]] = RunEnvironment()
    perf: PerfConfig = PerfConfig()
    helm: HelmConfig | None = None
    promote: PromoteConfig = PromoteConfig()
    sign: SignConfig = SignConfig()
    audit: AuditConfig = AuditConfig()
    trivy: TrivyConfig = TrivyConfig()
    mutation: MutationConfig = MutationConfig()

    @model_validator(mode="before")
    @classmethod
    def _from_pyproject(cls, data: Any, info: ValidationInfo) -> Any:
        """Read from the TOML table (parse_config gives a root): the root is parse_config's,
        each service is named by its table, and the perf table's defaults resolve against the
        root even where the table is absent."""
        root = _project_root(info)
        if root is None or not isinstance(data, Mapping):
            return data
        foreign = sorted({"root", "env"} & set(data))
        if foreign:
            raise ValueError(f"unknown key(s): {', '.join(foreign)}")
        data = {"perf": {}, **data, "root": root}
        services = data.get("services")
        if isinstance(services, dict):
            for name, table in services.items():
                if isinstance(table, dict) and "name" in table:
                    raise ValueError(f"services.{_key(name)}.name: unknown key")
            data["services"] = {
                name: {**table, "name": name} if isinstance(table, dict) else table
                for name, table in services.items()
            }
        return data

    def report_dir(self, session: str) -> Path:
        """The folder a session writes its results to."""
        return self.reports_dir / session

    def charted_services(self) -> list[ServiceConfig]:
        """The services the Helm chart deploys, by name: ``[tool.vibevoice-ci.helm] services``
        (each must be configured), else every configured service."""
        names = self.helm.services if self.helm and self.helm.services is not None else None
        return [self.service(name) for name in sorted(names or self.services)]

    def service(self, name: str) -> ServiceConfig:
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(sorted(self.services))
            raise ConfigError(f"unknown service {name!r} (configured: {known})") from None


# --- reading ------------------------------------------------------------------------------------


def parse_config(table: Mapping[str, Any], root: Path) -> PipelineConfig:
    """Validate the decoded ``[tool.vibevoice-ci]`` table; every problem is a ConfigError."""
    try:
        return PipelineConfig.model_validate(table, context={"root": root})
    except ValidationError as exc:
        raise ConfigError(f"{PYPROJECT}: {_problem(exc, table)}") from None


def load_config(root: Path | None = None) -> PipelineConfig:
    """Read the configuration from ``<root>/pyproject.toml`` (root: the repository)."""
    root = (root or find_project_root()).resolve()
    pyproject = root / PYPROJECT
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{pyproject} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from None
    table = document.get("tool", {}).get("vibevoice-ci")
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject} has no [{TABLE}] table")
    return parse_config(table, root)


def with_environment(config: PipelineConfig, environ: Mapping[str, str]) -> PipelineConfig:
    """``config`` with what ``environ`` says applied (pure): the one place the pipeline reads
    its environment variables (documented in docs/ci-cd.md). ``$VIBEVOICE_REPORTS_DIR``,
    ``$VIBEVOICE_COMPOSE_PROJECT``, ``$VIBEVOICE_REGISTRY``,
    ``$VIBEVOICE_TRIVY_DB_REPOSITORY``, ``$VIBEVOICE_PERF_REQUESTS`` and
    ``$VIBEVOICE_PERF_CAPACITY_MAX`` override configured values; the rest land in
    :class:`RunEnvironment`."""
    changes: dict[str, Any] = {}
    reports = _setting(environ, "VIBEVOICE_REPORTS_DIR")
    if reports:
        changes["reports_dir"] = config.root / reports
    project = _setting(environ, "VIBEVOICE_COMPOSE_PROJECT")
    if project:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", project):
            raise ConfigError(
                f"VIBEVOICE_COMPOSE_PROJECT={project!r}: use lowercase letters, digits, - and _"
            )
        changes["compose_project"] = project
    registry = _setting(environ, "VIBEVOICE_REGISTRY")
    if registry:
        changes["registry"] = registry
    trivy_db = _setting(environ, "VIBEVOICE_TRIVY_DB_REPOSITORY")
    if trivy_db:
        changes["trivy"] = config.trivy.model_copy(update={"db_repository": trivy_db})
    perf_sizes = _perf_sizes(environ)
    if perf_sizes:
        changes["perf"] = config.perf.model_copy(update=perf_sizes)
    env = changes["env"] = run_environment(environ)
    if env.osv_url:
        changes["audit"] = config.audit.model_copy(update={"osv_url": env.osv_url})
    return config.model_copy(update=changes)


# The perf run's size from the environment: variable, setting, smallest value.
_PERF_SIZES = (
    ("VIBEVOICE_PERF_REQUESTS", "requests", 1),
    ("VIBEVOICE_PERF_CAPACITY_MAX", "capacity_max", 0),
)


def _perf_sizes(environ: Mapping[str, str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name, setting, least in _PERF_SIZES:
        value = _setting(environ, name)
        if not value:
            continue
        if not re.fullmatch(r"[0-9]+", value) or int(value) < least:
            raise ConfigError(f"{name}={value!r}: use a whole number >= {least}")
        sizes[setting] = int(value)
    return sizes


def _setting(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding a configured pyproject."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file() and _has_pipeline_table(candidate):
            return folder
    raise ConfigError(f"no pyproject.toml with [{TABLE}] at or above {here}")


def _has_pipeline_table(pyproject: Path) -> bool:
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(document.get("tool", {}).get("vibevoice-ci"), dict)


# --- one line per problem -----------------------------------------------------------------------

# pydantic's words for a wrong type, in TOML's (a table, an array); every other message is
# pydantic's own ("Input should be less than 1") or ours (a validator's ValueError).
_TOML_WORDS = {
    "missing": "is required",
    "extra_forbidden": "unknown key",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "tuple_type": "must be an array",
    "list_type": "must be an array",
    "too_short": "must not be empty",
}
_MISSING = object()


def _problem(error: ValidationError, table: Mapping[str, Any]) -> str:
    """The first problem of ``error`` as ``[table] key: message (got value)``, on one line."""
    problems = error.errors(include_url=False)
    # An array whose only items are wrong is also "too short": its items' errors say why.
    problems = [
        problem
        for problem in problems
        if problem["type"] != "too_short"
        or not any(_inside(other["loc"], problem["loc"]) for other in problems)
    ]
    first = problems[0]
    where, key, value = _locate(first["loc"], table)
    message = _message(first)
    place = f"{where} {key}:" if key else where
    shown = ""
    if first["type"] != "missing" and value is not _MISSING and not isinstance(value, dict):
        shown = f" (got {_shown(value)})"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{place} {message}{shown}{more}"


def _inside(loc: tuple[int | str, ...], outer: tuple[int | str, ...]) -> bool:
    return len(loc) > len(outer) and loc[: len(outer)] == outer


def _message(problem: ErrorDetails) -> str:
    if problem["type"] == "value_error":
        return str(problem.get("ctx", {}).get("error", problem["msg"]))
    return _TOML_WORDS.get(problem["type"], problem["msg"])


def _locate(loc: tuple[int | str, ...], table: Mapping[str, Any]) -> tuple[str, str, Any]:
    """Split an error's location into the TOML table it is in (``[tool.vibevoice-ci.perf]``,
    ``[[tool.vibevoice-ci.trivy.exceptions]] #2 (KSV-0110)``), the key within it (``alpha``,
    ``platforms #2``) and the value found there."""
    names, entry, node, rest = [TABLE], "", table, list(loc)
    while len(rest) > 1 and not entry:  # the last part is the key, never a table
        part, child = rest[0], _child(node, rest[0])
        if isinstance(part, int) and isinstance(child, dict):  # an entry of an array of tables
            advisory = child.get("id")
            entry = f" #{part + 1}" + (f" ({_key(advisory)})" if isinstance(advisory, str) else "")
        elif isinstance(child, dict) or (
            len(rest) > 2 and isinstance(child, list) and isinstance(_child(child, rest[1]), dict)
        ):
            names.append(_key(part))
        else:
            break
        node = child
        rest.pop(0)
    header = f"[[{'.'.join(names)}]]{entry}" if entry else f"[{'.'.join(names)}]"
    key = ""
    value: Any = node
    for part in rest:
        key += f" #{part + 1}" if isinstance(part, int) else f"{'.' if key else ''}{_key(part)}"
        value = _child(value, part)
    return header, key, value


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def _key(name: object) -> str:
    """A key as TOML spells it: bare where it can be, else quoted (one line, always)."""
    text = str(name)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text)


def _shown(value: object, limit: int = 60) -> str:
    text = value.isoformat() if isinstance(value, date) else repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
