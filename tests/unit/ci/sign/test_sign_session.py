"""The sign session's judgements (pure): what a verified signature or attestation must say,
which release files are bad input, and the config and environment it reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from release_helpers import release, released_image, write_release

from vibevoice_ci.build.reports import Release, ReleaseImage
from vibevoice_ci.core.config import SignConfig, parse_config
from vibevoice_ci.core.environment import RunEnvironment, run_environment
from vibevoice_ci.core.errors import ConfigError, ToolFailedError, UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.sign import provenance
from vibevoice_ci.sign import session as sign
from vibevoice_ci.tools import cosign

INDEX = "sha256:" + "1" * 64
OTHER = "sha256:" + "9" * 64
PAIR = cosign.KeyPair(Path("k.key"), Path("k.pub"))
KEYLESS = cosign.Keyless("https://github.com/o/r/.github/workflows/p.yml@refs/heads/main", "iss")
PREDICATE = {"buildDefinition": {"buildType": "https://x"}}


def _target(*attestations: sign.Attestation) -> sign.Target:
    return sign.Target("tts", "tts", f"r@{INDEX}", INDEX, True, attestations)


def _signature(digest: str = INDEX, subject: str | None = None, issuer: str | None = None) -> Any:
    return cosign.VerifiedSignature(digest, "r", subject, issuer)


def _statement(
    digests: tuple[str, ...] = (INDEX,),
    predicate: dict[str, Any] | None = None,
    predicate_type: str = "https://spdx.dev/Document",
) -> cosign.Statement:
    predicate = PREDICATE if predicate is None else predicate
    raw = {
        "_type": provenance.STATEMENT_TYPE,
        "subject": [
            {"name": "r", "digest": {"sha256": d.removeprefix("sha256:")}} for d in digests
        ],
        "predicateType": predicate_type,
        "predicate": predicate,
    }
    return cosign.Statement(predicate_type, digests, predicate, raw)


SBOM = sign.Attestation("sbom", "spdxjson", Path("s.json"), PREDICATE)


def test_signatures_for_the_image_pass() -> None:
    (outcome,) = sign.signature_outcome(_target(), [_signature(), _signature()], PAIR)
    assert outcome.status is Status.PASS
    assert outcome.name == "tts signature"


def test_a_verified_signature_for_another_digest_fails() -> None:
    (outcome,) = sign.signature_outcome(_target(), [_signature(), _signature(OTHER)], PAIR)
    assert outcome.status is Status.FAIL
    assert OTHER in outcome.detail


def test_keyless_checks_every_certificates_identity_and_issuer() -> None:
    good = _signature(subject=KEYLESS.identity, issuer=KEYLESS.issuer)
    outcomes = sign.signature_outcome(_target(), [good], KEYLESS)
    assert [(o.name, o.status) for o in outcomes] == [
        ("tts signature", Status.PASS),
        ("tts certificate identity", Status.PASS),
    ]
    fork = _signature(subject="https://github.com/fork/r/.github/workflows/p.yml", issuer="iss")
    outcomes = sign.signature_outcome(_target(), [good, fork], KEYLESS)
    assert outcomes[1].status is Status.FAIL
    assert "fork/r" in outcomes[1].detail
    other_issuer = _signature(subject=KEYLESS.identity, issuer="https://accounts.example")
    assert sign.signature_outcome(_target(), [other_issuer], KEYLESS)[1].status is Status.FAIL


def test_an_attestation_about_the_image_with_the_attested_predicate_passes() -> None:
    outcome = sign.attestation_outcome(_target(SBOM), SBOM, [_statement()])
    assert (outcome.name, outcome.status) == ("tts sbom", Status.PASS)


def test_no_attestation_of_the_type_fails() -> None:
    outcome = sign.attestation_outcome(
        _target(SBOM), SBOM, [_statement(predicate_type="https://slsa.dev/provenance/v1")]
    )
    assert outcome.status is Status.FAIL
    assert "no verified https://spdx.dev/Document" in outcome.detail


@pytest.mark.parametrize("digests", [(OTHER,), (INDEX, OTHER), ()])
def test_an_attestation_about_another_subject_fails(digests: tuple[str, ...]) -> None:
    # A signed attestation moved from another image: its signature verifies, its subject
    # does not name this digest.
    outcome = sign.attestation_outcome(_target(SBOM), SBOM, [_statement(), _statement(digests)])
    assert outcome.status is Status.FAIL
    assert "subject" in outcome.detail


def test_an_attestation_with_another_predicate_fails() -> None:
    outcome = sign.attestation_outcome(_target(SBOM), SBOM, [_statement(predicate={"x": 1})])
    assert outcome.status is Status.FAIL
    assert "none carries the predicate attested" in outcome.detail


def test_a_provenance_must_also_be_complete() -> None:
    incomplete = {"buildDefinition": {}}
    attestation = sign.Attestation("provenance", cosign.SLSA_PROVENANCE_V1, Path("p"), incomplete)
    statement = _statement(predicate=incomplete, predicate_type="https://slsa.dev/provenance/v1")
    outcome = sign.attestation_outcome(_target(attestation), attestation, [statement])
    assert outcome.status is Status.FAIL
    assert "incomplete provenance" in outcome.detail


def test_an_unreachable_registry_is_unknown_a_refusal_is_a_failure() -> None:
    unreachable = ToolFailedError(
        "cosign verify exited 1\n  dial tcp 127.0.0.1:5000: connection refused"
    )
    refused = ToolFailedError("cosign verify exited 1\n  Error: no signatures found")
    assert sign.tool_failure_outcome("x", unreachable).status is Status.UNKNOWN
    # Offline, cosign warns that Sigstore's TUF host is unknown before its real error.
    tuf = "WARNING: ... lookup tuf-repo-cdn.sigstore.dev: no such host"
    dial = "Error: Get http://127.0.0.1:5000/v2/: dial tcp 127.0.0.1:5000: connection refused"
    behind_tuf = ToolFailedError(f"cosign verify exited 1\n  {tuf}\n  {dial}")
    assert sign.tool_failure_outcome("x", behind_tuf).status is Status.UNKNOWN
    refused_offline = ToolFailedError(
        f"cosign verify exited 10\n  {tuf}\n  Error: no signatures found"
    )
    assert sign.tool_failure_outcome("x", refused_offline).status is Status.FAIL
    outcome = sign.tool_failure_outcome("x", refused)
    assert outcome.status is Status.FAIL
    assert "no signatures found" in outcome.detail


@pytest.mark.parametrize(
    ("status", "images"), [("fail", [released_image()]), ("pass", []), ("fail", [])]
)
def test_a_release_without_images_is_bad_input(
    status: Literal["pass", "fail"], images: list[ReleaseImage]
) -> None:
    with pytest.raises(UsageError, match="nothing released to sign"):
        sign.release_images(release(*images, status=status))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[]", "(document): Input should be an object"),
        ('{"status": "pass"}', "registry: Field required (and 4 more)"),
        ("{", "(document): Invalid JSON: EOF while parsing an object at line 1 column 1"),
    ],
)
def test_a_release_file_of_the_wrong_shape_is_one_line(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "release.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        sign.read_build_document(path, Release, "release file")
    assert str(caught.value) == f"release file {path}: {expected}"


def test_a_release_image_whose_entries_are_not_objects_is_bad_input(tmp_path: Path) -> None:
    path = write_release(tmp_path / "release.json", released_image())
    document = json.loads(path.read_text(encoding="utf-8"))
    document["images"] = ["tts"]
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(UsageError, match=r"images\.0: Input should be an object$"):
        sign.read_build_document(path, Release, "release file")


def test_read_json_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        sign.read_json(tmp_path / "release.json", "release file")
    with pytest.raises(UsageError, match=r"not found \(run `nox -s build -- --push` first\)"):
        sign.read_build_document(tmp_path / "release.json", Release, "release file")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(UsageError, match="not JSON"):
        sign.read_json(tmp_path / "bad.json", "release file")


# --- config and environment --------------------------------------------------------------------


def test_the_sign_table_is_optional_and_defaults_to_this_repositorys_workflow(
    valid_table: dict[str, Any], tmp_path: Path
) -> None:
    config = parse_config(valid_table, tmp_path)
    assert config.sign == SignConfig()
    assert config.sign.identity_for("o/r") == (
        "https://github.com/o/r/.github/workflows/ci-provenance.yml@refs/heads/main"
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"identity": "x"}, "unknown key"),
        ({"certificate_oidc_issuer": "http://insecure"}, "https URL"),
        ({"certificate_identity": ""}, "non-empty string"),
    ],
)
def test_a_bad_sign_table_is_a_config_error(
    valid_table: dict[str, Any], tmp_path: Path, table: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_config({**valid_table, "sign": table}, tmp_path)


def test_the_run_environment_reads_what_signing_needs_and_hides_the_password() -> None:
    run = run_environment(
        {
            "GITHUB_REPOSITORY": "Owner/Repo",
            "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/x",
            "COSIGN_PASSWORD": "s3cret",
        }
    )
    assert (run.github_repository, run.oidc_available) == ("Owner/Repo", True)
    assert run.cosign_password is not None
    assert run.cosign_password.reveal() == "s3cret"
    assert "s3cret" not in repr(run)
    assert run_environment({}).oidc_available is False
    assert run_environment({"COSIGN_PASSWORD": ""}).cosign_password is None


def test_the_repository_config_pins_cosign_and_names_github_as_issuer(repo_root: Path) -> None:
    from vibevoice_ci.core.config import load_config

    config = load_config(repo_root)
    assert config.tools["cosign"] == "2.6.5"
    assert config.sign.certificate_oidc_issuer == "https://token.actions.githubusercontent.com"
    assert "{repository}" in config.sign.certificate_identity
    assert config.sign.certificate_identity.split("@")[0].endswith(
        ".github/workflows/ci-provenance.yml"
    )
    assert (repo_root / ".github" / "workflows" / "ci-provenance.yml").is_file()


GITHUB = RunEnvironment(github_repository="o/r", oidc_available=True)


@pytest.mark.parametrize(
    ("options", "env", "expected"),
    [
        (sign.SignOptions(Path("r"), keyless=True), GITHUB, []),
        (sign.SignOptions(Path("r"), keyless=True, verify_only=True), GITHUB, []),
        (sign.SignOptions(Path("r")), RunEnvironment(), []),
        (sign.SignOptions(Path("r"), key=Path("k.key")), RunEnvironment(), []),
        (sign.SignOptions(Path("r"), key=Path("k"), verify_only=True), RunEnvironment(), []),
        (
            sign.SignOptions(Path("r"), keyless=True),
            RunEnvironment(github_repository="o/r"),
            ["id-token: write"],
        ),
        (
            sign.SignOptions(Path("r"), keyless=True),
            RunEnvironment(),
            ["GITHUB_REPOSITORY", "id-token"],
        ),
        (
            sign.SignOptions(Path("r"), keyless=True, verify_only=True),
            RunEnvironment(),
            ["GITHUB_REPOSITORY"],
        ),
        (sign.SignOptions(Path("r"), keyless=True, key=Path("k")), GITHUB, ["exclude"]),
        (sign.SignOptions(Path("r"), verify_only=True), RunEnvironment(), ["--verify-only"]),
        (sign.SignOptions(Path("r"), skip_tests=" "), RunEnvironment(), ["--no-require-tests"]),
    ],
)
def test_option_problems(
    options: sign.SignOptions, env: RunEnvironment, expected: list[str]
) -> None:
    problems = sign.option_problems(options, env)
    assert len(problems) == len(expected)
    assert all(word in problem for word, problem in zip(expected, problems, strict=True))


def test_bad_options_fail_before_any_file_or_tool_is_touched(
    make_config: Any, tmp_path: Path
) -> None:
    config = make_config()
    with pytest.raises(UsageError, match="id-token"):
        sign.run_sign(config, sign.SignOptions(tmp_path / "absent.json", keyless=True))
    with pytest.raises(UsageError, match=r"absent\.json not found"):
        sign.run_sign(config, sign.SignOptions(tmp_path / "absent.json"))
    report = (config.report_dir("sign") / "sign.json").read_text(encoding="utf-8")
    assert '"status": "fail"' in report


def test_what_cannot_be_attested_is_a_failed_check_and_the_rest_still_runs(
    make_config: Any, tmp_path: Path
) -> None:
    # A base image recorded by tag cannot be named in a provenance; a missing SBOM file
    # cannot be attested: both are failed checks, the signatures are still made and checked.
    from test_sign_provenance import metadata_records, read, release_image

    config = make_config()
    documents = metadata_records()
    for document in documents:
        document["base_image"] = "python:3.11.14-slim-bookworm"
    image, records = read(release_image(), documents)
    release_dir = tmp_path / "build"
    (release_dir / "sbom").mkdir(parents=True)
    (release_dir / "sbom" / "tts-linux-arm64.spdx.json").write_text('{"spdxVersion": "SPDX-2.3"}')
    run = sign._Run(mode="key")
    targets = sign._targets(config, image, records, release_dir, config.report_dir("sign"), run)
    assert [(o.name, o.status) for o in run.outcomes] == [
        ("tts provenance", Status.FAIL),
        ("tts linux/amd64 sbom", Status.FAIL),
    ]
    assert "not pinned by digest" in run.outcomes[0].detail
    assert "not found" in run.outcomes[1].detail
    assert [(t.label, [a.kind for a in t.attestations]) for t in targets] == [
        ("tts", []),
        ("tts linux/amd64", []),
        ("tts linux/arm64", ["sbom"]),
    ]
    assert [t.is_index for t in targets] == [True, False, False]
