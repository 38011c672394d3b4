#!/bin/sh
# One-shot (temporalio/admin-tools): create Temporal's two databases on PostgreSQL and
# bring their schemas to the version this admin-tools image ships. Safe to run again: a
# database that exists keeps its schema version, and `update-schema` applies only what is
# missing. The password comes from the mounted secret, never from an environment file.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}"
SQL_PASSWORD="$(cat /run/secrets/temporal_db_password)"
export SQL_PASSWORD
SCHEMA=/etc/temporal/schema/postgresql/v12
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "${DB_PORT:-5432}" "$@"; }
for db in temporal:temporal temporal_visibility:visibility; do
  name="${db%%:*}"; dir="${db##*:}"
  if tool --db "$name" create; then   # fails when it exists (a second run)
    tool --db "$name" setup-schema -v 0.0
  fi
  tool --db "$name" update-schema -d "$SCHEMA/$dir/versioned"
done
echo "temporal schemas ready"
