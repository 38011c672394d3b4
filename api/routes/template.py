"""Templates: admins publish versions; internal roles read them."""

from datetime import UTC, datetime

from fastapi import APIRouter, status

from api.deps import SessionDep
from api.roles import TemplatePublisher, TemplateReader
from api.routing import ReadRoute
from api.services import template as templates
from domain.values import Code, Version
from models.template import TemplateCreate, TemplatePublic, TemplateVersionRef

router = APIRouter(prefix="/v1/templates", tags=["templates"], route_class=ReadRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
def publish_template(
    body: TemplateCreate, session: SessionDep, caller: TemplatePublisher
) -> TemplateVersionRef:
    """Publish a template: the same code again makes the next version."""
    return templates.publish(session, body, actor=caller.sub, at=datetime.now(UTC))


@router.get("/{code}")
def get_template(code: Code, session: SessionDep, caller: TemplateReader) -> TemplatePublic:
    """The latest version of a template."""
    return templates.get(session, code)


@router.get("/{code}/versions/{version}")
def get_template_version(
    code: Code, version: Version, session: SessionDep, caller: TemplateReader
) -> TemplatePublic:
    """One version of a template."""
    return templates.get(session, code, version)
