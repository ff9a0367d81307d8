"""The cosign wrapper: argument lists for each mode (pure), and parsing what cosign prints.

``data/cosign_*`` hold real cosign 2.6.5 output recorded against a local registry
(key pair, no transparency log; the attestation is an SLSA v1 provenance this project
generated, attached by its type URI); the keyless sample's optional section is shaped as
cosign prints it for a Fulcio certificate.
"""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError
from vibevoice_ci.sign import provenance
from vibevoice_ci.tools import cosign

DATA = Path(__file__).with_name("data")
DIGEST = "sha256:" + "ab" * 32
LOCAL = f"127.0.0.1:5000/vibevoice/vibevoice-tts@{DIGEST}"
REMOTE = f"ghcr.io/owner/vibevoice-tts@{DIGEST}"
PAIR = cosign.KeyPair(Path("/k/cosign.key"), Path("/k/cosign.pub"))
KEYLESS = cosign.Keyless(
    "https://github.com/o/r/.github/workflows/ci-provenance.yml@refs/heads/main",
    "https://token.actions.githubusercontent.com",
)


def _value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_sign_with_a_key_pair_on_a_loopback_registry() -> None:
    args = cosign.sign_argv("cosign", LOCAL, PAIR, recursive=True)
    assert args[:3] == ["cosign", "sign", "--yes"]
    assert _value(args, "--key") == "/k/cosign.key"
    assert {"--tlog-upload=false", "--allow-insecure-registry", "--recursive"} <= set(args)
    assert args[-1] == LOCAL


def test_sign_keyless_on_ghcr_uploads_to_the_log_and_names_no_key() -> None:
    args = cosign.sign_argv("cosign", REMOTE, KEYLESS, recursive=False)
    assert args == ["cosign", "sign", "--yes", REMOTE]


@pytest.mark.parametrize(
    "reference",
    [
        "127.0.0.1:5000/x:latest",
        "127.0.0.1:5000/x",
        "127.0.0.1:5000/x@sha256:short",
        "127.0.0.1:5000/x@sha512:" + "a" * 128,
    ],
)
def test_only_digests_are_signed_or_verified(reference: str) -> None:
    with pytest.raises(ValueError, match="by digest"):
        cosign.sign_argv("cosign", reference, PAIR, recursive=False)
    with pytest.raises(ValueError, match="by digest"):
        cosign.verify_argv("cosign", reference, PAIR)


def test_attest_replaces_an_earlier_attestation_of_its_type() -> None:
    args = cosign.attest_argv(
        "cosign", LOCAL, PAIR, predicate=Path("p.json"), predicate_type=cosign.SLSA_PROVENANCE_V1
    )
    assert args[:4] == ["cosign", "attest", "--yes", "--replace"]
    assert _value(args, "--type") == "https://slsa.dev/provenance/v1"
    assert _value(args, "--predicate") == "p.json"
    assert _value(args, "--key") == "/k/cosign.key"
    assert "--tlog-upload=false" in args
    assert args[-1] == LOCAL


def test_an_unknown_predicate_type_is_refused() -> None:
    with pytest.raises(ValueError, match="predicate type"):
        cosign.attest_argv("c", LOCAL, PAIR, predicate=Path("p"), predicate_type="slsaprovenance")
    with pytest.raises(ValueError, match="predicate type"):
        cosign.verify_attestation_argv("c", LOCAL, PAIR, predicate_type="cyclonedx")


def test_verify_with_the_public_key_skips_the_log_it_never_used() -> None:
    args = cosign.verify_argv("cosign", LOCAL, PAIR)
    assert args[:2] == ["cosign", "verify"]
    assert _value(args, "--key") == "/k/cosign.pub"
    assert "--insecure-ignore-tlog=true" in args
    assert _value(args, "--output") == "json"
    assert "--allow-insecure-registry" in args
    assert "/k/cosign.key" not in args


def test_verify_keyless_names_the_identity_and_issuer_and_keeps_the_log() -> None:
    for args in (
        cosign.verify_argv("cosign", REMOTE, KEYLESS),
        cosign.verify_attestation_argv("cosign", REMOTE, KEYLESS, predicate_type="spdxjson"),
    ):
        assert _value(args, "--certificate-identity") == KEYLESS.identity
        assert _value(args, "--certificate-oidc-issuer") == KEYLESS.issuer
        assert not any("tlog" in arg or "insecure" in arg for arg in args)
        assert "--key" not in args


def test_verify_attestation_filters_by_type() -> None:
    args = cosign.verify_attestation_argv("cosign", LOCAL, PAIR, predicate_type="spdxjson")
    assert args[:2] == ["cosign", "verify-attestation"]
    assert _value(args, "--type") == "spdxjson"
    assert "--insecure-ignore-tlog=true" in args


def test_generate_key_pair_writes_beside_the_prefix() -> None:
    assert cosign.generate_key_pair_argv("cosign", Path("/tmp/x/cosign")) == [
        "cosign",
        "generate-key-pair",
        "--output-key-prefix",
        "/tmp/x/cosign",
    ]


def test_the_password_is_always_set_so_cosign_never_prompts() -> None:
    assert cosign.run_env(None) == {"COSIGN_PASSWORD": ""}
    assert cosign.run_env("s3cret") == {"COSIGN_PASSWORD": "s3cret"}


# --- version ---------------------------------------------------------------------------------


def test_parse_version_reads_the_real_output() -> None:
    text = (DATA / "cosign_version.json").read_text(encoding="utf-8")
    assert cosign.parse_version(text) == "2.6.5"


@pytest.mark.parametrize("text", ["", "cosign", '{"gitVersion": "devel"}', "[]"])
def test_parse_version_rejects_output_without_a_release(text: str) -> None:
    with pytest.raises(ToolFailedError, match="no release version"):
        cosign.parse_version(text)


def _fake_cosign(tmp_path: Path, version: str) -> str:
    script = tmp_path / "cosign"
    script.write_text(f'#!/bin/sh\necho \'{{"gitVersion": "v{version}"}}\'\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_check_version_accepts_the_pinned_release(tmp_path: Path) -> None:
    assert cosign.check_version(_fake_cosign(tmp_path, "2.6.5"), "2.6.5") == "2.6.5"


def test_another_release_is_a_missing_tool_naming_the_install(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError, match=r"cosign 2\.4\.0 .* pins 2\.6\.5.*install-go-tools"):
        cosign.check_version(_fake_cosign(tmp_path, "2.4.0"), "2.6.5")


# --- verify output -----------------------------------------------------------------------------


def test_parse_verified_signatures_of_a_real_run() -> None:
    text = (DATA / "cosign_verify.json").read_text(encoding="utf-8")
    (signature,) = cosign.parse_verified_signatures(text)
    assert signature.docker_manifest_digest.startswith("sha256:")
    assert signature.docker_reference.startswith("127.0.0.1:")
    assert signature.certificate_subject is None


def test_parse_verified_signatures_reads_a_keyless_certificate() -> None:
    payload = [
        {
            "critical": {
                "identity": {"docker-reference": "ghcr.io/o/x"},
                "image": {"docker-manifest-digest": DIGEST},
                "type": "cosign container image signature",
            },
            "optional": {"Issuer": KEYLESS.issuer, "Subject": KEYLESS.identity},
        }
    ]
    (signature,) = cosign.parse_verified_signatures(json.dumps(payload))
    assert (signature.certificate_subject, signature.certificate_issuer) == (
        KEYLESS.identity,
        KEYLESS.issuer,
    )
    assert signature.docker_manifest_digest == DIGEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Verification for x", "not JSON"),
        ("[]", "no verified signature"),
        ("{}", "a JSON object, not a list"),
        ('[{"optional": {}}]', "no 'critical'"),
    ],
)
def test_parse_verified_signatures_rejects_what_is_not_a_verification(
    text: str, expected: str
) -> None:
    with pytest.raises(ToolFailedError, match=expected):
        cosign.parse_verified_signatures(text)


def _envelope(statement: object, payload_type: str = cosign.IN_TOTO_PAYLOAD_TYPE) -> str:
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps({"payloadType": payload_type, "payload": payload, "signatures": []})


def test_parse_verified_attestations_of_a_real_run() -> None:
    text = (DATA / "cosign_verify_attestation.jsonl").read_text(encoding="utf-8")
    statements = cosign.parse_verified_attestations(text)
    assert statements
    for statement in statements:
        assert statement.predicate_type == "https://slsa.dev/provenance/v1"
        assert all(d.startswith("sha256:") and len(d) == 71 for d in statement.subject_digests)
        assert "buildDefinition" in statement.predicate
        # Attached by its URI, the provenance comes back exactly as generated: complete.
        (subject,) = statement.subject_digests
        assert provenance.provenance_problems(statement.raw, subject) == []


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text("0123456789abcdef", min_size=64, max_size=64), min_size=1, max_size=3),
    st.sampled_from(list(cosign.PREDICATE_TYPES.values())),
    st.dictionaries(st.text(min_size=1, max_size=8), st.integers(), max_size=3),
)
def test_parse_statement_round_trips_any_statement(
    hexes: list[str], predicate_type: str, predicate: dict[str, int]
) -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "r", "digest": {"sha256": h}} for h in hexes],
        "predicateType": predicate_type,
        "predicate": predicate,
    }
    (parsed,) = cosign.parse_verified_attestations(_envelope(statement) + "\n")
    assert parsed.subject_digests == tuple(f"sha256:{h}" for h in hexes)
    assert parsed.predicate_type == predicate_type
    assert parsed.predicate == predicate
    assert parsed.raw == statement


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no verified attestation"),
        ("not json\n", "cosign verify-attestation: not JSON"),
        ("[1]\n", "cosign verify-attestation: a JSON list, not an object"),
        (_envelope({"subject": []}, "text/plain") + "\n", "payloadType"),
        ('{"payloadType": "application/vnd.in-toto+json", "payload": "%%%"}', "base64"),
        (_envelope([1, 2]), "attestation payload: a JSON list, not an object"),
        (_envelope({"predicateType": "x"}), "no subject list"),
    ],
)
def test_parse_verified_attestations_rejects_what_is_not_one(text: str, expected: str) -> None:
    with pytest.raises(ToolFailedError, match=expected):
        cosign.parse_verified_attestations(text)
