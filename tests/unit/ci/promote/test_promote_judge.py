"""``promote.judge``: a tag moves only forward in git history, unless --allow-rollback (pure,
properties over every combination of digests, commits and git's answer)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.promote.session import judge
from vibevoice_ci.tools import crane
from vibevoice_ci.tools.git import Ancestry

TARGET = "127.0.0.1:5000/v/vibevoice-tts:latest"
digests = st.sampled_from(["sha256:" + c * 64 for c in "abc"])
commits = st.sampled_from([c * 40 for c in "0123"])
maybe_commits = st.none() | commits
relations = st.none() | st.sampled_from(Ancestry)


@given(
    after=digests,
    old=maybe_commits,
    new=maybe_commits,
    relation=relations,
    allow=st.booleans(),
)
def test_an_absent_tag_is_created(
    after: str, old: str | None, new: str | None, relation: Ancestry | None, allow: bool
) -> None:
    direction = judge(
        TARGET,
        before=None,
        after=after,
        old_commit=old,
        new_commit=new,
        relation=relation,
        allow_rollback=allow,
    )
    assert direction == "created"


@given(
    digest=digests,
    old=maybe_commits,
    new=maybe_commits,
    relation=relations,
    allow=st.booleans(),
)
def test_the_same_digest_is_a_re_promote(
    digest: str, old: str | None, new: str | None, relation: Ancestry | None, allow: bool
) -> None:
    direction = judge(
        TARGET,
        before=digest,
        after=digest,
        old_commit=old,
        new_commit=new,
        relation=relation,
        allow_rollback=allow,
    )
    assert direction == "same"


@given(
    before=digests,
    after=digests,
    old=maybe_commits,
    new=maybe_commits,
    relation=relations,
    allow=st.booleans(),
)
def test_a_move_is_forward_same_or_else_needs_the_flag(
    before: str,
    after: str,
    old: str | None,
    new: str | None,
    relation: Ancestry | None,
    allow: bool,
) -> None:
    shown_forward = relation is Ancestry.ANCESTOR
    shown_same = before == after or (old is not None and old == new) or relation is Ancestry.SAME

    def decide() -> str:
        return judge(
            TARGET,
            before=before,
            after=after,
            old_commit=old,
            new_commit=new,
            relation=relation,
            allow_rollback=allow,
        )

    if shown_same:
        assert decide() == "same"
    elif shown_forward:
        assert decide() == "forward"
    elif allow:
        assert decide() == "rollback"
    else:
        with pytest.raises(CheckFailedError) as refused:
            decide()
        message = str(refused.value)
        assert "\n" not in message
        assert message.startswith(f"refusing to move {TARGET} backwards: ")
        assert message.endswith("--allow-rollback moves it anyway")
        if old is None or new is None:
            assert crane.REVISION in message
        elif relation is Ancestry.UNKNOWN:
            assert "fetch the history" in message
            assert old in message
        else:
            assert f"{new} does not descend from {old}" in message


@given(
    before=digests,
    after=digests,
    old=maybe_commits,
    new=maybe_commits,
    relation=relations,
)
def test_rollback_never_happens_without_the_flag(
    before: str, after: str, old: str | None, new: str | None, relation: Ancestry | None
) -> None:
    try:
        direction = judge(
            TARGET,
            before=before,
            after=after,
            old_commit=old,
            new_commit=new,
            relation=relation,
            allow_rollback=False,
        )
    except CheckFailedError:
        return
    assert direction != "rollback"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"annotations": {crane.REVISION: "a" * 40}, "manifests": []}, "a" * 40),
        ({"config": {"Labels": {crane.REVISION: "b" * 40}}}, "b" * 40),
        ({"config": {"mediaType": "application/vnd.oci.image.config.v1+json"}}, None),
        ({"config": {"Labels": None}}, None),
        ({"annotations": {crane.REVISION: ""}}, None),
        ({}, None),
    ],
)
def test_the_revision_is_read_from_annotations_or_labels(
    document: dict[str, object], expected: str | None
) -> None:
    assert crane.revision_in(document) == expected


BEFORE, AFTER = "sha256:" + "a" * 64, "sha256:" + "b" * 64
OLD, NEW = "1" * 40, "2" * 40


@pytest.mark.parametrize(
    ("old", "new", "relation", "reason"),
    [
        (
            None,
            NEW,
            None,
            f"{TARGET} ({BEFORE}) carries no {crane.REVISION} label, so its commit is unknown",
        ),
        (
            OLD,
            None,
            None,
            f"the release ({AFTER}) carries no {crane.REVISION} label, so its commit is unknown",
        ),
        (
            None,
            None,
            None,
            f"{TARGET} ({BEFORE}) carries no {crane.REVISION} label, so its commit is unknown",
        ),
        (
            OLD,
            NEW,
            Ancestry.UNKNOWN,
            f"commit {OLD} that {TARGET} holds (or {NEW}) is not in "
            "this checkout, a shallow clone: fetch the history (git fetch --unshallow; "
            "actions/checkout with fetch-depth: 0) and promote again",
        ),
        (
            OLD,
            NEW,
            Ancestry.NOT_ANCESTOR,
            f"{NEW} does not descend from {OLD}, the commit {TARGET} holds",
        ),
        (OLD, NEW, None, f"{NEW} does not descend from {OLD}, the commit {TARGET} holds"),
    ],
)
def test_a_refused_move_says_which_image_lacks_what_or_how_to_fetch_history(
    old: str | None, new: str | None, relation: Ancestry | None, reason: str
) -> None:
    with pytest.raises(CheckFailedError) as refused:
        judge(
            TARGET,
            before=BEFORE,
            after=AFTER,
            old_commit=old,
            new_commit=new,
            relation=relation,
            allow_rollback=False,
        )
    assert str(refused.value) == (
        f"refusing to move {TARGET} backwards: {reason}; --allow-rollback moves it anyway"
    )
