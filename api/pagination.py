"""Cursor pagination: `?limit=&cursor=` in, `{items, next_cursor}` out."""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.orm import Mapped

from domain.errors import Invalid, field_error

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# A cursor made here is well under this; anything longer is refused before decoding.
MAX_CURSOR_CHARS = 1024
MAX_CURSOR_ID_CHARS = 200

T = TypeVar("T")
K = TypeVar("K", date, datetime)
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
# A column to page by: `col(Model.field)` or any SQL expression.
Column = ColumnElement[Any] | Mapped[Any]


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(at: date | datetime, id: str) -> str:
    """An opaque cursor after the row (`at`, `id`)."""
    raw = json.dumps([at.isoformat(), id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack(cursor: str) -> object:
    """The JSON a cursor carries; ValueError for anything that is not one of ours."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise ValueError("too long")
    if not cursor.isascii():
        raise ValueError("not URL-safe base64")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except binascii.Error as exc:
        raise ValueError("not URL-safe base64") from exc
    try:
        return json.loads(raw.decode())
    except RecursionError as exc:
        raise ValueError("not a cursor") from exc


def decode_key(
    cursor: str, parse: Callable[[str], K], *, field: str = "cursor", what: str = "the cursor"
) -> tuple[K, str]:
    """The (key, id) a cursor points after, the key read by `parse`; 422 naming `field`
    for anything this service did not make (bad base64, shape, instant or id)."""
    try:
        pair = unpack(cursor)
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError("not a cursor")
        first, id = pair
        if not isinstance(first, str) or not isinstance(id, str):
            raise ValueError("not a cursor")
        return _bounded(parse(first)), _clean_id(id)
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"{what} is not valid", errors=[field_error(field, str(exc))]) from exc


def decode_cursor(cursor: str, *, field: str = "cursor") -> tuple[datetime, str]:
    """The (`at`, `id`) a cursor points after; 422 naming `field` when it was not made here."""
    return decode_key(cursor, datetime.fromisoformat, field=field)


def newest_first(query: S, at: Column, id: Column, *, cursor: str | None, limit: int) -> S:
    """`query` after the cursor's (`at`, `id`), newest first, with one row beyond `limit`
    (there is a next page when it comes back)."""
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(tuple_(at, id) < tuple_(after_at, after_id))
    return query.order_by(at.desc(), id.desc()).limit(limit + 1)


def _bounded(key: K) -> K:
    """An instant must carry its zone and stay an instant PostgreSQL and Python can hold."""
    if isinstance(key, datetime):
        if key.tzinfo is None or key.utcoffset() is None:
            raise ValueError("the cursor's instant has no time zone")
        key.astimezone(UTC)  # OverflowError at the edges of the calendar
    return key


def _clean_id(id: str) -> str:
    if not id or len(id) > MAX_CURSOR_ID_CHARS or "\x00" in id:
        raise ValueError("the cursor's id is not valid")
    id.encode()  # a lone surrogate cannot be sent to the database
    return id


MAX_POSITION = 2**63 - 1  # a PostgreSQL bigint


def decode_position(cursor: str, *, field: str = "cursor") -> int:
    """The row position (an internal bigint key) a cursor points after; 422 otherwise."""
    _, id = decode_cursor(cursor, field=field)
    if not (id.isascii() and id.isdigit()) or int(id) > MAX_POSITION:
        raise Invalid("the cursor is not valid", errors=[field_error(field, "not a position")])
    return int(id)
