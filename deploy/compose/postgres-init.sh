#!/bin/sh
# First start of the postgresql service only (docker-entrypoint-initdb.d): one login and
# database for the orchestrator, another login owning Temporal's two databases. The
# superuser password is used for nothing else.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v orch_password="$ORCH_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE orch LOGIN PASSWORD :'orch_password';
CREATE DATABASE orch OWNER orch;
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
