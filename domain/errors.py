"""Refusals a rule can give; each maps to one HTTP status."""

from typing import Any, ClassVar


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

    def __init_subclass__(cls, *, status: int, title: str, **kwargs: Any) -> None:
        """Each kind of refusal is declared by its HTTP status and problem title."""
        super().__init_subclass__(**kwargs)
        cls.status = status
        cls.title = title

    @property
    def kind(self) -> str:
        """The stable name carried across Temporal (ApplicationError.type)."""
        return type(self).__name__


class Conflict(Refusal, status=409, title="Conflict"):
    """An illegal transition or a lost race (HTTP 409)."""


class Invalid(Refusal, status=422, title="Unprocessable content"):
    """Bad input (HTTP 422)."""


class Forbidden(Refusal, status=403, title="Forbidden"):
    """The caller's roles do not allow this (HTTP 403)."""


class NotFound(Refusal, status=404, title="Not found"):
    """Absent, or not the caller's to see (HTTP 404)."""


REFUSALS: dict[str, type[Refusal]] = {
    cls.__name__: cls for cls in (Conflict, Forbidden, Invalid, NotFound)
}


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of a problem's `errors` list."""
    return {"field": field, "message": message}
