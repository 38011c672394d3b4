"""Refusals a rule can give; each maps to one HTTP status."""

from typing import ClassVar


class Refusal(Exception):
    """A rule said no; `detail` is the reason a user reads."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Refused"

    def __init__(
        self,
        detail: str,
        *,
        allowed: list[str] | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.allowed = allowed
        self.errors = errors

    @property
    def kind(self) -> str:
        """The stable name carried across Temporal (ApplicationError.type)."""
        return type(self).__name__


class Conflict(Refusal):
    """An illegal transition or a lost race (HTTP 409)."""

    status = 409
    title = "Conflict"


class Invalid(Refusal):
    """Bad input (HTTP 422)."""

    status = 422
    title = "Unprocessable content"


class Forbidden(Refusal):
    """The caller's roles do not allow this (HTTP 403)."""

    status = 403
    title = "Forbidden"


class NotFound(Refusal):
    """Absent, or not the caller's to see (HTTP 404)."""

    status = 404
    title = "Not found"


REFUSALS: dict[str, type[Refusal]] = {
    cls.__name__: cls for cls in (Conflict, Forbidden, Invalid, NotFound)
}


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of a problem's `errors` list."""
    return {"field": field, "message": message}
