"""``promote.plan``: which tags move, only when the release passed and smoke passed on the
container at exactly the released digests, and what a refusal says (pure)."""

from __future__ import annotations

import pytest
from release_helpers import INDEX, release, released_image

from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.promote.session import Move, plan
from vibevoice_ci.smoke.reports import SmokeReport

AGENT_DIGEST = "sha256:" + "4" * 64
TTS = released_image("tts", promote_tags=["latest", "v1.2.3"])
AGENT = released_image("agent", digest=AGENT_DIGEST, promote_tags=["latest"])
KEPT = "tags left unchanged"


def smoke(
    images: dict[str, str],
    *,
    status: Status = Status.PASS,
    container: Status = Status.PASS,
) -> SmokeReport:
    return SmokeReport(
        status=status,
        mode_requested="docker",
        mode="docker",
        target="http://127.0.0.1:18000",
        container=container,
        checks=[],
        notes=[],
        images=images,
        speech=[],
    )


BOTH_TESTED = {"tts": TTS.reference, "agent": AGENT.reference}


def test_every_tag_of_every_tested_image_moves_to_its_digest() -> None:
    assert plan(release(TTS, AGENT), smoke(BOTH_TESTED)) == [
        Move("tts", TTS.repository, INDEX, "latest"),
        Move("tts", TTS.repository, INDEX, "v1.2.3"),
        Move("agent", AGENT.repository, AGENT_DIGEST, "latest"),
    ]


@pytest.mark.parametrize(("status", "images"), [("fail", [TTS]), ("pass", []), ("fail", [])])
def test_a_release_that_did_not_pass_or_holds_no_image_moves_nothing(
    status: str, images: list[object]
) -> None:
    with pytest.raises(CheckFailedError) as refused:
        plan(release(*images, status=status), smoke(BOTH_TESTED))  # type: ignore[arg-type]
    assert str(refused.value) == "the release build did not pass: nothing to promote"


@pytest.mark.parametrize(
    ("status", "container", "message"),
    [
        (Status.FAIL, Status.PASS, f"smoke verdict is 'fail', not pass: {KEPT}"),
        (Status.UNKNOWN, Status.UNKNOWN, f"smoke verdict is 'unknown', not pass: {KEPT}"),
        (Status.PASS, Status.UNKNOWN, f"smoke did not test the container: {KEPT}"),
        (Status.PASS, Status.FAIL, f"smoke did not test the container: {KEPT}"),
    ],
)
def test_smoke_must_pass_on_the_container(status: Status, container: Status, message: str) -> None:
    with pytest.raises(CheckFailedError) as refused:
        plan(release(TTS), smoke(BOTH_TESTED, status=status, container=container))
    assert str(refused.value) == message


def test_every_image_smoke_did_not_test_at_its_digest_is_named() -> None:
    other = released_image("tts", digest="sha256:" + "9" * 64)
    with pytest.raises(CheckFailedError) as refused:
        plan(release(TTS, AGENT), smoke({"tts": other.reference}))
    assert str(refused.value) == (
        f"smoke did not test {TTS.reference}, {AGENT.reference} (it tested "
        f"{other.reference}): {KEPT}"
    )


def test_an_image_tested_among_untested_ones_does_not_let_them_through() -> None:
    with pytest.raises(CheckFailedError) as refused:
        plan(release(TTS, AGENT), smoke({"agent": AGENT.reference, "x": "a@sha256:" + "8" * 64}))
    assert str(refused.value) == (
        f"smoke did not test {TTS.reference} (it tested {AGENT.reference}, "
        f"a@sha256:{'8' * 64}): {KEPT}"  # what it tested, sorted
    )


def test_a_smoke_run_that_pinned_no_image_says_so() -> None:
    with pytest.raises(CheckFailedError) as refused:
        plan(release(TTS), smoke({}))
    assert str(refused.value) == (
        f"smoke did not test {TTS.reference} (it tested no pinned image): {KEPT}"
    )
