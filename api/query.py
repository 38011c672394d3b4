"""Query parameters declared once: by the fields of the dataclass that receives them."""

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, get_type_hints

from fastapi import Query


def query_values(
    model: type[Any], names: Sequence[str], aliases: Mapping[str, str] | None = None
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A dependency reading the query parameters `names` (or their `aliases`), each typed
    and defaulted as `model`'s field of that name, into a dict by field name."""
    hints = get_type_hints(model, include_extras=True)
    fields = {field.name: field for field in dataclasses.fields(model)}
    aliases = aliases or {}

    async def dependency(**values: Any) -> dict[str, Any]:  # no thread-pool hop
        return values

    def parameter(name: str) -> inspect.Parameter:
        hint = hints[name]
        if name in aliases:
            hint = Annotated[hint, Query(alias=aliases[name])]
        keyword = inspect.Parameter.KEYWORD_ONLY
        return inspect.Parameter(name, keyword, default=fields[name].default, annotation=hint)

    signature = inspect.Signature([parameter(name) for name in names])
    dependency.__signature__ = signature  # type: ignore[attr-defined]
    return dependency
