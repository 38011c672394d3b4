"""Templates: admins publish versions; internal roles read them."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.deps import SessionDep, allow
from api.services import template as templates
from domain.access import Principal, can_manage_users, can_read_templates
from domain.values import Code, Version
from models.template import TemplateCreate, TemplatePublic, TemplateVersionRef

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Admin = Annotated[Principal, Depends(allow(can_manage_users, "publish templates"))]
Reader = Annotated[Principal, Depends(allow(can_read_templates, "read templates"))]


@router.post("", status_code=status.HTTP_201_CREATED)
def publish_template(
    body: TemplateCreate, session: SessionDep, caller: Admin
) -> TemplateVersionRef:
    """Publish a template: the same code again makes the next version."""
    return templates.publish(session, body, actor=caller.sub, at=datetime.now(UTC))


@router.get("/{code}")
def get_template(code: Code, session: SessionDep, caller: Reader) -> TemplatePublic:
    """The latest version of a template."""
    return templates.get(session, code)


@router.get("/{code}/versions/{version}")
def get_template_version(
    code: Code, version: Version, session: SessionDep, caller: Reader
) -> TemplatePublic:
    """One version of a template."""
    return templates.get(session, code, version)
