"""The pipeline's single source of truth, read from ``[tool.vibevoice-ci]`` in pyproject.toml.

Parsing is pure (``parse_config`` takes the decoded TOML table) so it can be tested without
files; ``load_config`` is the edge that reads the file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_ci.errors import ConfigError

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


SMOKE_MODES = ("auto", "docker", "local")
# Where caches live between runs on one machine (scripts/ci/install-tools.sh uses it too).
DEFAULT_CACHE_DIR = Path("/var/cache/vibevoice-ci")
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
    # Debian root filesystems); None means the default, DEFAULT_CACHE_DIR.
    cache_dir: Path | None = None
    # $VIBEVOICE_BUILDX_BUILDER: a multi-platform buildx builder that already runs (GitHub's
    # docker/setup-buildx-action); unset, the release build starts its own buildkitd.
    buildx_builder: str | None = None

    @property
    def cache_root(self) -> Path:
        return self.cache_dir or DEFAULT_CACHE_DIR

    # $VIBEVOICE_HELM_ACCEPT_UNKNOWN: helm checks a CI job accepts as unknown, one
    # "check: reason" per line (a workflow that cannot run a level says which and why).
    helm_accept_unknown: Mapping[str, str] = dataclasses.field(default_factory=dict)


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
    env: RunEnvironment = RunEnvironment()
    perf: PerfConfig = PerfConfig()
    helm: HelmConfig | None = None

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
    return dataclasses.replace(config, **changes)


def run_environment(environ: Mapping[str, str]) -> RunEnvironment:
    """The :class:`RunEnvironment` that ``environ`` describes (pure)."""
    smoke_mode = _setting(environ, "VIBEVOICE_SMOKE_MODE") or "auto"
    if smoke_mode not in SMOKE_MODES:
        raise ConfigError(
            f"VIBEVOICE_SMOKE_MODE={smoke_mode!r}: choose from {', '.join(SMOKE_MODES)}"
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
        cache_dir=(
            Path(_setting(environ, "VIBEVOICE_CACHE_DIR"))
            if _setting(environ, "VIBEVOICE_CACHE_DIR")
            else None
        ),
        helm_accept_unknown=parse_accept_unknown(environ.get("VIBEVOICE_HELM_ACCEPT_UNKNOWN", "")),
    )


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
    )


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
    min_recall: dict[str, float] = {}
    for engine, value in _table(table, "min_recall", where).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise ConfigError(
                f"[{where}.min_recall] {engine!r} must be a recall above 0 and at most 1, "
                f"got {value!r}"
            )
        min_recall[engine] = float(value)
    unscored_table = table.get("unscored", {})
    if not isinstance(unscored_table, dict):
        raise ConfigError(f"[{where}] 'unscored' must be a table of engine = reason")
    unscored = {
        engine: _str(unscored_table, engine, f"{where}.unscored") for engine in unscored_table
    }
    both = sorted(set(min_recall) & set(unscored))
    if both:
        raise ConfigError(
            f"[{where}] {', '.join(both)} has both a min_recall and an unscored reason: choose one"
        )
    return SpeechCheckConfig(sentences=sentences, min_recall=min_recall, unscored=unscored)


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
