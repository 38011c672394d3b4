#!/bin/sh
# First start of the postgres container only (docker-entrypoint-initdb.d): one role per
# client, each with its own password from a mounted secret. `temporal` may create its two
# databases (deploy/temporal/setup-schema.sh); `casework` owns the application database.
set -eu
secrets="${SECRETS_DIR:-/run/secrets}"
temporal_pw="$(cat "$secrets/temporal_db_password")"
casework_pw="$(cat "$secrets/casework_db_password")"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_pw="$temporal_pw" -v casework_pw="$casework_pw" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_pw';
CREATE ROLE casework LOGIN PASSWORD :'casework_pw';
CREATE DATABASE casework OWNER casework;
SQL
