"""SLA business calendars (versioned); definitions and instances name one

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0007"  # sla_definitions, sla_instances

# Working-time arithmetic in SQL, the same algorithm as domain/calendar.py (and tested
# against it): cut [a, b) where the zone's UTC offset changes (found by bisection to the
# second), then intersect each piece with its local days' ranges, holidays left out.
FUNCTIONS = [
    """
CREATE FUNCTION sla_utc_offset(tz text, t timestamptz) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (t AT TIME ZONE tz) - (t AT TIME ZONE 'UTC')
$$""",
    """
CREATE FUNCTION sla_piece_seconds(
  week jsonb, holidays jsonb, lo timestamptz, hi timestamptz, off interval
) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(sum(greatest(0, extract(epoch FROM
           least(hi, m.midnight + (r.value ->> 1)::interval)
           - greatest(lo, m.midnight + (r.value ->> 0)::interval)))), 0)
  FROM generate_series(((lo AT TIME ZONE 'UTC') + off)::date::timestamp,
                       ((hi AT TIME ZONE 'UTC') + off)::date::timestamp,
                       interval '1 day') AS d(day)
  CROSS JOIN LATERAL (SELECT (d.day - off) AT TIME ZONE 'UTC' AS midnight) AS m
  CROSS JOIN LATERAL jsonb_array_elements(coalesce(week -> (ARRAY[
      'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[extract(isodow FROM d.day)::int],
      '[]'::jsonb)) AS r(value)
  WHERE NOT holidays ? to_char(d.day, 'YYYY-MM-DD')
$$""",
    """
CREATE FUNCTION sla_working_seconds(
  tz text, week jsonb, holidays jsonb, a timestamptz, b timestamptz
) RETURNS numeric LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  total numeric := 0;
  lo timestamptz := a;
  probe timestamptz := a;
  nxt timestamptz;
  off interval := sla_utc_offset(tz, a);
  target interval;
  low bigint;
  high bigint;
  mid bigint;
  change timestamptz;
BEGIN
  IF b <= a THEN
    RETURN 0;
  END IF;
  WHILE probe < b LOOP
    nxt := least(probe + interval '6 hours', b);
    target := sla_utc_offset(tz, nxt);
    IF target <> off THEN
      low := floor(extract(epoch FROM probe));
      high := ceil(extract(epoch FROM nxt));
      WHILE high - low > 1 LOOP
        mid := (low + high) / 2;
        IF sla_utc_offset(tz, to_timestamp(mid)) = target THEN
          high := mid;
        ELSE
          low := mid;
        END IF;
      END LOOP;
      change := greatest(to_timestamp(high), probe);
      total := total + sla_piece_seconds(week, holidays, lo, change, off);
      lo := change;
      off := sla_utc_offset(tz, change);
    END IF;
    probe := nxt;
  END LOOP;
  IF lo < b THEN
    total := total + sla_piece_seconds(week, holidays, lo, b, off);
  END IF;
  RETURN total;
END
$$""",
    """
CREATE FUNCTION sla_working_time(instance text, upto timestamptz, counting text)
RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(sum(sla_working_seconds(c.timezone, c.working_hours, c.holidays,
                                          s.at, coalesce(s.next_at, upto))), 0)::double precision
  FROM sla_instances AS i
  JOIN sla_calendars AS c ON c.code = i.calendar AND c.version = i.calendar_version
  CROSS JOIN LATERAL (
    SELECT l.kind, l.at, lead(l.at) OVER (ORDER BY l.seq) AS next_at
    FROM sla_log AS l WHERE l.instance_id = i.id
  ) AS s
  WHERE i.id = instance
    AND s.kind = ANY (CASE counting WHEN 'running' THEN ARRAY['START', 'RESUME']
                                    ELSE ARRAY['PAUSE'] END)
$$""",
]
DROPPED = [
    "sla_working_time(text, timestamptz, text)",
    "sla_working_seconds(text, jsonb, jsonb, timestamptz, timestamptz)",
    "sla_piece_seconds(jsonb, jsonb, timestamptz, timestamptz, interval)",
    "sla_utc_offset(text, timestamptz)",
]


def upgrade() -> None:
    op.create_table(
        "sla_calendars",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("working_hours", postgresql.JSONB(), nullable=False),
        sa.Column("holidays", postgresql.JSONB(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", "version"),
    )
    op.add_column("sla_definitions", sa.Column("calendar", sa.String(64), nullable=True))
    op.add_column("sla_instances", sa.Column("calendar", sa.String(64), nullable=True))
    op.add_column("sla_instances", sa.Column("calendar_version", sa.Integer(), nullable=True))
    for function in FUNCTIONS:
        op.execute(function)


def downgrade() -> None:
    for function in DROPPED:
        op.execute(f"DROP FUNCTION {function}")
    op.drop_column("sla_instances", "calendar_version")
    op.drop_column("sla_instances", "calendar")
    op.drop_column("sla_definitions", "calendar")
    op.drop_table("sla_calendars")
