"""Shared shape of every payload that crosses Temporal."""

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """Frozen pydantic model: ids and values, never table objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")
