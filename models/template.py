"""Published template versions (immutable once written)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, Session, SQLModel, col, select

from domain.template import Code, TemplateDefinition
from models.common import json_field, time_field


class Template(SQLModel, table=True):
    """One published version of a template; a new POST makes the next version."""

    __tablename__ = "templates"

    code: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    name: str = Field(max_length=500)
    definition: dict[str, Any] = json_field()
    published_at: datetime = time_field()
    published_by: str = Field(max_length=128)


def get_version(session: Session, code: str, version: int | None = None) -> Template | None:
    """Version `version` of template `code`, or its latest when `version` is None."""
    query = select(Template).where(Template.code == code)
    if version is not None:
        query = query.where(Template.version == version)
    return session.exec(query.order_by(col(Template.version).desc()).limit(1)).first()


def definition_of(template: Template) -> TemplateDefinition:
    """The parsed definition of a stored version."""
    return TemplateDefinition.model_validate({"name": template.name, **template.definition})


class TemplateCreate(TemplateDefinition):
    """Body of POST /v1/templates: a definition under a code."""

    code: Code


class TemplatePublic(TemplateDefinition):
    """A published template version as the API shows it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str
    version: int
    published_at: datetime
    published_by: str


class TemplateVersionRef(BaseModel):
    """Answer to a publish: the code and the version it became."""

    code: str
    version: int
