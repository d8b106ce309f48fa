#!/bin/sh
# Create or upgrade Temporal's PostgreSQL schemas (main and SQL visibility), run in temporalio/admin-tools.
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=$SCHEMA/temporal/versioned
  [ "$db" = temporal_visibility ] && dir=$SCHEMA/visibility/versioned
  temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PASSWORD" \
    --db "$db" setup-schema -v 0.0 || true
  temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PASSWORD" \
    --db "$db" update-schema -d "$dir"
done
