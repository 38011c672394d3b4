"""Templates: publish a new version, read the latest or a given one."""

from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, select

from domain.errors import NotFound
from models.event import Change
from models.template import (
    Template,
    TemplateCreate,
    TemplatePublic,
    TemplateVersionRef,
    definition_of,
    get_version,
)


def publish(
    session: Session, body: TemplateCreate, *, actor: str, at: datetime
) -> TemplateVersionRef:
    """Write the next version of `body.code` (versions are never edited)."""
    definition = body.model_dump(mode="json", exclude={"code", "name"})
    with session.begin():
        # Serialise publishers of one code so two POSTs never claim the same version.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:code))"), {"code": body.code})
        latest = session.exec(
            select(func.max(Template.version)).where(Template.code == body.code)
        ).one()
        version = (latest or 0) + 1
        session.add(
            Template(
                code=body.code,
                version=version,
                name=body.name,
                definition=definition,
                published_at=at,
                published_by=actor,
            )
        )
        change = Change(
            "template", body.code, "published", actor, at, f"template:{body.code}:{version}"
        )
        change.audit(session, {"version": version})
    return TemplateVersionRef(code=body.code, version=version)


def get(session: Session, code: str, version: int | None = None) -> TemplatePublic:
    """The latest (or the given) version; 404 when absent."""
    template = get_version(session, code, version)
    if template is None:
        which = f"version {version} of template {code}" if version else f"template {code}"
        raise NotFound(f"{which} does not exist")
    return TemplatePublic(
        **definition_of(template).model_dump(),
        code=template.code,
        version=template.version,
        published_at=template.published_at,
        published_by=template.published_by,
    )
