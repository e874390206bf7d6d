#!/bin/sh
# Create Temporal's two PostgreSQL databases and bring their schemas to the version of this admin-tools image
# (the official way now that temporalio/auto-setup is deprecated). Safe to run on every `docker compose up`:
# `create` of an existing database is allowed to fail, setup-schema -v 0.0 only adds the version table when it
# is missing, and update-schema applies only the versions not yet applied.
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "${DB_PORT:-5432}" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  database=${pair%%:*}
  schema=${pair#*:}
  echo "schema of database '$database'..."
  sql_tool --db "$database" create || echo "database '$database' exists (or was not created: setup-schema will tell)"
  sql_tool --db "$database" setup-schema -v 0.0
  sql_tool --db "$database" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "Temporal schemas are up to date"
