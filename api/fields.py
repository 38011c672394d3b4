"""Passing a row's fields on to a model that names them the same way."""

from typing import Any


def same_named(source: object, *names: str) -> dict[str, Any]:
    """`source`'s attributes `names`, keyed by those names (for `Model(**same_named(...))`).

    The receiving model validates them (pydantic) or declares them (a dataclass), so a name
    it does not take is an error at once, as a misspelt keyword would be.
    """
    return {name: getattr(source, name) for name in names}
