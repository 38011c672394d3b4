"""Operator cancels (a Temporal cancellation request): who asked, and what is recorded."""

import re

CANCELLED_BY_OPERATOR = "CANCELLED_BY_OPERATOR"
UNKNOWN_OPERATOR = "operator"
ACTOR_MAX = 128
NOTE_MAX = 500

# PostgreSQL text cannot hold NUL, UTF-8 cannot hold lone surrogates; controls are noise.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def operator_of(identity: str | None) -> str:
    """The actor to record for a cancel requested by `identity` (Temporal UI or CLI user)."""
    cleaned = _UNSTORABLE.sub("", identity or "").strip()
    return cleaned[:ACTOR_MAX] or UNKNOWN_OPERATOR


def note_of(reason: str | None) -> str | None:
    """The operator's own words sent with the cancel (`--reason`), if any, storable."""
    cleaned = _UNSTORABLE.sub(" ", reason or "").strip()
    return cleaned[:NOTE_MAX] or None
