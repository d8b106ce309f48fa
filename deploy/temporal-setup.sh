#!/bin/sh
# Create or upgrade Temporal's PostgreSQL schemas (the main store and SQL visibility), run by the
# temporal-schema service in temporalio/admin-tools (docker-compose.yml) at every start, so a newer
# server image's schema changes are applied before the server starts (docs/operations.md, Upgrading
# Temporal). Checked against temporalio/temporal tools/common/schema and schema/postgresql/v12, not run:
#   setup-schema -v 0.0  creates the version tables and records 0.0 only where no schema is recorded
#                        yet; on a set-up database it changes nothing (setuptask.go skips it);
#   update-schema -d     applies, in order, every versioned directory above the recorded version.
# The databases themselves are made by deploy/postgres-init.sql on PostgreSQL's first start.
# TLS to PostgreSQL (verify the server's certificate and name) unless PDW_DB_TLS=false.
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
TLS=""
if [ "${PDW_DB_TLS:-true}" = true ]; then
  TLS="--tls --tls-ca-file /certs/ca.pem --tls-server-name postgresql"
fi
for db in temporal temporal_visibility; do
  dir=$SCHEMA/temporal/versioned
  [ "$db" = temporal_visibility ] && dir=$SCHEMA/visibility/versioned
  # shellcheck disable=SC2086  # $TLS is several flags or none
  temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PASSWORD" \
    $TLS --db "$db" setup-schema -v 0.0
  # shellcheck disable=SC2086
  temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PASSWORD" \
    $TLS --db "$db" update-schema -d "$dir"
done
echo "Temporal schemas set up and upgraded"
