#!/bin/sh
# Creates or upgrades Temporal's schemas (idempotent): what the auto-setup image does at
# every start, as a separate step, with Temporal's own database login.
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=$SCHEMA/$([ "$db" = temporal ] && echo temporal || echo visibility)/versioned
  sql="temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u temporal --db $db"
  SQL_PASSWORD="$TEMPORAL_DB_PASSWORD" $sql setup-schema -v 0.0
  SQL_PASSWORD="$TEMPORAL_DB_PASSWORD" $sql update-schema -d "$dir"
done
