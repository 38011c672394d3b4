"""Users: roles and the review grants that drive assignments."""

from datetime import datetime

import pydantic
from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from domain.access import Role
from domain.template import MAX_PARTS
from domain.values import Code, Title, UserId
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


MAX_GRANTS = 1000


class ReviewGrant(BaseModel):
    """Who may review which template, stage and level (`sections` None = all)."""

    model_config = ConfigDict(extra="forbid")

    template_code: Code
    stage: Code
    level: int = pydantic.Field(ge=1, le=9)
    sections: list[Code] | None = pydantic.Field(default=None, max_length=MAX_PARTS)


class UserCreate(BaseModel):
    """Body of POST /v1/users."""

    model_config = ConfigDict(extra="forbid")

    id: UserId
    name: Title
    roles: list[Role] = pydantic.Field(default_factory=list)
    review_grants: list[ReviewGrant] = pydantic.Field(default_factory=list, max_length=MAX_GRANTS)


class UserUpdate(BaseModel):
    """Body of PATCH /v1/users/{id}: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: Title | None = None
    roles: list[Role] | None = None
    review_grants: list[ReviewGrant] | None = pydantic.Field(default=None, max_length=MAX_GRANTS)


class UserPublic(BaseModel):
    """A user as the API shows it."""

    id: str
    name: str
    roles: list[Role]
    review_grants: list[ReviewGrant]
    created_at: datetime
    updated_at: datetime
