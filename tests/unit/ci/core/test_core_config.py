"""``vibevoice_ci.core.config``: parsing ``[tool.vibevoice-ci]`` and finding the project root."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from vibevoice_ci.core.config import (
    AgentSpeechCheckConfig,
    BaseImageConfig,
    PipelineConfig,
    SpeechCheckConfig,
    find_project_root,
    load_config,
    parse_config,
    with_environment,
)
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, ConfigError

ROOT = Path("/srv/project")


def _without(table: dict[str, Any], *path: str) -> dict[str, Any]:
    node = table
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return table


def _with(table: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    node = table
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return table


def _named(*path: str) -> str:
    """How a ConfigError begins when it is about the key at ``path``: the file, the table,
    the key (``pyproject.toml: [tool.vibevoice-ci.services.tts] image:``)."""
    return f"pyproject.toml: [{'.'.join(('tool.vibevoice-ci', *path[:-1]))}] {path[-1]}:"


def _problem(table: dict[str, Any]) -> str:
    """The one-line message of the ConfigError that parsing ``table`` raises."""
    with pytest.raises(ConfigError) as caught:
        parse_config(table, ROOT)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    return message


# --- parse_config: a valid table --------------------------------------------------------------


def test_parse_valid_table(valid_table: dict[str, Any]) -> None:
    config = parse_config(valid_table, ROOT)

    assert isinstance(config, PipelineConfig)
    assert config.root == ROOT
    assert config.reports_dir == ROOT / "reports"
    assert config.registry == "ghcr.io/example"
    assert config.platforms == ("linux/amd64", "linux/arm64")
    assert config.compose_file == ROOT / "infra/docker/compose.yaml"
    assert config.compose_project == "example-ci"
    assert config.base_image == BaseImageConfig(
        default="python:3.11-slim-bookworm",
        offline="example-base:bookworm",
        debian_suite="bookworm",
        debian_packages=("python3", "ca-certificates"),
    )
    assert dict(config.tools) == {"uv": "0.13.9", "docker": "20.10"}
    assert list(config.services) == ["tts"]
    tts = config.service("tts")
    assert tts.name == "tts"
    assert tts.image == "example-tts"
    assert tts.dockerfile == ROOT / "infra/docker/tts.Dockerfile"
    assert tts.requirements == ROOT / "infra/docker/requirements/tts.txt"
    assert tts.extra == "tts"
    assert tts.module == "example.tts"
    assert (tts.container_port, tts.host_port) == (8000, 18000)
    assert (tts.health_path, tts.ready_path, tts.metrics_path) == ("/health", "/ready", "/metrics")
    assert config.report_dir("smoke") == ROOT / "reports" / "smoke"
    assert config.speech == SpeechCheckConfig(
        sentences=("Please call me back.", "Meet me at 7."),
        min_recall={"piper": 0.75},
        unscored={"espeak": "scores like noise"},
        agent=AgentSpeechCheckConfig(turn="Please call me back.", min_recall={"piper": 0.6}),
    )
    assert config.speech.agent_turn == "Please call me back."
    assert config.speech.agent_min_recall == {"piper": 0.6}


def test_parse_keeps_every_service(valid_table: dict[str, Any]) -> None:
    second = dict(valid_table["services"]["tts"], image="example-agent", host_port=18001)
    valid_table["services"]["agent"] = second

    config = parse_config(valid_table, ROOT)

    assert sorted(config.services) == ["agent", "tts"]
    assert config.service("agent").image == "example-agent"
    assert config.service("agent").name == "agent"
    assert config.service("agent").host_port == 18001


def test_unknown_service_names_the_known_ones(valid_table: dict[str, Any]) -> None:
    config = parse_config(valid_table, ROOT)

    with pytest.raises(ConfigError, match=r"'nope'.*tts"):
        config.service("nope")


def test_config_error_is_bad_input() -> None:
    assert ConfigError.exit_code == EXIT_BAD_INPUT == 2


# --- parse_config: malformed tables -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ("services",),
        ("base_image",),
        ("tools",),
        ("registry",),
        ("reports_dir",),
        ("platforms",),
        ("compose_file",),
        ("compose_project",),
        ("base_image", "default"),
        ("base_image", "offline"),
        ("base_image", "debian_suite"),
        ("base_image", "debian_packages"),
        ("services", "tts", "image"),
        ("services", "tts", "dockerfile"),
        ("services", "tts", "requirements"),
        ("services", "tts", "extra"),
        ("services", "tts", "module"),
        ("services", "tts", "container_port"),
        ("services", "tts", "host_port"),
        ("services", "tts", "health_path"),
        ("services", "tts", "ready_path"),
        ("services", "tts", "metrics_path"),
        ("smoke",),
        ("smoke", "sentences"),
        ("smoke", "min_recall"),
        ("smoke", "agent"),
        ("smoke", "agent", "turn"),
        ("smoke", "agent", "min_recall"),
    ],
    ids=".".join,
)
def test_missing_key_is_named(valid_table: dict[str, Any], path: tuple[str, ...]) -> None:
    assert _problem(_without(valid_table, *path)) == f"{_named(*path)} is required"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("registry",), 42),
        (("registry",), ""),
        (("registry",), "   "),
        (("reports_dir",), ["reports"]),
        (("platforms",), "linux/amd64"),
        (("platforms",), []),
        (("platforms",), ["linux/amd64", 7]),
        (("services",), ["tts"]),
        (("services",), "tts"),
        (("base_image",), "python:3.11"),
        (("tools",), ["uv"]),
        (("tools", "docker"), 20.10),
        (("base_image", "debian_packages"), "python3"),
        (("services", "tts"), "not a table"),
        (("services", "tts", "image"), None),
        (("services", "tts", "container_port"), "8000"),
        (("services", "tts", "container_port"), 8000.0),
        (("smoke",), ["sentences"]),
        (("smoke", "sentences"), "Hello."),
        (("smoke", "sentences"), []),
        (("smoke", "min_recall"), 0.75),
        (("smoke", "unscored"), ["espeak"]),
        (("smoke", "unscored", "espeak"), ""),
        (("smoke", "agent"), "Hello."),
        (("smoke", "agent", "turn"), ["Hello."]),
        (("smoke", "agent", "min_recall"), 0.6),
    ],
)
def test_wrong_type_is_named(
    valid_table: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    message = _problem(_with(valid_table, value, *path))
    # platforms = ["linux/amd64", 7]: the array's second item is named ("platforms #2").
    assert message.startswith(_named(*path)[:-1]), message


@pytest.mark.parametrize("port", [0, -1, 65536, 70000, True, False])
@pytest.mark.parametrize("key", ["container_port", "host_port"])
def test_bad_port_is_named(valid_table: dict[str, Any], key: str, port: Any) -> None:
    valid_table["services"]["tts"][key] = port

    message = _problem(valid_table)
    assert message.startswith(_named("services", "tts", key)), message
    assert message.endswith(f"(got {port!r})")


@pytest.mark.parametrize("port", [1, 80, 65535])
def test_edge_ports_are_accepted(valid_table: dict[str, Any], port: int) -> None:
    valid_table["services"]["tts"]["host_port"] = port

    assert parse_config(valid_table, ROOT).service("tts").host_port == port


@pytest.mark.parametrize("key", ["health_path", "ready_path", "metrics_path"])
@pytest.mark.parametrize("value", ["health", "http://x/health", " /health"])
def test_endpoint_path_must_start_with_slash(
    valid_table: dict[str, Any], key: str, value: str
) -> None:
    valid_table["services"]["tts"][key] = value

    assert _problem(valid_table) == (
        f"{_named('services', 'tts', key)} must start with '/' (got {value!r})"
    )


def test_speech_check_without_unscored_engines(valid_table: dict[str, Any]) -> None:
    del valid_table["smoke"]["unscored"]

    assert parse_config(valid_table, ROOT).speech.unscored == {}


@pytest.mark.parametrize("recall", [0, -0.5, 1.01, "0.8", True, math.nan])
def test_a_recall_threshold_must_be_a_share(valid_table: dict[str, Any], recall: Any) -> None:
    valid_table["smoke"]["min_recall"]["piper"] = recall

    message = _problem(valid_table)
    assert message.startswith(_named("smoke", "min_recall", "piper")), message
    assert message.endswith(f"(got {recall!r})")


@pytest.mark.parametrize("recall", [0, -0.5, 1.01, "0.8", True, math.nan])
def test_the_agents_recall_threshold_must_be_a_share(
    valid_table: dict[str, Any], recall: Any
) -> None:
    valid_table["smoke"]["agent"]["min_recall"]["piper"] = recall

    message = _problem(valid_table)
    assert message.startswith(_named("smoke", "agent", "min_recall", "piper")), message
    assert message.endswith(f"(got {recall!r})")


def test_an_agent_turn_without_a_word_is_refused(valid_table: dict[str, Any]) -> None:
    valid_table["smoke"]["agent"]["turn"] = "?!"

    assert (
        _problem(valid_table)
        == f"{_named('smoke', 'agent', 'turn')} has no word to recognise (got '?!')"
    )


def test_an_integer_threshold_of_one_is_accepted(valid_table: dict[str, Any]) -> None:
    valid_table["smoke"]["min_recall"]["piper"] = 1

    assert parse_config(valid_table, ROOT).speech.min_recall == {"piper": 1.0}


def test_a_sentence_without_a_word_is_refused(valid_table: dict[str, Any]) -> None:
    valid_table["smoke"]["sentences"].append("...")

    assert _problem(valid_table) == (
        "pyproject.toml: [tool.vibevoice-ci.smoke] sentences #3: has no word to recognise "
        "(got '...')"
    )


def test_an_engine_cannot_be_both_scored_and_unscored(valid_table: dict[str, Any]) -> None:
    valid_table["smoke"]["unscored"]["piper"] = "why"

    with pytest.raises(ConfigError, match="piper has both a min_recall and an unscored reason"):
        parse_config(valid_table, ROOT)


def test_an_engine_scored_for_the_agent_cannot_be_unscored(valid_table: dict[str, Any]) -> None:
    valid_table["smoke"]["agent"]["min_recall"]["espeak"] = 0.5

    with pytest.raises(ConfigError, match="espeak has both a min_recall and an unscored reason"):
        parse_config(valid_table, ROOT)


def test_empty_services_table(valid_table: dict[str, Any]) -> None:
    valid_table["services"] = {}

    assert _problem(valid_table) == f"{_named('services')} names no service"


def test_error_names_the_failing_service(valid_table: dict[str, Any]) -> None:
    bad = dict(valid_table["services"]["tts"], host_port=0)
    valid_table["services"]["agent"] = bad

    with pytest.raises(ConfigError, match=r"services\.agent\].*host_port"):
        parse_config(valid_table, ROOT)


@pytest.mark.parametrize(
    "path",
    [
        ("colour",),
        ("base_image", "colour"),
        ("services", "tts", "colour"),
        ("smoke", "colour"),
        ("smoke", "agent", "colour"),
        ("perf", "colour"),
    ],
)
def test_an_unknown_key_is_named(valid_table: dict[str, Any], path: tuple[str, ...]) -> None:
    valid_table.setdefault("perf", {})

    assert _problem(_with(valid_table, "red", *path)) == f"{_named(*path)} unknown key (got 'red')"


@pytest.mark.parametrize("key", ["root", "env"])
def test_the_root_and_the_environment_are_not_keys(valid_table: dict[str, Any], key: str) -> None:
    valid_table[key] = "/elsewhere"

    assert _problem(valid_table) == f"pyproject.toml: [tool.vibevoice-ci] unknown key(s): {key}"


def test_a_service_is_named_by_its_table_alone(valid_table: dict[str, Any]) -> None:
    valid_table["services"]["tts"]["name"] = "other"

    assert _problem(valid_table) == (
        "pyproject.toml: [tool.vibevoice-ci] services.tts.name: unknown key"
    )


def test_the_speech_check_is_read_from_the_smoke_table_only(valid_table: dict[str, Any]) -> None:
    valid_table["speech"] = valid_table.pop("smoke")

    assert _problem(valid_table) == f"{_named('smoke')} is required (and 1 more)"


def test_an_entry_of_an_array_of_tables_is_named_by_number_and_id(
    valid_table: dict[str, Any],
) -> None:
    good = {"id": "KSV-1", "reason": "r", "expires": date(2027, 1, 1)}
    valid_table["trivy"] = {"exceptions": [good, {**good, "id": "KSV-2", "expires": "soon"}]}

    assert _problem(valid_table) == (
        "pyproject.toml: [[tool.vibevoice-ci.trivy.exceptions]] #2 (KSV-2) expires: must be an "
        "unquoted TOML date like 2027-03-31, without a time of day (got 'soon')"
    )


def test_an_odd_key_is_quoted_so_the_message_stays_on_one_line(
    valid_table: dict[str, Any],
) -> None:
    valid_table["perf"] = {"a b\nc": 1}

    assert _problem(valid_table) == (
        'pyproject.toml: [tool.vibevoice-ci.perf] "a b\\nc": unknown key (got 1)'
    )


def test_a_long_value_is_shortened(valid_table: dict[str, Any]) -> None:
    valid_table["registry"] = ["x" * 500]

    message = _problem(valid_table)
    assert message.startswith(_named("registry"))
    assert message.endswith("...)")
    assert len(message) < 140


def test_the_config_is_frozen(valid_table: dict[str, Any]) -> None:
    config = parse_config(valid_table, ROOT)

    with pytest.raises(ValidationError, match="frozen"):
        config.registry = "elsewhere"
    with pytest.raises(ValidationError, match="frozen"):
        config.service("tts").host_port = 1


# --- load_config ------------------------------------------------------------------------------


def test_load_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path)


def test_load_config_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.vibevoice-ci\nregistry = \n", "utf-8")

    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


def test_load_config_without_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', "utf-8")

    with pytest.raises(ConfigError, match=r"no \[tool\.vibevoice-ci\] table"):
        load_config(tmp_path)


def test_load_config_table_that_is_not_a_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\nvibevoice-ci = "yes"\n', "utf-8")

    with pytest.raises(ConfigError, match=r"no \[tool\.vibevoice-ci\] table"):
        load_config(tmp_path)


def test_load_config_malformed_table_is_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.vibevoice-ci]\nregistry = "r"\n', "utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    # Every missing key is a problem; the first is named, the rest counted, on one line.
    assert re.fullmatch(
        r"pyproject\.toml: \[tool\.vibevoice-ci\] reports_dir: is required \(and \d+ more\)",
        str(caught.value),
    )


def test_load_config_real_repository(repo_root: Path) -> None:
    config = load_config(repo_root)

    assert config.root == repo_root.resolve()
    tts = config.service("tts")
    assert tts.dockerfile.is_file()
    assert tts.requirements.is_file()
    assert config.compose_file.is_file()
    assert tts.health_path.startswith("/")
    assert 1 <= tts.host_port <= 65535


def test_load_config_defaults_to_the_project_around_cwd(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root / "src" / "vibevoice_ci")

    assert load_config().root == repo_root.resolve()


# --- find_project_root ------------------------------------------------------------------------


def test_find_project_root_from_nested_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.vibevoice-ci]\n", "utf-8")
    nested = tmp_path / "a" / "b" / "c"
    nested.mkdir(parents=True)

    assert find_project_root(nested) == tmp_path.resolve()
    assert find_project_root(tmp_path) == tmp_path.resolve()


def test_find_project_root_skips_unconfigured_pyprojects(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.vibevoice-ci]\n", "utf-8")
    inner = tmp_path / "vendored"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "other"\n', "utf-8")

    assert find_project_root(inner / ".") == tmp_path.resolve()


def test_find_project_root_uses_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.vibevoice-ci]\n", "utf-8")
    (tmp_path / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "deep")

    assert find_project_root() == tmp_path.resolve()


def test_find_project_root_fails_without_a_configured_pyproject(tmp_path: Path) -> None:
    nested = tmp_path / "x"
    nested.mkdir()
    (nested / "pyproject.toml").write_text('[project]\nname = "other"\n', "utf-8")
    if any((p / "pyproject.toml").is_file() for p in tmp_path.resolve().parents):
        pytest.skip("a pyproject.toml exists above the temporary folder")

    with pytest.raises(ConfigError, match=r"no pyproject.toml with \[tool.vibevoice-ci\]"):
        find_project_root(nested)


def test_find_project_root_accepts_quoted_table_header(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool."vibevoice-ci"]\nregistry = "r"\n', "utf-8")
    nested = tmp_path / "pkg"
    nested.mkdir()

    assert find_project_root(nested) == tmp_path.resolve()


def test_environment_overrides_reports_dir_and_compose_project(
    tmp_path: Path, valid_table: dict[str, Any]
) -> None:
    config = parse_config(valid_table, tmp_path)
    changed = with_environment(
        config, {"VIBEVOICE_REPORTS_DIR": "out/ci", "VIBEVOICE_COMPOSE_PROJECT": "smoke-2"}
    )
    assert changed.report_dir("smoke") == tmp_path / "out" / "ci" / "smoke"
    assert changed.compose_project == "smoke-2"
    assert with_environment(config, {}) == config
    assert with_environment(config, {"VIBEVOICE_REPORTS_DIR": "  "}) == config


@pytest.mark.parametrize("project", ["Upper", "-lead", "has space", "semi;colon"])
def test_environment_rejects_bad_compose_project_names(
    tmp_path: Path, valid_table: dict[str, Any], project: str
) -> None:
    config = parse_config(valid_table, tmp_path)
    with pytest.raises(ConfigError, match="VIBEVOICE_COMPOSE_PROJECT"):
        with_environment(config, {"VIBEVOICE_COMPOSE_PROJECT": project})


def test_environment_sets_the_perf_run_size(tmp_path: Path, valid_table: dict[str, Any]) -> None:
    config = parse_config(valid_table, tmp_path)
    environ = {"VIBEVOICE_PERF_REQUESTS": " 60 ", "VIBEVOICE_PERF_CAPACITY_MAX": "0"}
    changed = with_environment(config, environ)
    assert (changed.perf.requests, changed.perf.capacity_max) == (60, 0)
    unchanged = {"requests": config.perf.requests, "capacity_max": config.perf.capacity_max}
    assert changed.perf.model_copy(update=unchanged) == config.perf
    assert with_environment(config, {"VIBEVOICE_PERF_REQUESTS": ""}).perf == config.perf


@pytest.mark.parametrize(
    ("name", "value"),
    [
        *(("VIBEVOICE_PERF_REQUESTS", v) for v in ["0", "-5", "1.5", "ten", "\u00b2", "1e3"]),
        *(("VIBEVOICE_PERF_CAPACITY_MAX", v) for v in ["-1", "2.0", "four", "\u00b2"]),
    ],
)
def test_environment_rejects_a_perf_run_size_that_is_not_a_count(
    tmp_path: Path, valid_table: dict[str, Any], name: str, value: str
) -> None:
    config = parse_config(valid_table, tmp_path)
    with pytest.raises(ConfigError, match=f"^{name}="):
        with_environment(config, {name: value})


def test_environment_overrides_the_registry(tmp_path: Path, valid_table: dict[str, Any]) -> None:
    config = parse_config(valid_table, tmp_path)

    assert with_environment(config, {"VIBEVOICE_REGISTRY": "127.0.0.1:5000/x"}).registry == (
        "127.0.0.1:5000/x"
    )
    assert with_environment(config, {"VIBEVOICE_REGISTRY": " "}).registry == "ghcr.io/example"
