"""``vibevoice_ci.build.metadata``: seed design "Property 2" (every field present, valid)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.build.metadata import REQUIRED_FIELDS, build_metadata, generate, metadata_problems
from vibevoice_ci.build.reports import BuildMetadata, NativeBuildRecord, ReleaseBuildRecord
from vibevoice_ci.core.environment import run_environment
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.image_reference import parse_reference

HEX = "0123456789abcdef"
SEED_SCHEMA_FIELDS = {
    "image",
    "digest",
    "platform",
    "git_sha",
    "git_ref",
    "workflow_run_id",
    "build_timestamp",
    "builder",
}

shas = st.text(HEX, min_size=40, max_size=40)
digests = st.text(HEX, min_size=64, max_size=64).map(lambda h: f"sha256:{h}")
platforms = st.sampled_from(
    [
        "linux/amd64",
        "linux/arm64",
        "linux/arm64/v8",
        "linux/arm/v7",
        "linux/arm/v6",
        "linux/386",
        "linux/ppc64le",
        "linux/s390x",
        "linux/riscv64",
        "windows/amd64",
    ]
)
ref_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-._", min_size=1, max_size=20)
git_refs = st.one_of(
    ref_names.map(lambda n: f"refs/heads/{n}"),
    ref_names.map(lambda n: f"refs/tags/v{n}"),
    st.integers(1, 99999).map(lambda n: f"refs/pull/{n}/merge"),
    shas,  # a detached HEAD records the SHA itself
)
images = st.builds(
    lambda registry, name, tag: f"{registry}{name}:{tag}",
    st.sampled_from(["", "ghcr.io/vibevoice-realtime/", "localhost:5000/", "registry.example/"]),
    st.sampled_from(["vibevoice-tts", "vibevoice-agent", "x"]),
    st.one_of(
        shas.map(lambda s: s[:12]),
        shas.map(lambda s: s[:12] + "-dirty"),
        # a tag starts with a letter, digit or underscore (the distribution spec)
        ref_names.filter(lambda name: name[0].isalnum()),
    ),
)
offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23))
timezones = st.one_of(
    st.just(UTC),
    offsets.map(timezone),
    st.timezones(),
)
built_ats = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=timezones,
)
run_ids = st.integers(1, 10**12).map(str)
actions_env = st.fixed_dictionaries(
    {"GITHUB_ACTIONS": st.just("true")},
    optional={
        "GITHUB_RUN_ID": run_ids,
        "GITHUB_REF": git_refs,
        "GITHUB_SHA": shas,
        "CI": st.just("true"),
    },
)
local_env = st.fixed_dictionaries(
    {},
    optional={
        "GITHUB_ACTIONS": st.sampled_from(["", "false", "1", "TRUE"]),
        "GITHUB_RUN_ID": run_ids,
        "GITHUB_REF": git_refs,
        "HOME": st.just("/root"),
    },
)


def _record(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "image": "ghcr.io/vibevoice-realtime/vibevoice-tts:0123456789ab",
        "digest": "sha256:" + "ab" * 32,
        "platform": "linux/amd64",
        "git_sha": "0123456789abcdef0123456789abcdef01234567",
        "git_ref": "refs/heads/main",
        "environ": {},
        "built_at": datetime(2024, 12, 4, 12, 0, 0, tzinfo=UTC),
    }
    arguments.update(overrides)
    arguments["run"] = run_environment(arguments.pop("environ"))
    return build_metadata(**arguments)


# --- Property 2 -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    image=images,
    digest=digests,
    platform=platforms,
    git_sha=shas,
    git_ref=git_refs,
    environ=st.one_of(actions_env, local_env),
    built_at=built_ats,
)
def test_property_2_metadata_has_every_required_field_with_valid_values(
    image: str,
    digest: str,
    platform: str,
    git_sha: str,
    git_ref: str,
    environ: dict[str, str],
    built_at: datetime,
) -> None:
    document = build_metadata(
        image=image,
        digest=digest,
        platform=platform,
        git_sha=git_sha,
        git_ref=git_ref,
        run=run_environment(environ),
        built_at=built_at,
    )

    assert set(REQUIRED_FIELDS) == SEED_SCHEMA_FIELDS
    for field in REQUIRED_FIELDS:
        assert isinstance(document[field], str)
        assert document[field], field
    assert metadata_problems(document) == []
    assert json.loads(json.dumps(document)) == document

    assert (document["image"], document["digest"]) == (image, digest)
    assert (document["platform"], document["git_sha"]) == (platform, git_sha)
    assert document["git_ref"] == (environ.get("GITHUB_REF") or git_ref)

    stamp = document["build_timestamp"]
    assert stamp.endswith("Z")
    assert len(stamp) == len("2024-12-04T12:00:00Z")
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    # the same instant (to the second, truncated), whatever zone the build time was given in
    assert timedelta(0) <= built_at - parsed < timedelta(seconds=1)

    if environ.get("GITHUB_ACTIONS") == "true":
        assert document["builder"] == "github-actions"
        assert document["workflow_run_id"] == environ.get("GITHUB_RUN_ID", "local")
    else:
        assert document["builder"] == "local"
        assert document["workflow_run_id"] == "local"


@settings(max_examples=200, deadline=None)
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda key: key not in REQUIRED_FIELDS),
        st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none()),
    )
)
def test_keys_beyond_the_seed_fields_are_the_builds_own(extra: dict[str, Any]) -> None:
    assert metadata_problems(_record() | extra) == []


def test_the_builds_records_keep_the_seed_fields_and_their_rules() -> None:
    assert tuple(BuildMetadata.model_fields) == REQUIRED_FIELDS
    seed = BuildMetadata.model_json_schema()
    for record in (NativeBuildRecord, ReleaseBuildRecord):
        schema = record.model_json_schema()
        assert set(REQUIRED_FIELDS) <= set(schema["required"])
        for field in REQUIRED_FIELDS:
            assert schema["properties"][field] == seed["properties"][field]


# --- build_metadata examples ------------------------------------------------------------------


def test_seed_design_example_under_github_actions() -> None:
    document = _record(
        image="ghcr.io/org/vibevoice-tts:v1.0.0",
        environ={
            "GITHUB_ACTIONS": "true",
            "GITHUB_RUN_ID": "123456789",
            "GITHUB_REF": "refs/tags/v1.0.0",
        },
        built_at=datetime(2024, 12, 4, 13, 0, 0, tzinfo=timezone(timedelta(hours=1))),
    )

    assert document == {
        "image": "ghcr.io/org/vibevoice-tts:v1.0.0",
        "digest": "sha256:" + "ab" * 32,
        "platform": "linux/amd64",
        "git_sha": "0123456789abcdef0123456789abcdef01234567",
        "git_ref": "refs/tags/v1.0.0",
        "workflow_run_id": "123456789",
        "build_timestamp": "2024-12-04T12:00:00Z",
        "builder": "github-actions",
    }


def test_local_build_says_local() -> None:
    document = _record(environ={"GITHUB_RUN_ID": "99"})

    assert document["builder"] == "local"
    assert document["workflow_run_id"] == "local"
    assert document["git_ref"] == "refs/heads/main"


def test_actions_without_run_id_still_has_every_field() -> None:
    document = _record(environ={"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": ""})

    assert document["builder"] == "github-actions"
    assert document["workflow_run_id"] == "local"
    assert metadata_problems(document) == []


def test_empty_github_ref_falls_back_to_the_git_ref() -> None:
    document = _record(environ={"GITHUB_ACTIONS": "true", "GITHUB_REF": ""})

    assert document["git_ref"] == "refs/heads/main"


def test_timestamp_drops_microseconds_and_converts_to_utc() -> None:
    built_at = datetime(
        2025, 1, 1, 0, 30, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )

    assert _record(built_at=built_at)["build_timestamp"] == "2024-12-31T19:00:59Z"


# --- metadata_problems ------------------------------------------------------------------------


def test_valid_record_has_no_problems() -> None:
    assert metadata_problems(_record()) == []


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
@pytest.mark.parametrize("absent", ["delete", "", None])
def test_each_missing_field_is_reported(field: str, absent: str | None) -> None:
    document = _record()
    if absent == "delete":
        del document[field]
    else:
        document[field] = absent

    assert metadata_problems(document) == [f"missing {field}"]


def test_all_missing_fields_are_reported_at_once() -> None:
    assert metadata_problems({}) == [f"missing {field}" for field in REQUIRED_FIELDS]


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "a" * 63,
        "sha256:" + "a" * 65,
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        "sha512:" + "a" * 64,
        "a" * 64,
        "sha256:",
        " sha256:" + "a" * 64,
        "ghcr.io/x@sha256:" + "a" * 64,
    ],
)
def test_bad_digest_is_reported(digest: str) -> None:
    problems = metadata_problems(_record(digest=digest))

    assert len(problems) == 1
    assert problems[0].startswith(f"digest {digest!r}")


@pytest.mark.parametrize(
    "sha", ["0123456", "0123456789ab", "0" * 39, "0" * 41, "G" * 40, "A" * 40, "HEAD"]
)
def test_bad_git_sha_is_reported(sha: str) -> None:
    problems = metadata_problems(_record(git_sha=sha))

    assert len(problems) == 1
    assert problems[0].startswith(f"git_sha {sha!r}")


@pytest.mark.parametrize(
    "platform",
    ["linux", "amd64", "linux/", "/amd64", "Linux/AMD64", "linux/arm64/v8/x", "linux amd64"],
)
def test_bad_platform_is_reported(platform: str) -> None:
    problems = metadata_problems(_record(platform=platform))

    assert len(problems) == 1
    assert problems[0].startswith(f"platform {platform!r}")


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-12-04 12:00:00",
        "2024-12-04T12:00:00",
        "2024-12-04T12:00:00+00:00",
        "2024-12-04T12:00:00.123Z",
        "2024-13-04T12:00:00Z",
        "04/12/2024",
        "yesterday",
    ],
)
def test_bad_timestamp_is_reported(stamp: str) -> None:
    problems = metadata_problems(_record() | {"build_timestamp": stamp})

    assert len(problems) == 1
    assert problems[0].startswith(f"build_timestamp {stamp!r}")


def test_several_malformed_fields_are_all_reported() -> None:
    document = _record(digest="sha256:short", git_sha="abc", platform="linux")

    problems = metadata_problems(document)

    assert len(problems) == 3
    assert [p.split()[0] for p in problems] == ["digest", "git_sha", "platform"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digest", "sha256:" + "a" * 64 + "\n"),
        ("git_sha", "a" * 40 + "\n"),
        ("platform", "linux/amd64\n"),
    ],
)
def test_trailing_newline_is_reported(field: str, value: str) -> None:
    assert metadata_problems(_record() | {field: value}) != []


def test_unpadded_timestamp_is_reported() -> None:
    assert metadata_problems(_record() | {"build_timestamp": "2024-1-4T1:2:3Z"}) != []


# --- generate (scripts/generate_build_metadata.py) ---------------------------------------------

registries = st.sampled_from(
    [
        "ghcr.io/vibevoice-realtime",
        "127.0.0.1:5000/vibevoice",
        "localhost:5055",
        "reg.example:443/a/b",
    ]
)
valid_tags = st.one_of(
    shas.map(lambda s: s[:12]),
    shas.map(lambda s: s[:12] + "-dirty"),
    st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True),
    st.just("latest"),
)
pushed_images = st.builds(
    lambda registry, name, tag: f"{registry}/{name}:{tag}",
    registries,
    st.sampled_from(["vibevoice-tts", "vibevoice-agent"]),
    valid_tags,
)
RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@settings(max_examples=300, deadline=None)
@given(
    image=pushed_images,
    digest=digests,
    chosen=st.lists(platforms, min_size=1, max_size=3, unique=True),
    environ=st.one_of(actions_env.filter(lambda e: "GITHUB_RUN_ID" in e), local_env),
    git_sha=st.one_of(st.none(), shas),
    git_ref=st.one_of(st.none(), git_refs),
    built_at=built_ats,
)
def test_property_2_generate_writes_a_valid_record_per_platform_or_a_one_line_error(
    image: str,
    digest: str,
    chosen: list[str],
    environ: dict[str, str],
    git_sha: str | None,
    git_ref: str | None,
    built_at: datetime,
) -> None:
    run = run_environment(environ)
    sha = environ.get("GITHUB_SHA") or git_sha
    ref = environ.get("GITHUB_REF") or git_ref
    arguments: dict[str, Any] = {
        "image": image,
        "digest": digest,
        "platforms": chosen,
        "run": run,
        "git_sha": git_sha,
        "git_ref": git_ref,
        "built_at": built_at,
    }
    if not sha or not ref:
        # Only a value that is really missing is refused: in one line, exit 2.
        with pytest.raises(UsageError, match=r"^no git (SHA|ref)[^\n]*$") as refused:
            generate(**arguments)
        assert refused.value.exit_code == 2
        return
    records = generate(**arguments)
    assert [record["platform"] for record in records] == chosen
    for record in records:
        assert metadata_problems(record) == []
        assert all(isinstance(record[f], str) and record[f] for f in REQUIRED_FIELDS)
        assert re.fullmatch(r"[0-9a-f]{40}", record["git_sha"])
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", record["digest"])
        assert re.fullmatch(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?", record["platform"])
        assert RFC3339_UTC.fullmatch(record["build_timestamp"])
        assert datetime.fromisoformat(record["build_timestamp"]).tzinfo is not None
        reference = parse_reference(record["image"])
        assert str(reference) == image
        assert record["git_sha"] == sha
        assert record["git_ref"] == ref


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"digest": "sha256:abc"}, "is not sha256:<64 hex>"),
        ({"digest": ""}, "missing digest"),
        ({"image": "Not A Reference"}, "is not"),
        ({"platforms": []}, "no platform"),
        ({"git_sha": None}, "no git SHA"),
        ({"git_ref": None}, "no git ref"),
        ({"git_sha": "abc"}, "is not a 40-hex commit"),
    ],
)
def test_generate_refuses_missing_or_malformed_values(
    overrides: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {
        "image": "127.0.0.1:5000/vibevoice/vibevoice-tts:0123456789ab",
        "digest": "sha256:" + "cd" * 32,
        "platforms": ["linux/amd64"],
        "run": run_environment({}),
        "git_sha": "0123456789abcdef0123456789abcdef01234567",
        "git_ref": "refs/heads/main",
        "built_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    arguments.update(overrides)
    with pytest.raises(UsageError, match=re.escape(message)):
        generate(**arguments)


def test_generate_under_actions_needs_the_run_id() -> None:
    with pytest.raises(UsageError, match="GITHUB_RUN_ID"):
        generate(
            image="ghcr.io/o/vibevoice-tts:0123456789ab",
            digest="sha256:" + "cd" * 32,
            platforms=["linux/arm64"],
            run=run_environment({"GITHUB_ACTIONS": "true"}),
            git_sha="0123456789abcdef0123456789abcdef01234567",
            git_ref="refs/heads/main",
            built_at=datetime(2026, 1, 2, tzinfo=UTC),
        )


def test_the_script_writes_records_and_exits_2_on_a_bad_digest(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[4] / "scripts" / "generate_build_metadata.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    output = tmp_path / "metadata.json"
    good = subprocess.run(
        [
            sys.executable,
            str(script),
            "--image",
            "127.0.0.1:5000/v/vibevoice-tts:abc",
            "--digest",
            "sha256:" + "ef" * 32,
            "--platform",
            "linux/amd64",
            "--platform",
            "linux/arm64",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    records = json.loads(output.read_text())
    assert [r["platform"] for r in records] == ["linux/amd64", "linux/arm64"]
    assert all(metadata_problems(r) == [] for r in records)

    bad = subprocess.run(
        [
            sys.executable,
            str(script),
            "--image",
            "x:y",
            "--digest",
            "sha256:1",
            "--platform",
            "linux/amd64",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: ")
