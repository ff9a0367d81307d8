"""The pipeline's single source of truth, read from ``[tool.vibevoice-ci]`` in pyproject.toml.

Parsing is pure (``parse_config`` takes the decoded TOML table) so it can be tested without
files; ``load_config`` is the edge that reads the file.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from vibevoice_ci.core.environment import RunEnvironment, run_environment
from vibevoice_ci.core.errors import ConfigError
from vibevoice_ci.core.vulnerabilities import AllowListEntry, Severity

TABLE = "tool.vibevoice-ci"


@dataclass(frozen=True)
class ServiceConfig:
    """One deployable service of the platform (one image, one compose service)."""

    name: str
    image: str
    dockerfile: Path
    requirements: Path
    extra: str
    module: str
    container_port: int
    host_port: int
    health_path: str
    ready_path: str
    metrics_path: str


@dataclass(frozen=True)
class BaseImageConfig:
    """The base every service image builds FROM, and the recipe for an offline equivalent."""

    default: str
    offline: str
    debian_suite: str
    debian_packages: tuple[str, ...]


@dataclass(frozen=True)
class PerfConfig:
    """The perf session's run size, regression thresholds and where its state lives
    (``[tool.vibevoice-ci.perf]``; every key optional, these are the defaults)."""

    engine: str = "espeak"
    concurrency: int = 2
    requests: int = 60
    warmup: int = 5
    max_concurrency: int = 8  # the service's VIBEVOICE_TTS_MAX_CONCURRENCY during a run
    capacity_max: int = 4  # realtime capacity: step 1..N concurrent streams (0: skip)
    prompts: Path | None = None  # None: the prompt set built into vibevoice_ci.perf
    state_dir: Path = Path(".perf-state")  # baseline.json and history.jsonl
    ttfa_increase: float = 0.10  # TTFA mean and p50: more than 10% higher is a regression
    e2e_p95_increase: float = 0.15  # end-to-end p95: more than 15% higher
    max_error_rate: float = 0.01  # an error rate above 1%
    alpha: float = 0.01  # significance level of the statistical rule


HELM_LEVELS = ("static", "cluster", "pods")


@dataclass(frozen=True)
class HelmConfig:
    """The helm session's chart, targets and accepted unknowns (``[tool.vibevoice-ci.helm]``;
    docs/helm.md)."""

    chart: Path
    ci_values: Path
    # The services the chart deploys (None: every configured service). A service not in it is
    # named in the session's report as not charted, never silently left out.
    services: tuple[str, ...] | None = None
    release: str = "vibevoice-ci"
    namespace: str = "vibevoice"
    # Schema validation and API-removal targets (minor versions, oldest first).
    kubernetes_versions: tuple[str, ...] = ("1.29", "1.35")
    levels: tuple[str, ...] = HELM_LEVELS
    # Which of the chart's services may reach each service (its NetworkPolicy's clients).
    network_clients: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # Variables each service's container must take from a Secret (a secretKeyRef), e.g. the
    # agent's bearer tokens.
    secret_env: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # Checks this machine cannot decide, each with its reason: reported UNKNOWN, never passed,
    # and not a failure of the run even under CI. Any other unknown fails under CI.
    expected_unknown: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # kwok's stage definitions (written by scripts/ci/install-kubernetes.sh).
    kwok_stages: Path = Path("/usr/local/share/vibevoice/kwok-stages.yaml")


@dataclass(frozen=True)
class SpeechCheckConfig:
    """The smoke session's speech check (``[tool.vibevoice-ci.smoke]``): the sentences it
    synthesizes on each endpoint, and per engine the lowest word recall each must reach."""

    sentences: tuple[str, ...]
    # Engine name -> the lowest recall each sentence must reach (0 < r <= 1), measured.
    min_recall: Mapping[str, float]
    # Engine name -> why its audio is not scored: its speech check is reported as unknown.
    unscored: Mapping[str, str]
    # The agent's speech check ([tool.vibevoice-ci.smoke.agent]): the turn the smoke session
    # sends, and per engine the lowest recall each sentence of the reply must reach.
    agent_turn: str
    agent_min_recall: Mapping[str, float]


@dataclass(frozen=True)
class SignConfig:
    """The sign session's keyless identity (``[tool.vibevoice-ci.sign]``; docs/ci-cd.md,
    "Signing and provenance"): the certificate of a keyless signature must name
    ``certificate_identity`` (``{repository}``: ``$GITHUB_REPOSITORY``), issued by
    ``certificate_oidc_issuer``."""

    certificate_identity: str = (
        "https://github.com/{repository}/.github/workflows/ci-provenance.yml@refs/heads/main"
    )
    certificate_oidc_issuer: str = "https://token.actions.githubusercontent.com"

    def identity_for(self, repository: str) -> str:
        return self.certificate_identity.replace("{repository}", repository)


AUDIT_SERVICES = ("osv", "pypi")


@dataclass(frozen=True)
class AuditConfig:
    """The audit session's gate, advisory service and allow-list (``[tool.vibevoice-ci.audit]``,
    ``[[tool.vibevoice-ci.audit.allow]]``; every key optional, these are the defaults)."""

    # Findings at or above this severity fail; the ones below are listed in the summary.
    fail_at: Severity = Severity.HIGH
    # The lowest severity written to the SARIF log (GitHub's Security tab).
    sarif_min: Severity = Severity.LOW
    # pip-audit's vulnerability service: "osv" (the same service the severities come from,
    # at osv_url) or "pypi" (PyPI's JSON API, at a fixed address).
    service: str = "osv"
    # OSV's API root: pip-audit queries <osv_url>/v1/query, severities come from
    # <osv_url>/v1/vulns/<id>. $VIBEVOICE_OSV_URL overrides it (tests serve recorded records).
    osv_url: str = "https://api.osv.dev"
    timeout: int = 15  # seconds per request, pip-audit's and the OSV client's
    # Accepted findings, each with its reason and an expiry date (an expired entry fails).
    allow: tuple[AllowListEntry, ...] = ()


@dataclass(frozen=True)
class ScanException:
    """An accepted configuration finding: which check, on which file (a glob), why, until
    when (``[[tool.vibevoice-ci.trivy.exceptions]]``; an expired one fails the session)."""

    id: str
    target: str
    reason: str
    expires: date

    def expired(self, today: date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class TrivyConfig:
    """The trivy session's gate (``[tool.vibevoice-ci.trivy]``; docs/ci-cd.md, "trivy")."""

    # Vulnerabilities at this severity or above fail (unless allowed); lower ones are listed.
    fail_on: Severity = Severity.CRITICAL
    # Configuration findings at this severity or above fail (unless excepted).
    misconfig_fail_on: Severity = Severity.LOW
    # The SARIF log holds findings at this severity or above.
    sarif_min_severity: Severity = Severity.HIGH
    # Folders scanned as configuration (Dockerfiles, the Helm chart), relative to the root.
    config_targets: tuple[Path, ...] = ()
    # Values files the Helm chart is rendered with for the scan (none: its defaults).
    helm_values: tuple[Path, ...] = ()
    # Where the vulnerability database comes from ("": trivy's own, mirror.gcr.io / ghcr.io).
    db_repository: str = ""
    allow: tuple[AllowListEntry, ...] = ()
    exceptions: tuple[ScanException, ...] = ()


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the sessions need to know about the project, in one place."""

    root: Path
    reports_dir: Path
    registry: str
    platforms: tuple[str, ...]
    compose_file: Path
    compose_project: str
    base_image: BaseImageConfig
    tools: Mapping[str, str]
    services: Mapping[str, ServiceConfig]
    speech: SpeechCheckConfig
    env: RunEnvironment = dataclasses.field(default_factory=RunEnvironment)
    perf: PerfConfig = PerfConfig()
    helm: HelmConfig | None = None
    sign: SignConfig = SignConfig()
    audit: AuditConfig = AuditConfig()
    trivy: TrivyConfig = TrivyConfig()

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


def load_config(root: Path | None = None) -> PipelineConfig:
    """Read the configuration from ``<root>/pyproject.toml`` (root: the repository)."""
    root = (root or find_project_root()).resolve()
    pyproject = root / "pyproject.toml"
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
    ``$VIBEVOICE_COMPOSE_PROJECT`` and ``$VIBEVOICE_REGISTRY`` override configured values; the
    rest land in :class:`RunEnvironment`."""
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
    changes["env"] = run_environment(environ)
    if changes["env"].osv_url:
        changes["audit"] = dataclasses.replace(config.audit, osv_url=changes["env"].osv_url)
    return dataclasses.replace(config, **changes)


def _setting(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding a configured pyproject."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_pipeline_table(candidate):
            return folder
    raise ConfigError(f"no pyproject.toml with [{TABLE}] at or above {here}")


def _has_pipeline_table(pyproject: Path) -> bool:
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(document.get("tool", {}).get("vibevoice-ci"), dict)


def parse_config(table: Mapping[str, Any], root: Path) -> PipelineConfig:
    """Validate the decoded ``[tool.vibevoice-ci]`` table; every problem is a ConfigError."""
    services_table = _table(table, "services", TABLE)
    if not services_table:
        raise ConfigError(f"[{TABLE}.services] names no service")
    base = _table(table, "base_image", TABLE)
    tools = _table(table, "tools", TABLE)
    return PipelineConfig(
        root=root,
        reports_dir=root / _str(table, "reports_dir", TABLE),
        registry=_str(table, "registry", TABLE),
        platforms=_str_tuple(table, "platforms", TABLE),
        compose_file=root / _str(table, "compose_file", TABLE),
        compose_project=_str(table, "compose_project", TABLE),
        base_image=BaseImageConfig(
            default=_str(base, "default", f"{TABLE}.base_image"),
            offline=_str(base, "offline", f"{TABLE}.base_image"),
            debian_suite=_str(base, "debian_suite", f"{TABLE}.base_image"),
            debian_packages=_str_tuple(base, "debian_packages", f"{TABLE}.base_image"),
        ),
        tools={name: _str(tools, name, f"{TABLE}.tools") for name in tools},
        services={
            name: _parse_service(name, _table(services_table, name, f"{TABLE}.services"), root)
            for name in services_table
        },
        perf=_parse_perf(table.get("perf", {}), root),
        speech=_parse_speech(_table(table, "smoke", TABLE)),
        helm=_parse_helm(table["helm"], root) if "helm" in table else None,
        audit=_parse_audit(table.get("audit", {})),
        sign=_parse_sign(table.get("sign", {})),
        trivy=_parse_trivy(table.get("trivy", {}), root),
    )


def _parse_audit(table: object) -> AuditConfig:
    where = f"{TABLE}.audit"
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    known = {field.name for field in dataclasses.fields(AuditConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key in ("fail_at", "sarif_min"):
        if key in table:
            word = _str(table, key, where)
            severity = Severity.parse(word)
            if severity is Severity.UNKNOWN:
                levels = ", ".join(s.value for s in Severity if s is not Severity.UNKNOWN)
                raise ConfigError(f"[{where}] {key} {word!r} is not one of {levels}")
            values[key] = severity
    if "service" in table:
        values["service"] = _str(table, "service", where)
        if values["service"] not in AUDIT_SERVICES:
            raise ConfigError(
                f"[{where}] service {values['service']!r}: choose from {', '.join(AUDIT_SERVICES)}"
            )
    if "osv_url" in table:
        values["osv_url"] = _str(table, "osv_url", where).rstrip("/")
        if not re.match(r"https?://[^/\s]+", values["osv_url"]):
            raise ConfigError(f"[{where}] osv_url {values['osv_url']!r} is not an http(s) URL")
    if "timeout" in table:
        timeout = table["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
            raise ConfigError(f"[{where}] timeout must be whole seconds >= 1, got {timeout!r}")
        values["timeout"] = timeout
    entries = table.get("allow", [])
    if not isinstance(entries, list):
        raise ConfigError(f"[[{where}.allow]] must be an array of tables")
    values["allow"] = tuple(_parse_allow(entry, n) for n, entry in enumerate(entries, 1))
    return AuditConfig(**values)


_ALLOW_KEYS = frozenset({"id", "reason", "expires", "package"})


def _parse_allow(entry: object, number: int) -> AllowListEntry:
    """One ``[[tool.vibevoice-ci.audit.allow]]`` entry: id, reason and expires are required."""
    where = f"{TABLE}.audit.allow #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"[{where}] must be a table with id, reason and expires")
    unknown = sorted(set(entry) - _ALLOW_KEYS)
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    advisory = _str(entry, "id", where)
    reason = _str(entry, "reason", where)
    expires = entry.get("expires")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires.strip())
        except ValueError:
            expires = None
    # TOML's datetime is a date subclass too: an expiry is a day, so refuse a time of day.
    if not isinstance(expires, date) or type(expires) is not date:
        raise ConfigError(
            f"[{where}] ({advisory}) expires must be a date like 2027-01-31, "
            f"got {entry.get('expires')!r}"
        )
    package = entry.get("package", "")
    if not isinstance(package, str):
        raise ConfigError(f"[{where}] ({advisory}) package must be a string")
    # Package names as pip-audit reports them (PEP 503: lower case, runs of -_. as one -).
    package = re.sub(r"[-_.]+", "-", package.strip()).lower()
    return AllowListEntry(id=advisory, reason=reason, expires=expires, package=package)


def _parse_sign(table: object) -> SignConfig:
    where = f"{TABLE}.sign"
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    known = {field.name for field in dataclasses.fields(SignConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    values = {key: _str(table, key, where) for key in table}
    issuer = values.get("certificate_oidc_issuer", SignConfig.certificate_oidc_issuer)
    if not issuer.startswith("https://"):
        raise ConfigError(f"[{where}] certificate_oidc_issuer {issuer!r} is not an https URL")
    return SignConfig(**values)


def _parse_helm(table: object, root: Path) -> HelmConfig:
    where = f"{TABLE}.helm"
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    known = {field.name for field in dataclasses.fields(HelmConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {
        "chart": root / _str(table, "chart", where),
        "ci_values": root / _str(table, "ci_values", where),
    }
    for key in ("release", "namespace"):
        if key in table:
            values[key] = _str(table, key, where)
            if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", values[key]):
                raise ConfigError(f"[{where}] {key} {values[key]!r} is not a DNS label")
    if "kubernetes_versions" in table:
        versions = _str_tuple(table, "kubernetes_versions", where)
        if not all(re.fullmatch(r"1\.\d+", version) for version in versions):
            raise ConfigError(f'[{where}] kubernetes_versions are minor versions like "1.35"')
        values["kubernetes_versions"] = versions
    if "levels" in table:
        levels = _str_tuple(table, "levels", where)
        if not set(levels) <= set(HELM_LEVELS):
            raise ConfigError(f"[{where}] levels must be among {', '.join(HELM_LEVELS)}")
        values["levels"] = levels
    if "kwok_stages" in table:
        values["kwok_stages"] = Path(_str(table, "kwok_stages", where))
    if "services" in table:
        values["services"] = _str_tuple(table, "services", where)
    for key in ("network_clients", "secret_env"):
        found = table.get(key, {})
        if not isinstance(found, dict):
            raise ConfigError(f"[{where}] {key} must be a table of service = [names]")
        values[key] = {name: _name_list(found, name, f"{where}.{key}") for name in found}
    expected = table.get("expected_unknown", {})
    if not isinstance(expected, dict):
        raise ConfigError(f"[{where}] expected_unknown must be a table of check = reason")
    values["expected_unknown"] = {
        name: _str(expected, name, f"{where}.expected_unknown") for name in expected
    }
    return HelmConfig(**values)


def _parse_trivy(table: object, root: Path) -> TrivyConfig:
    where = f"{TABLE}.trivy"
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    unknown = sorted(set(table) - {field.name for field in dataclasses.fields(TrivyConfig)})
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key in ("fail_on", "misconfig_fail_on", "sarif_min_severity"):
        if key in table:
            word = _str(table, key, where).upper()
            if word not in Severity.__members__ or word == "UNKNOWN":
                raise ConfigError(f"[{where}] {key} must be CRITICAL, HIGH, MEDIUM or LOW")
            values[key] = Severity(word)
    if "config_targets" in table:
        values["config_targets"] = tuple(
            root / path for path in _str_tuple(table, "config_targets", where)
        )
    if "helm_values" in table:
        values["helm_values"] = tuple(
            root / path for path in _str_tuple(table, "helm_values", where)
        )
    if "db_repository" in table:
        value = table["db_repository"]
        if not isinstance(value, str):
            raise ConfigError(f"[{where}] db_repository must be a string")
        values["db_repository"] = value.strip()
    values["allow"] = tuple(
        AllowListEntry(
            id=entry["id"],
            reason=entry["reason"],
            expires=entry["expires"],
            package=entry.get("package", ""),
        )
        for entry in _entries(table, "allow", where, ("id", "reason", "expires", "package"))
    )
    values["exceptions"] = tuple(
        ScanException(
            id=entry["id"],
            target=entry.get("target", "*"),
            reason=entry["reason"],
            expires=entry["expires"],
        )
        for entry in _entries(table, "exceptions", where, ("id", "reason", "expires", "target"))
    )
    return TrivyConfig(**values)


def _entries(
    table: Mapping[str, Any], key: str, where: str, fields: tuple[str, ...]
) -> list[dict[str, Any]]:
    """An array of tables of allow-list entries: ``id``, a ``reason`` and an ``expires`` date
    (a TOML date, ``2027-03-31``) required; every other field a string."""
    entries = table.get(key, [])
    if not isinstance(entries, list):
        raise ConfigError(f"[{where}] {key} must be an array of tables ([[{where}.{key}]])")
    parsed = []
    for index, entry in enumerate(entries):
        place = f"[[{where}.{key}]] #{index + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{place} must be a table")
        extra = sorted(set(entry) - set(fields))
        if extra:
            raise ConfigError(f"{place}: unknown key(s) {', '.join(extra)}")
        for name in fields:
            if name == "expires":
                value = entry.get(name)
                if not isinstance(value, date) or isinstance(value, datetime):
                    raise ConfigError(f"{place}: expires must be a TOML date like 2027-03-31")
            elif name in entry or name in ("id", "reason"):
                _str(entry, name, place)
        parsed.append(entry)
    return parsed


_PERF_INTS = ("concurrency", "requests", "warmup", "max_concurrency", "capacity_max")
_PERF_FRACTIONS = ("ttfa_increase", "e2e_p95_increase", "max_error_rate", "alpha")


def _parse_perf(table: object, root: Path) -> PerfConfig:
    where = f"{TABLE}.perf"
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    known = {field.name for field in dataclasses.fields(PerfConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    if "engine" in table:
        values["engine"] = _str(table, "engine", where)
    for key in ("prompts", "state_dir"):
        if key in table:
            values[key] = root / _str(table, key, where)
    for key in _PERF_INTS:
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"[{where}] {key!r} must be a whole number >= 0, got {value!r}")
            values[key] = value
    for key in _PERF_FRACTIONS:
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
                raise ConfigError(f"[{where}] {key!r} must be a number in (0, 1), got {value!r}")
            values[key] = float(value)
    perf = PerfConfig(**values)
    if perf.concurrency < 1 or perf.requests < 1 or perf.max_concurrency < 1:
        raise ConfigError(f"[{where}] concurrency, requests and max_concurrency must be >= 1")
    if "state_dir" not in table:
        perf = dataclasses.replace(perf, state_dir=root / perf.state_dir)
    return perf


def _parse_speech(table: Mapping[str, Any]) -> SpeechCheckConfig:
    where = f"{TABLE}.smoke"
    sentences = _str_tuple(table, "sentences", where)
    for sentence in sentences:
        if not any(character.isalnum() for character in sentence):
            raise ConfigError(f"[{where}] sentence {sentence!r} has no word to recognise")
    min_recall = _recalls(table, where)
    unscored_table = table.get("unscored", {})
    if not isinstance(unscored_table, dict):
        raise ConfigError(f"[{where}] 'unscored' must be a table of engine = reason")
    unscored = {
        engine: _str(unscored_table, engine, f"{where}.unscored") for engine in unscored_table
    }
    agent = _table(table, "agent", where)
    agent_turn = _str(agent, "turn", f"{where}.agent")
    if not any(character.isalnum() for character in agent_turn):
        raise ConfigError(f"[{where}.agent] turn {agent_turn!r} has no word to recognise")
    agent_min_recall = _recalls(agent, f"{where}.agent")
    both = sorted((set(min_recall) | set(agent_min_recall)) & set(unscored))
    if both:
        raise ConfigError(
            f"[{where}] {', '.join(both)} has both a min_recall and an unscored reason: choose one"
        )
    return SpeechCheckConfig(
        sentences=sentences,
        min_recall=min_recall,
        unscored=unscored,
        agent_turn=agent_turn,
        agent_min_recall=agent_min_recall,
    )


def _recalls(table: Mapping[str, Any], where: str) -> dict[str, float]:
    """``[<where>.min_recall]``: engine = the lowest recall a sentence must reach (0 < r <= 1)."""
    recalls: dict[str, float] = {}
    for engine, value in _table(table, "min_recall", where).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise ConfigError(
                f"[{where}.min_recall] {engine!r} must be a recall above 0 and at most 1, "
                f"got {value!r}"
            )
        recalls[engine] = float(value)
    return recalls


def _parse_service(name: str, table: Mapping[str, Any], root: Path) -> ServiceConfig:
    where = f"{TABLE}.services.{name}"
    paths = {key: _str(table, key, where) for key in ("health_path", "ready_path", "metrics_path")}
    for key, value in paths.items():
        if not value.startswith("/"):
            raise ConfigError(f"[{where}] {key} must start with '/', got {value!r}")
    return ServiceConfig(
        name=name,
        image=_str(table, "image", where),
        dockerfile=root / _str(table, "dockerfile", where),
        requirements=root / _str(table, "requirements", where),
        extra=_str(table, "extra", where),
        module=_str(table, "module", where),
        container_port=_port(table, "container_port", where),
        host_port=_port(table, "host_port", where),
        **paths,
    )


def _table(table: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = table.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"[{where}] needs a table {key!r}")
    return value


def _str(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[{where}] {key!r} must be a non-empty string, got {value!r}")
    return value


def _str_tuple(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[{where}] {key!r} must be a non-empty list of strings")
    return tuple(value)


def _name_list(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of strings that may be empty (``agent = []``: none)."""
    value = table.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"[{where}] {key!r} must be a list of names")
    return tuple(value)


def _port(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(f"[{where}] {key!r} must be a port number 1-65535, got {value!r}")
    return value
