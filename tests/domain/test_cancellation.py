"""Who an operator's cancel is recorded as, and the note kept with it."""

import pytest

from domain.cancellation import ACTOR_MAX, NOTE_MAX, note_of, operator_of


@pytest.mark.parametrize(
    ("identity", "actor"),
    [
        ("ops-jane@casework", "ops-jane@casework"),
        ("  temporal-cli:jane@host  ", "temporal-cli:jane@host"),
        ("", "operator"),
        (None, "operator"),
        ("   ", "operator"),
        ("bad\x00name", "badname"),
        ("\ud800", "operator"),
        ("x" * (ACTOR_MAX + 10), "x" * ACTOR_MAX),
    ],
)
def test_the_actor_is_the_requesting_identity_or_operator(identity: str | None, actor: str) -> None:
    assert operator_of(identity) == actor


@pytest.mark.parametrize(
    ("reason", "note"),
    [
        ("duplicate case", "duplicate case"),
        ("", None),
        (None, None),
        ("  \n ", None),
        ("two\nlines", "two lines"),
        ("nul\x00here", "nul here"),
        ("y" * (NOTE_MAX + 1), "y" * NOTE_MAX),
    ],
)
def test_the_note_is_the_reason_text_made_storable(reason: str | None, note: str | None) -> None:
    assert note_of(reason) == note
