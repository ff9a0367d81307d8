"""``sign``: sign every released image, attach its provenance and SBOMs, verify all of it.

Input: the release build's ``reports/build/release.json`` (each service's index, pushed by
digest, and its platform manifests) and ``build-metadata.json`` and SBOMs beside it. Per
service (docs/ci-cd.md, "Signing and provenance"):

1. ``cosign sign --recursive`` of the index by digest: the index and each platform manifest;
2. ``cosign attest --type https://slsa.dev/provenance/v1`` on the index: the SLSA v1
   provenance that
   ``sign.provenance`` generates from the build's records;
3. ``cosign attest --type spdxjson`` on each platform manifest: the SBOM syft made of it;
4. verification, in the same run: ``cosign verify`` of every digest (the payload must name
   that digest; keyless: the certificate's identity and issuer), ``cosign verify-attestation``
   of both kinds, whose verified statements must have the image's digest as subject and carry
   exactly what was attested (the provenance also passes :func:`provenance_problems`).

Before 1, the commit the images were built from (``build-metadata.json``'s ``git_sha``) must
have a run of the required workflow (``CI test``) that concluded success, as GitHub's REST API
lists that commit's runs (``promote/tests_gate.py``, the rule promote follows too): a failed,
unfinished or missing run fails and nothing is signed; an API that cannot be asked is unknown
(under CI that fails, and nothing is signed). ``--no-require-tests REASON`` skips the check,
saying why; ``sign.json`` records the run trusted (or the skip). ``verify_only`` signs nothing
and skips the check.

Each check is one ``Outcome`` per image; ``reports/sign/sign.json`` and ``summary.md`` are
written on every path. ``verify_only`` skips 1-3 (checking what a registry already holds).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from vibevoice_ci.build.reports import BuildMetadataFile, BuildRecord, Release, ReleaseImage
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import EXIT_OK, CheckFailedError, PipelineError, UsageError
from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    exit_code,
    failure_recorded,
    overall,
    publish_summary,
    render_summary,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import Check, read_report, write_report
from vibevoice_ci.core.retry import RetryLog, is_transient
from vibevoice_ci.promote import tests_gate
from vibevoice_ci.promote.reports import RequiredTests
from vibevoice_ci.sign import provenance
from vibevoice_ci.sign.reports import SignedImage, SignedPlatform, SignReport
from vibevoice_ci.tools import cosign
from vibevoice_ci.tools._exec import failure_message

SESSION = "sign"
REPORT_FILE = "sign.json"
PUBLIC_KEY_FILE = "cosign.pub"
METADATA_FILE = "build-metadata.json"

Document = TypeVar("Document", bound=BaseModel)


@dataclass(frozen=True)
class SignOptions:
    """How to run: which release, keyless or with a key, sign or only verify."""

    release_file: Path
    keyless: bool = False
    key: Path | None = None  # an existing cosign.key (its .pub beside it); None: a new pair
    verify_only: bool = False
    skip_tests: str | None = None  # --no-require-tests: why the tests gate is skipped


@dataclass(frozen=True)
class Attestation:
    """One predicate to attach to (and find verified on) an image."""

    kind: str  # "provenance" or "sbom": the outcome's name
    predicate_type: str  # cosign's --type
    predicate_file: Path
    expected: Mapping[str, Any]  # the predicate the verified statement must carry


@dataclass(frozen=True)
class Target:
    """One image by digest: an index (its provenance) or a platform manifest (its SBOM)."""

    service: str
    label: str  # "tts" for the index, "tts linux/amd64" for a platform manifest
    reference: str  # repository@sha256:...
    digest: str
    is_index: bool
    attestations: tuple[Attestation, ...] = ()


@dataclass
class _Run:
    """What the session has found so far, so the report can be written from anywhere."""

    mode: Literal["key", "keyless"]
    outcomes: list[Outcome] = field(default_factory=list)
    images: list[SignedImage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cosign_version: str | None = None
    tests: RequiredTests | None = None


# --- planning (pure) -----------------------------------------------------------------------


_BUILD_FIRST = "(run `nox -s build -- --push` first)"


def read_json(path: Path, what: str) -> Any:
    """A JSON file the session does not own (an SBOM: syft's SPDX document)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path} not found {_BUILD_FIRST}") from None
    except ValueError as exc:
        raise UsageError(f"{what} {path} is not JSON: {exc}") from None


def read_build_document(path: Path, model: type[Document], what: str) -> Document:
    """One of the release build's documents, validated as its writer's model: a missing file
    or a wrong shape is one line, exit 2."""
    if not path.exists():
        raise UsageError(f"{what} {path} not found {_BUILD_FIRST}")
    return read_report(path, model, what)


def release_images(release: Release) -> list[ReleaseImage]:
    """The images a passing release lists; anything else is exit 2 (bad input)."""
    if release.status != "pass" or not release.images:
        raise UsageError(
            f"release.json: status {release.status!r} with {len(release.images)} images: "
            "nothing released to sign"
        )
    return release.images


def signature_outcome(
    target: Target, signatures: Sequence[cosign.VerifiedSignature], mode: cosign.SigningMode
) -> list[Outcome]:
    """Verified signatures of ``target``: every payload names its digest; keyless, every
    certificate names the configured identity and issuer (pure)."""
    name = f"{target.label} signature"
    wrong = sorted(
        {s.docker_manifest_digest for s in signatures if s.docker_manifest_digest != target.digest}
    )
    outcomes = [
        Outcome.of(
            name,
            not wrong,
            f"{len(signatures)} verified, for {target.digest}"
            if not wrong
            else f"a verified payload names {', '.join(wrong)}, not {target.digest}",
        )
    ]
    if isinstance(mode, cosign.Keyless):
        mismatched = [
            f"{s.certificate_subject!r} from {s.certificate_issuer!r}"
            for s in signatures
            if s.certificate_subject != mode.identity or s.certificate_issuer != mode.issuer
        ]
        outcomes.append(
            Outcome.of(
                f"{target.label} certificate identity",
                not mismatched,
                f"{mode.identity} from {mode.issuer}"
                if not mismatched
                else f"certificates name {'; '.join(mismatched)}",
            )
        )
    return outcomes


def attestation_outcome(
    target: Target, attestation: Attestation, statements: Sequence[cosign.Statement]
) -> Outcome:
    """Verified statements of one kind on ``target`` (pure): at least one; every one of that
    predicate type about exactly ``target``'s digest; one carrying exactly what was attested;
    a provenance also complete (:func:`provenance.provenance_problems`)."""
    name = f"{target.label} {attestation.kind}"
    wanted = cosign.PREDICATE_TYPES[attestation.predicate_type]
    mine = [s for s in statements if s.predicate_type == wanted]
    if not mine:
        return Outcome(name, Status.FAIL, f"no verified {wanted} attestation")
    for statement in mine:
        problems = provenance.subject_problems(statement.raw, target.digest)
        if problems:
            return Outcome(name, Status.FAIL, f"verified statement: {'; '.join(problems)}")
    matching = [s for s in mine if s.predicate == attestation.expected]
    if not matching:
        return Outcome(
            name, Status.FAIL, f"{len(mine)} verified, none carries the predicate attested"
        )
    if attestation.kind == "provenance":
        problems = provenance.provenance_problems(matching[0].raw, target.digest)
        if problems:
            return Outcome(name, Status.FAIL, f"incomplete provenance: {'; '.join(problems)}")
    return Outcome(name, Status.PASS, f"verified, subject {target.digest}")


def tool_failure_outcome(name: str, error: PipelineError) -> Outcome:
    """A cosign run that failed: unknown when the registry could not be reached (the check
    was not decided), otherwise a failure (pure)."""
    text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # cosign's own verdict is its "Error:" line; the lines before it can be warnings (offline,
    # its TUF refresh of Sigstore's trust root fails with "no such host" on every run).
    errors = [line for line in lines if line.startswith("Error:")]
    status = Status.UNKNOWN if is_transient("\n".join(errors or lines)) else Status.FAIL
    return Outcome(name, status, " / ".join((errors or lines)[-2:]) if lines else text)


# --- the session -----------------------------------------------------------------------------


def run_sign(config: PipelineConfig, options: SignOptions) -> list[Outcome]:
    """Sign, attest and verify every image ``options.release_file`` lists (module docstring).
    Exit 1 (``CheckFailedError``) when a check failed, or stayed unknown under CI."""
    report_dir = config.report_dir(SESSION)
    run = _Run(mode="keyless" if options.keyless else "key")
    published = report_dir / PUBLIC_KEY_FILE
    given = options.key.with_suffix(".pub") if options.key else None
    if given is None or given.resolve() != published.resolve():
        published.unlink(missing_ok=True)  # never a previous run's key
    try:
        with failure_recorded(run.outcomes, "sign"):
            _run(config, options, run, report_dir)
    finally:
        _write_reports(report_dir, run, options)
    verdict = overall(run.outcomes)
    if exit_code(verdict, ci=config.env.ci) != EXIT_OK:
        bad = [o.name for o in run.outcomes if not o.passed]
        raise CheckFailedError(f"sign: {verdict.value}: {', '.join(bad)} (reports/{SESSION}/)")
    if verdict is Status.UNKNOWN:
        progress("sign: UNKNOWN: some checks could not be decided (see summary.md)")
    return run.outcomes


def option_problems(options: SignOptions, env: RunEnvironment) -> list[str]:
    """Why ``options`` cannot run in ``env`` (pure); empty when they can."""
    problems = []
    if options.keyless:
        if options.key is not None:
            problems.append("--keyless and --key exclude each other")
        if not env.github_repository:
            problems.append("--keyless needs $GITHUB_REPOSITORY (the identity to verify)")
        if not options.verify_only and not env.oidc_available:
            problems.append(
                "--keyless signs with the workflow's OIDC token: the job needs "
                "`permissions: id-token: write` ($ACTIONS_ID_TOKEN_REQUEST_URL is not set)"
            )
    elif options.verify_only and options.key is None:
        problems.append("--verify-only needs --key (its .pub beside it) or --keyless")
    skip = tests_gate.skip_problem(options.skip_tests)
    if skip:
        problems.append(skip)
    return problems


def _run(config: PipelineConfig, options: SignOptions, run: _Run, report_dir: Path) -> None:
    problems = option_problems(options, config.env)
    if problems:
        raise UsageError("; ".join(problems))
    release_dir = options.release_file.parent
    images = release_images(read_build_document(options.release_file, Release, "release file"))
    records = read_build_document(
        release_dir / METADATA_FILE, BuildMetadataFile, "build metadata"
    ).root
    if not options.verify_only and not _tests_passed(config, options, images, records, run):
        return  # nothing is signed for a commit whose tests did not pass
    binary = cosign.cosign()
    run.cosign_version = cosign.check_version(binary, config.tools.get("cosign", ""))
    password = config.env.cosign_password.reveal() if config.env.cosign_password else None
    with _signing_mode(config, options, binary, report_dir, run) as mode:
        for image in images:
            targets = _targets(config, image, records, release_dir, report_dir, run)
            if not options.verify_only:
                _sign_and_attest(binary, targets, mode, password, run)
            for target in targets:
                run.outcomes += _verify(binary, target, mode, password)


def released_commits(
    images: Sequence[ReleaseImage], records: Sequence[BuildRecord]
) -> list[str | None]:
    """The commit of each build record of the released images (pure); a released image with no
    record is None (its commit is unknown)."""
    digests = {image.digest for image in images}
    commits: list[str | None] = [r.git_sha for r in records if r.digest in digests]
    recorded = {r.digest for r in records}
    return commits + [None for digest in digests if digest not in recorded]


def _tests_passed(
    config: PipelineConfig,
    options: SignOptions,
    images: Sequence[ReleaseImage],
    records: Sequence[BuildRecord],
    run: _Run,
) -> bool:
    """The tests gate (recorded in ``run``): False when it stops the signing."""
    commit, why = tests_gate.the_commit(released_commits(images, records))
    gate = tests_gate.check_tests(
        config.env,
        config.sign.required_workflow,
        commit,
        why_no_commit=why,
        skip=options.skip_tests,
        log=RetryLog(),
        wait=config.sign.tests_wait_seconds,
    )
    run.tests = gate
    run.notes.append(tests_gate.gate_note(gate))
    outcome = tests_gate.gate_outcome(gate)
    if outcome is not None:
        run.outcomes.append(outcome)
    progress(outcome.line() if outcome else tests_gate.gate_note(gate))
    return not tests_gate.gate_stops(gate, ci=config.env.ci)


@contextlib.contextmanager
def _signing_mode(
    config: PipelineConfig, options: SignOptions, binary: str, report_dir: Path, run: _Run
) -> Iterator[cosign.SigningMode]:
    if options.keyless:
        repository = config.env.github_repository or ""
        mode = cosign.Keyless(
            config.sign.identity_for(repository), config.sign.certificate_oidc_issuer
        )
        run.notes.append(f"keyless: certificate identity {mode.identity}, issuer {mode.issuer}")
        yield mode
        return
    if options.key is not None:
        pair = cosign.KeyPair(options.key, options.key.with_suffix(".pub"))
        needed = [pair.public_key] if options.verify_only else [pair.private_key, pair.public_key]
        missing = [str(path) for path in needed if not path.is_file()]
        if missing:
            raise UsageError(f"--key: {', '.join(missing)} not found")
        _publish_public_key(pair, report_dir, run, f"the key {options.key}")
        yield pair
        return
    with tempfile.TemporaryDirectory(prefix="vibevoice-cosign-") as scratch:
        password = config.env.cosign_password.reveal() if config.env.cosign_password else None
        pair = cosign.generate_key_pair(binary, Path(scratch) / "cosign", password=password)
        _publish_public_key(pair, report_dir, run, "a key pair generated for this run")
        yield pair


def _publish_public_key(pair: cosign.KeyPair, report_dir: Path, run: _Run, what: str) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    target = report_dir / PUBLIC_KEY_FILE
    if pair.public_key.resolve() != target.resolve():
        shutil.copyfile(pair.public_key, target)
    run.notes.append(
        f"signed with {what}, no transparency log; verify with `{PUBLIC_KEY_FILE}` "
        "(`cosign verify --key cosign.pub --insecure-ignore-tlog=true IMAGE@DIGEST`)"
    )


def _targets(
    config: PipelineConfig,
    image: ReleaseImage,
    records: Sequence[BuildRecord],
    release_dir: Path,
    report_dir: Path,
    run: _Run,
) -> list[Target]:
    """The index and platform manifests of one image, with what each gets attested; a
    provenance or SBOM that cannot be made is a failed outcome, the rest still runs."""
    service = image.service
    dockerfile = config.service(service).dockerfile if service in config.services else None
    context = provenance.build_context(
        image,
        records,
        dockerfile=str(dockerfile.relative_to(config.root)) if dockerfile else "unknown",
        origin=provenance.Origin(
            config.env.github_repository,
            github_server=config.env.github_server_url,
            local_source=str(config.root),
        ),
    )
    index_attestations: list[Attestation] = []
    statement_path: str | None = None
    try:
        statement = provenance.provenance_statement(context)
    except provenance.ProvenanceError as exc:
        run.outcomes.append(Outcome(f"{service} provenance", Status.FAIL, str(exc)))
    else:
        statement_file = report_dir / "provenance" / f"{service}.intoto.json"
        predicate_file = report_dir / "provenance" / f"{service}.predicate.json"
        write_json_atomic(statement_file, statement)
        write_json_atomic(predicate_file, statement["predicate"])
        statement_path = str(statement_file.relative_to(report_dir))
        index_attestations.append(
            Attestation(
                "provenance", cosign.SLSA_PROVENANCE_V1, predicate_file, statement["predicate"]
            )
        )
    targets = [
        Target(
            service,
            service,
            f"{context.repository}@{context.digest}",
            context.digest,
            True,
            tuple(index_attestations),
        )
    ]
    sboms = {entry.platform: entry.sbom for entry in image.platforms}
    for platform, digest in context.platforms:
        label = f"{service} {platform}"
        attestations = []
        sbom_file = release_dir / sboms[platform]
        try:
            document = read_json(sbom_file, "SBOM") if sboms[platform] else None
        except UsageError as exc:
            run.outcomes.append(Outcome(f"{label} sbom", Status.FAIL, str(exc)))
        else:
            if not isinstance(document, dict):
                run.outcomes.append(
                    Outcome(f"{label} sbom", Status.FAIL, "the release lists no SBOM for it")
                )
            else:
                attestations.append(Attestation("sbom", "spdxjson", sbom_file, document))
        targets.append(
            Target(
                service,
                label,
                f"{context.repository}@{digest}",
                digest,
                False,
                tuple(attestations),
            )
        )
    run.images.append(
        SignedImage(
            service=service,
            reference=f"{context.repository}@{context.digest}",
            provenance=statement_path,
            platforms=[
                SignedPlatform(platform=p, reference=f"{context.repository}@{d}")
                for p, d in context.platforms
            ],
        )
    )
    return targets


def _sign_and_attest(
    binary: str,
    targets: Sequence[Target],
    mode: cosign.SigningMode,
    password: str | None,
    run: _Run,
) -> None:
    index = next(target for target in targets if target.is_index)
    progress(f"cosign sign --recursive {index.reference}")
    try:
        cosign.run(
            cosign.sign_argv(binary, index.reference, mode, recursive=True), password=password
        )
    except PipelineError as exc:
        run.outcomes.append(tool_failure_outcome(f"{index.label} sign", exc))
    for target in targets:
        for attestation in target.attestations:
            progress(f"cosign attest --type {attestation.predicate_type} {target.reference}")
            argv = cosign.attest_argv(
                binary,
                target.reference,
                mode,
                predicate=attestation.predicate_file,
                predicate_type=attestation.predicate_type,
            )
            try:
                cosign.run(argv, password=password)
            except PipelineError as exc:
                run.outcomes.append(
                    tool_failure_outcome(f"{target.label} attest {attestation.kind}", exc)
                )


def _verify(
    binary: str, target: Target, mode: cosign.SigningMode, password: str | None
) -> list[Outcome]:
    """Every check of one image; a verification cosign refuses is a failed outcome."""
    outcomes: list[Outcome] = []
    result = cosign.run(
        cosign.verify_argv(binary, target.reference, mode), password=password, check=False
    )
    if result.ok:
        try:
            outcomes += signature_outcome(
                target, cosign.parse_verified_signatures(result.stdout), mode
            )
        except PipelineError as exc:
            outcomes.append(Outcome(f"{target.label} signature", Status.FAIL, str(exc)))
    else:
        outcomes.append(_refused(f"{target.label} signature", result))
    for attestation in target.attestations:
        argv = cosign.verify_attestation_argv(
            binary, target.reference, mode, predicate_type=attestation.predicate_type
        )
        result = cosign.run(argv, password=password, check=False)
        name = f"{target.label} {attestation.kind}"
        if not result.ok:
            outcomes.append(_refused(name, result))
            continue
        try:
            statements = cosign.parse_verified_attestations(result.stdout)
        except PipelineError as exc:
            outcomes.append(Outcome(name, Status.FAIL, str(exc)))
            continue
        outcomes.append(attestation_outcome(target, attestation, statements))
    for outcome in outcomes:
        progress(outcome.line())
    return outcomes


def _refused(name: str, result: Any) -> Outcome:
    return tool_failure_outcome(name, CheckFailedError(failure_message(result)))


def _write_reports(report_dir: Path, run: _Run, options: SignOptions) -> None:
    verdict = overall(run.outcomes)
    write_report(
        report_dir / REPORT_FILE,
        SignReport(
            status=verdict,
            mode=run.mode,
            verify_only=options.verify_only,
            release_file=str(options.release_file),
            cosign_version=run.cosign_version,
            public_key=PUBLIC_KEY_FILE if (report_dir / PUBLIC_KEY_FILE).is_file() else None,
            tests=run.tests,
            images=run.images,
            checks=[Check.of(outcome) for outcome in run.outcomes],
            notes=run.notes,
        ),
    )
    notes = [
        f"release file `{options.release_file}`; mode {run.mode}"
        + (" (verify only)" if options.verify_only else ""),
        *run.notes,
        "every check is per image digest: the index's signature and provenance, each "
        "platform manifest's signature and SBOM",
    ]
    publish_summary(report_dir, render_summary("sign", run.outcomes, notes))
