"""The sign session against a real registry on 127.0.0.1 with the real cosign: a release
signed, attested and verified passes; an unsigned release, an image signed with another key,
an attestation whose payload was changed after signing, and a signed attestation moved from
another image all fail verification.

No Docker engine needed: crane builds two tiny platform images and an index in Debian's
docker-registry (a throwaway one on a free port, so nothing touches the shared registry),
and the release record is written as the release build writes it.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from release_support import require_tool, running_registry

from vibevoice_ci.build import referrers
from vibevoice_ci.build.reports import (
    BuildMetadataFile,
    Release,
    ReleaseBuildRecord,
    ReleaseImage,
    ReleasePlatform,
)
from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.environment import RunEnvironment, Secret
from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.core.retry import RetryLog
from vibevoice_ci.sign import session as sign
from vibevoice_ci.tools import cosign, crane

# One worker for the whole module: the module's registry and signed release serve every test.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("sign-registry")]
REPO_ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"
PLATFORMS = ("linux/amd64", "linux/arm64")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_tool("cosign")
    require_tool("crane")
    with running_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


def _run(*argv: str) -> str:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True).stdout


def _push_index(repository: str, label: str, folder: Path) -> tuple[str, dict[str, str]]:
    """An index of one tiny image per platform (content unique to ``label``), pushed by
    crane; returns the index digest and each platform's manifest digest."""
    manifests = {}
    for platform in PLATFORMS:
        content = f"{label} {platform}\n".encode()
        layer = folder / f"{label}-{platform.replace('/', '-')}.tar"
        with tarfile.open(layer, "w") as archive:
            info = tarfile.TarInfo("hello.txt")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        tag = f"{repository}:{label}-{platform.replace('/', '-')}"
        _run("crane", "append", "--insecure", "-f", str(layer), "-t", tag)
        _run("crane", "mutate", "--insecure", tag, "--set-platform", platform, "-t", tag)
        manifests[platform] = crane.digest(tag)
    index_tag = f"{repository}:{label}"
    _run(
        "crane",
        "index",
        "append",
        "--insecure",
        *[arg for digest in manifests.values() for arg in ("-m", f"{repository}@{digest}")],
        "-t",
        index_tag,
    )
    return crane.digest(index_tag), manifests


def _release(registry: str, label: str, folder: Path) -> Path:
    """Push an image and write release.json, build-metadata.json and SBOMs as the release
    build does; returns the release file."""
    build = folder / "build"
    (build / "sbom").mkdir(parents=True)
    repository = f"{registry}/vibevoice/vibevoice-tts"
    index, manifests = _push_index(repository, label, folder)
    platforms: list[ReleasePlatform] = []
    records: list[ReleaseBuildRecord] = []
    for platform, digest in manifests.items():
        sbom = f"sbom/tts-{platform.replace('/', '-')}.spdx.json"
        (build / sbom).write_text(
            json.dumps(
                {
                    "spdxVersion": "SPDX-2.3",
                    "SPDXID": "SPDXRef-DOCUMENT",
                    "name": f"{repository}@{digest}",
                    "documentNamespace": f"https://example.invalid/{label}/{platform}",
                    "packages": [{"SPDXID": "SPDXRef-p", "name": "hello", "versionInfo": "1"}],
                }
            ),
            encoding="utf-8",
        )
        # No SBOM referrer is pushed here: the sign session never reads it.
        platforms.append(
            ReleasePlatform(
                platform=platform, digest=digest, sbom=sbom, sbom_referrer="sha256:" + "5" * 64
            )
        )
        records.append(
            ReleaseBuildRecord(
                image=f"{repository}:{label}",
                digest=index,
                platform=platform,
                git_sha=SHA,
                git_ref="refs/heads/main",
                workflow_run_id="local",
                build_timestamp="2026-11-30T12:00:00Z",
                builder="local",
                service="tts",
                digest_kind="index",
                platform_digest=digest,
                sbom=sbom,
                base_image=f"{registry}/vibevoice/vibevoice-base@sha256:{'4' * 64}",
                build_seconds=12.5,
                git_dirty=False,
                promote_tags=[],
            )
        )
    image = ReleaseImage(
        service="tts",
        repository=repository,
        tag=label,
        digest=index,
        reference=f"{repository}@{index}",
        platforms=platforms,
        promote_tags=[],
        build_seconds=12.5,
        log="logs/tts.log",
    )
    release = Release(
        status="pass",
        registry=f"{registry}/vibevoice",
        platforms=list(PLATFORMS),
        images=[image],
        retries=[],
        notes=[],
    )
    write_report(build / "release.json", release)
    write_report(build / "build-metadata.json", BuildMetadataFile(records))
    return build / "release.json"


# The tests gate (the commit's CI test run on GitHub) is covered by test_tests_gate_api.py.
SKIP = "a local registry: these tests are about the signatures and attestations"


def _config(folder: Path, password: str | None = None) -> PipelineConfig:
    config = load_config(REPO_ROOT)
    return config.model_copy(
        update={
            "reports_dir": folder / "reports",
            "env": RunEnvironment(cosign_password=Secret(password) if password else None),
        }
    )


def _statuses(outcomes: list[Outcome]) -> dict[str, Status]:
    return {outcome.name: outcome.status for outcome in outcomes}


def _reported(config: PipelineConfig) -> dict[str, Status]:
    report = json.loads((config.report_dir("sign") / "sign.json").read_text(encoding="utf-8"))
    return {check["name"]: Status(check["status"]) for check in report["checks"]}


EVERY_CHECK = {
    "tts signature",
    "tts provenance",
    "tts linux/amd64 signature",
    "tts linux/amd64 sbom",
    "tts linux/arm64 signature",
    "tts linux/arm64 sbom",
}


@pytest.fixture(scope="module")
def signed(registry: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A release signed and attested by the session (a new key pair with a password);
    returns the release file and the published public key."""
    folder = tmp_path_factory.mktemp("signed")
    release = _release(registry, "signed", folder)
    config = _config(folder, password="correct horse")  # noqa: S106 (a test key's password)
    outcomes = sign.run_sign(config, sign.SignOptions(release, skip_tests=SKIP))
    assert _statuses(outcomes) == dict.fromkeys(EVERY_CHECK, Status.PASS)
    return release, config.report_dir("sign") / sign.PUBLIC_KEY_FILE


def test_sign_attest_and_verify_pass_and_are_reported(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    release, public_key = signed
    report = json.loads((public_key.parent / "sign.json").read_text(encoding="utf-8"))
    assert report["status"] == "pass"
    assert report["mode"] == "key"
    assert report["cosign_version"] == "2.6.5"
    assert report["public_key"] == "cosign.pub"
    assert {check["name"] for check in report["checks"]} == EVERY_CHECK
    statement = json.loads(
        (public_key.parent / "provenance" / "tts.intoto.json").read_text(encoding="utf-8")
    )
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert "PASSED" in (public_key.parent / "summary.md").read_text(encoding="utf-8")
    # A consumer with only the public key verifies the same release.
    config = _config(tmp_path)
    options = sign.SignOptions(release, key=public_key.with_suffix(".key"), verify_only=True)
    assert _statuses(sign.run_sign(config, options)) == dict.fromkeys(EVERY_CHECK, Status.PASS)


def _other_key(folder: Path) -> Path:
    pair = cosign.generate_key_pair(cosign.cosign(), folder / "other", password=None)
    return pair.private_key


def test_an_unsigned_release_fails_verification(registry: str, tmp_path: Path) -> None:
    release = _release(registry, "unsigned", tmp_path)
    config = _config(tmp_path)
    options = sign.SignOptions(release, key=_other_key(tmp_path), verify_only=True)
    with pytest.raises(CheckFailedError, match="sign: fail"):
        sign.run_sign(config, options)
    # Every check failed, none was merely undecided.
    assert _reported(config) == dict.fromkeys(EVERY_CHECK, Status.FAIL)


def test_a_release_signed_with_another_key_fails_verification(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    release, _ = signed
    config = _config(tmp_path)
    options = sign.SignOptions(release, key=_other_key(tmp_path), verify_only=True)
    with pytest.raises(CheckFailedError):
        sign.run_sign(config, options)
    assert _reported(config) == dict.fromkeys(EVERY_CHECK, Status.FAIL)


# --- tampering with what is in the registry ---------------------------------------------------

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def _attestation_tag(digest: str) -> str:
    return f"sha256-{digest.removeprefix('sha256:')}.att"


def _tamper_provenance(registry: str, repository: str, digest: str) -> None:
    """Change the provenance inside the signed envelope cosign attached to ``digest`` (the
    builder id becomes an attacker's), keeping the signature, and push it back."""
    base = f"http://{registry}/v2/{repository}"
    tag = _attestation_tag(digest)
    with httpx.Client(timeout=30, trust_env=False) as http:
        response = http.get(f"{base}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
        response.raise_for_status()
        manifest: dict[str, Any] = response.json()
        media_type = response.headers["content-type"].split(";")[0]
        changed = 0
        with referrers.RegistryClient(registry, log=RetryLog()) as client:
            for layer in manifest["layers"]:
                envelope = http.get(f"{base}/blobs/{layer['digest']}").json()
                statement = json.loads(base64.b64decode(envelope["payload"]))
                if statement["predicateType"] != "https://slsa.dev/provenance/v1":
                    continue
                statement["predicate"]["runDetails"]["builder"]["id"] = "https://attacker.example"
                envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
                data = json.dumps(envelope).encode()
                uploaded = client.put_blob(repository, data)
                layer["digest"], layer["size"] = uploaded.digest, uploaded.size
                changed += 1
            assert changed == 1
            client.put_manifest(repository, tag, json.dumps(manifest).encode(), media_type)


def test_a_provenance_changed_after_signing_fails_verification(
    registry: str, tmp_path: Path
) -> None:
    release = _release(registry, "tampered", tmp_path)
    config = _config(tmp_path)
    sign.run_sign(config, sign.SignOptions(release, skip_tests=SKIP))
    index = json.loads(release.read_text(encoding="utf-8"))["images"][0]["digest"]
    _tamper_provenance(registry, "vibevoice/vibevoice-tts", index)

    options = sign.SignOptions(
        release, key=config.report_dir("sign") / "cosign.key", verify_only=True
    )
    with pytest.raises(CheckFailedError, match="tts provenance"):
        sign.run_sign(config, options)
    statuses = _reported(config)
    assert statuses.pop("tts provenance") is Status.FAIL
    assert set(statuses.values()) == {Status.PASS}


def test_a_signed_attestation_moved_from_another_image_fails_verification(
    signed: tuple[Path, Path], registry: str, tmp_path: Path
) -> None:
    # The attestation is genuinely signed by our key, but it is about the signed image:
    # attached to another image, its subject gives it away.
    signed_release, public_key = signed
    source = json.loads(signed_release.read_text(encoding="utf-8"))["images"][0]["digest"]
    release = _release(registry, "moved", tmp_path)
    config = _config(tmp_path)
    target = json.loads(release.read_text(encoding="utf-8"))["images"][0]["digest"]
    repository = f"{registry}/vibevoice/vibevoice-tts"
    _run(
        "crane",
        "copy",
        "--insecure",
        f"{repository}:{_attestation_tag(source)}",
        f"{repository}:{_attestation_tag(target)}",
    )

    options = sign.SignOptions(release, key=public_key.with_suffix(".key"), verify_only=True)
    with pytest.raises(CheckFailedError, match="tts provenance"):
        sign.run_sign(config, options)
    report = json.loads((config.report_dir("sign") / "sign.json").read_text(encoding="utf-8"))
    (provenance_check,) = [c for c in report["checks"] if c["name"] == "tts provenance"]
    assert provenance_check["status"] == "fail"
    # Whichever notices first, cosign or the session's subject check, names the mismatch.
    assert "subject" in provenance_check["detail"] or "digest" in provenance_check["detail"]


def test_the_release_build_pins_a_base_given_by_tag_to_its_digest(
    registry: str, tmp_path: Path
) -> None:
    # What lets the provenance name the base image: a base chosen by tag (the official
    # default on GitHub, or $VIBEVOICE_BASE_IMAGE) is built from, and recorded, by digest.
    from vibevoice_ci.build import base_image as base

    repository = f"{registry}/vibevoice/base-by-tag"
    index, _ = _push_index(repository, "bookworm", tmp_path)
    pinned = base.pin_by_digest(f"{repository}:bookworm", RetryLog())
    assert pinned == f"{repository}@{index}"
    assert base.pin_by_digest(pinned, RetryLog()) == pinned
