"""``sign`` end to end over a fake cosign (it keeps what was attested and verifies exactly
that): sign.json as the session writes it, checked against the committed schema, with and
without a provenance."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from schema_helpers import assert_matches_schema
from test_sign_provenance import metadata_records, read, release_image

from vibevoice_ci.build.reports import BuildMetadataFile, Release
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.sign import provenance
from vibevoice_ci.sign import session as sign
from vibevoice_ci.tools import cosign
from vibevoice_ci.tools._exec import ToolResult


class FakeCosign:
    """cosign as the session drives it: ``attest`` keeps the predicate, ``verify`` answers for
    the digest it is asked about, ``verify-attestation`` returns what was attested there."""

    def __init__(self) -> None:
        self.attested: dict[tuple[str, str], Any] = {}
        self.commands: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(cosign, "cosign", lambda: "cosign")
        monkeypatch.setattr(cosign, "check_version", lambda binary, expected: "2.6.5")
        monkeypatch.setattr(cosign, "generate_key_pair", self.generate_key_pair)
        monkeypatch.setattr(cosign, "run", self.run)
        monkeypatch.setattr(cosign, "parse_verified_signatures", self.signatures)
        monkeypatch.setattr(cosign, "parse_verified_attestations", self.attestations)

    def generate_key_pair(self, binary: str, prefix: Path, *, password: str | None) -> Any:
        pair = cosign.KeyPair(Path(f"{prefix}.key"), Path(f"{prefix}.pub"))
        pair.private_key.write_text("private", encoding="utf-8")
        pair.public_key.write_text("public", encoding="utf-8")
        return pair

    def run(self, argv: Sequence[str], *, password: str | None, check: bool = True) -> Any:
        command, reference = argv[1], argv[-1]
        self.commands.append(command)
        stdout = ""
        if command == "attest":
            kind = argv[argv.index("--type") + 1]
            predicate = Path(argv[argv.index("--predicate") + 1]).read_text(encoding="utf-8")
            self.attested[(reference, kind)] = json.loads(predicate)
        elif command == "verify":
            stdout = reference
        elif command == "verify-attestation":
            stdout = json.dumps([reference, argv[argv.index("--type") + 1]])
        return ToolResult(tuple(argv), 0, stdout, "")

    def signatures(self, output: str) -> list[cosign.VerifiedSignature]:
        repository, _, digest = output.partition("@")
        return [cosign.VerifiedSignature(digest, repository)]

    def attestations(self, output: str) -> list[cosign.Statement]:
        reference, kind = json.loads(output)
        repository, _, digest = reference.partition("@")
        predicate = self.attested[(reference, kind)]
        raw = {
            "_type": provenance.STATEMENT_TYPE,
            "subject": [{"name": repository, "digest": {"sha256": digest[len("sha256:") :]}}],
            "predicateType": cosign.PREDICATE_TYPES[kind],
            "predicate": predicate,
        }
        return [cosign.Statement(cosign.PREDICATE_TYPES[kind], (digest,), predicate, raw)]


SKIP = "a fake cosign: these tests are about the report"


def _release_files(folder: Path, records: list[dict[str, Any]]) -> Path:
    """release.json, build-metadata.json and the SBOMs, as the release build leaves them."""
    image, typed = read(release_image(), records)
    build = folder / "build"
    for entry in image.platforms:
        (build / entry.sbom).parent.mkdir(parents=True, exist_ok=True)
        (build / entry.sbom).write_text('{"spdxVersion": "SPDX-2.3"}', encoding="utf-8")
    release = Release(
        status="pass",
        registry="127.0.0.1:5000/vibevoice",
        platforms=[entry.platform for entry in image.platforms],
        images=[image],
        retries=[],
        notes=[],
    )
    write_report(build / "release.json", release)
    write_report(build / "build-metadata.json", BuildMetadataFile(typed))
    return build / "release.json"


@pytest.fixture
def fake_cosign(monkeypatch: pytest.MonkeyPatch) -> FakeCosign:
    fake = FakeCosign()
    fake.install(monkeypatch)
    return fake


def test_a_signed_release_writes_a_report_that_matches_its_schema(
    make_config: Callable[..., PipelineConfig], fake_cosign: FakeCosign, tmp_path: Path
) -> None:
    config = make_config()
    release = _release_files(tmp_path, metadata_records())

    outcomes = sign.run_sign(config, sign.SignOptions(release, skip_tests=SKIP))

    assert {outcome.status for outcome in outcomes} == {Status.PASS}
    report = assert_matches_schema(config.report_dir("sign") / "sign.json", "sign/sign.schema.json")
    assert (report["status"], report["public_key"]) == ("pass", "cosign.pub")
    assert (report["tests"]["status"], report["tests"]["detail"]) == (
        "skipped",
        f"--no-require-tests: {SKIP}",
    )
    assert f"tests gate SKIPPED (--no-require-tests: {SKIP})" in " ".join(report["notes"])
    [image] = report["images"]
    assert image["provenance"] == "provenance/tts.intoto.json"
    assert [p["platform"] for p in image["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert len(report["checks"]) == 6


def test_an_image_without_a_provenance_is_reported_without_one(
    make_config: Callable[..., PipelineConfig], fake_cosign: FakeCosign, tmp_path: Path
) -> None:
    config = make_config()
    records = metadata_records()
    for record in records:
        record["base_image"] = "python:3.11.14-slim-bookworm"  # not by digest: no provenance
    release = _release_files(tmp_path, records)

    with pytest.raises(CheckFailedError, match="tts provenance"):
        sign.run_sign(config, sign.SignOptions(release, skip_tests=SKIP))

    report = assert_matches_schema(config.report_dir("sign") / "sign.json", "sign/sign.schema.json")
    assert report["status"] == "fail"
    [image] = report["images"]
    assert "provenance" not in image  # absent, never null, as before the model
    failed = [check for check in report["checks"] if check["status"] == "fail"]
    assert [check["name"] for check in failed] == ["tts provenance"]


def test_without_an_api_under_ci_nothing_is_signed_and_the_gate_is_reported_unknown(
    make_config: Callable[..., PipelineConfig], fake_cosign: FakeCosign, tmp_path: Path
) -> None:
    config = make_config(CI="true")
    records = metadata_records()
    release = _release_files(tmp_path, records)

    with pytest.raises(CheckFailedError, match="sign: unknown"):
        sign.run_sign(config, sign.SignOptions(release))

    assert fake_cosign.commands == []
    report = assert_matches_schema(config.report_dir("sign") / "sign.json", "sign/sign.schema.json")
    assert report["status"] == "unknown"
    assert (report["tests"]["status"], report["tests"]["commit"]) == (
        "unknown",
        records[0]["git_sha"],
    )
    [check] = report["checks"]
    assert (check["name"], check["status"]) == (
        f"CI test of {records[0]['git_sha'][:12]}",
        "unknown",
    )


def test_verify_only_signs_nothing_and_asks_for_no_tests(
    make_config: Callable[..., PipelineConfig], fake_cosign: FakeCosign, tmp_path: Path
) -> None:
    config = make_config(CI="true")
    release = _release_files(tmp_path, metadata_records())
    sign.run_sign(config, sign.SignOptions(release, skip_tests=SKIP))
    key = config.report_dir("sign") / "cosign.pub"
    key.with_suffix(".key").write_text("private", encoding="utf-8")

    sign.run_sign(config, sign.SignOptions(release, key=key.with_suffix(".key"), verify_only=True))

    report = assert_matches_schema(config.report_dir("sign") / "sign.json", "sign/sign.schema.json")
    assert (report["status"], report["tests"]) == ("pass", None)


def test_the_released_commits_are_the_records_of_the_released_digests(tmp_path: Path) -> None:
    records = metadata_records()
    image, typed = read(release_image(), records)
    other = typed[0].model_copy(update={"digest": "sha256:" + "9" * 64, "git_sha": "f" * 40})

    assert set(sign.released_commits([image], [*typed, other])) == {records[0]["git_sha"]}
    assert sign.released_commits([image], []) == [None]
