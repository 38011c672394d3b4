"""Cursor pagination: `?limit=&cursor=` in, `{items, next_cursor}` out."""

import base64
import json
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from domain.errors import Invalid, field_error

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(at: datetime, id: str) -> str:
    """An opaque cursor after the row (`at`, `id`)."""
    raw = json.dumps([at.isoformat(), id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (`at`, `id`) a cursor points after; 422 when it was not made here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(at), str(id)
    except (ValueError, TypeError) as exc:
        raise Invalid("the cursor is not valid", errors=[field_error("cursor", str(exc))]) from exc
