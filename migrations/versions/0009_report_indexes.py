"""Reports: an outcome's component kept on the outcome, and the indexes behind each report

Revision ID: 0009
Revises: 0006, 0007
Create Date: 2026-11-22 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: tuple[str, ...] = ("0006", "0007")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every way a row reaches `outcomes` (the workflow's activity, legacy loads, COPY) gets the
# element's component from the database itself; elements are never edited.
COMPONENT_FROM_ELEMENT = """
CREATE FUNCTION outcomes_component_from_element() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.component := (SELECT component FROM elements WHERE id = NEW.element_id);
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column("outcomes", sa.Column("component", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE outcomes o SET component = e.component FROM elements e WHERE e.id = o.element_id"
    )
    op.execute(COMPONENT_FROM_ELEMENT)
    op.execute(
        "CREATE TRIGGER outcomes_component BEFORE INSERT OR UPDATE OF element_id ON outcomes "
        "FOR EACH ROW EXECUTE FUNCTION outcomes_component_from_element()"
    )
    # pass-fail, first-time-pass, outcome-releases: a range of release instants, read
    # without visiting the table.
    op.create_index(
        "ix_outcomes_released",
        "outcomes",
        ["released_at", "id"],
        postgresql_include=[
            "kind",
            "grade",
            "release_method",
            "candidate_id",
            "element_id",
            "submitted_at",
            "component",
        ],
        postgresql_where=sa.text("released_at IS NOT NULL"),
    )
    op.create_index(
        "ix_outcomes_release_method",
        "outcomes",
        ["release_method", "released_at", "id"],
        postgresql_where=sa.text("released_at IS NOT NULL"),
    )
    # first-time-pass: "is there an earlier non-void attempt at the same component?"
    op.create_index(
        "ix_outcomes_attempts",
        "outcomes",
        ["candidate_id", "kind", sa.text("coalesce(component, '')"), "submitted_at", "id"],
        postgresql_include=["component"],
        postgresql_where=sa.text("grade <> 'VOID'"),
    )
    # result-tracking (and the outcome lists): newest submissions of a kind first.
    op.create_index("ix_outcomes_submitted", "outcomes", ["kind", "submitted_at", "id"])
    op.create_index("ix_sla_instances_started", "sla_instances", ["started_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sla_instances_started", table_name="sla_instances")
    op.drop_index("ix_outcomes_submitted", table_name="outcomes")
    op.drop_index("ix_outcomes_attempts", table_name="outcomes")
    op.drop_index("ix_outcomes_release_method", table_name="outcomes")
    op.drop_index("ix_outcomes_released", table_name="outcomes")
    op.execute("DROP TRIGGER outcomes_component ON outcomes")
    op.execute("DROP FUNCTION outcomes_component_from_element()")
    op.drop_column("outcomes", "component")
