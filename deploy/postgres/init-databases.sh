#!/bin/sh
# Run once by the postgres image on an EMPTY data directory (/docker-entrypoint-initdb.d):
# one role and one database for RotaGuard, another pair for the Prefect server.
#
# - rotaguard: owns the rotaguard database; CREATEDB because every backup is verified by a
#   trial restore into a throwaway database (created and dropped by the backup engine).
# - prefect: owns the prefect database. Prefect's migrations run CREATE EXTENSION pg_trgm;
#   it is created here as the superuser (pg_trgm is also a trusted extension, so the owner
#   could create it itself on PostgreSQL 13+).
#
# Neither is a superuser: the audit log's append-only triggers hold against the application.
# Passwords come from the environment (docker-compose.yml requires them) and reach SQL only
# as psql variables (:'name' quotes them), never pasted into the statements.
# Changing a password later: ALTER ROLE ... PASSWORD ...; this script never runs again.
set -e

: "${ROTAGUARD_DB_PASSWORD:?ROTAGUARD_DB_PASSWORD is required}"
: "${PREFECT_DB_PASSWORD:?PREFECT_DB_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    -v rotaguard_password="$ROTAGUARD_DB_PASSWORD" \
    -v prefect_password="$PREFECT_DB_PASSWORD" <<'SQL'
CREATE ROLE rotaguard LOGIN CREATEDB PASSWORD :'rotaguard_password';
CREATE DATABASE rotaguard OWNER rotaguard;
CREATE ROLE prefect LOGIN PASSWORD :'prefect_password';
CREATE DATABASE prefect OWNER prefect;
\connect prefect
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
