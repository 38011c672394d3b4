"""Users: roles and the review grants that drive assignments."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.common import json_field, time_field


class User(SQLModel, table=True):
    """A person the service knows by their token's `sub`."""

    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=500)
    roles: list[str] = json_field(default=list)
    review_grants: list[dict[str, object]] = json_field(default=list)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()
