#!/bin/sh
# First start of the postgresql service only (docker-entrypoint-initdb.d): one login and
# database for the orchestrator, another login owning Temporal's two databases, and
# neither able to connect to the other's. The superuser password is used for nothing else.
# Names are fixed in docker-compose.yml; the variables let a test run this very script.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v orch_role="${ORCH_DB_USER:-orch}" -v orch_db="${ORCH_DB_NAME:-orch}" \
  -v orch_password="$ORCH_DB_PASSWORD" \
  -v temporal_role="${TEMPORAL_DB_USER:-temporal}" -v temporal_password="$TEMPORAL_DB_PASSWORD" \
  -v temporal_db="${TEMPORAL_DB_NAME:-temporal}" \
  -v visibility_db="${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}" <<'SQL'
CREATE ROLE :"orch_role" LOGIN PASSWORD :'orch_password';
CREATE DATABASE :"orch_db" OWNER :"orch_role";
REVOKE CONNECT, TEMPORARY ON DATABASE :"orch_db" FROM PUBLIC;
CREATE ROLE :"temporal_role" LOGIN PASSWORD :'temporal_password';
CREATE DATABASE :"temporal_db" OWNER :"temporal_role";
CREATE DATABASE :"visibility_db" OWNER :"temporal_role";
REVOKE CONNECT, TEMPORARY ON DATABASE :"temporal_db" FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE :"visibility_db" FROM PUBLIC;
SQL
