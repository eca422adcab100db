#!/bin/bash
# One PostgreSQL server, two databases: Airflow's metadata and survivor-link's store.
# Runs once, when the postgres volume is first created (the image's docker-entrypoint-initdb.d);
# tests/test_deploy.py runs it against the test server with other names.
#
# The store's tables belong to survivor_link_owner (migrations run as it, in airflow-init);
# the tasks connect as survivor_link, which may read and write rows and use sequences, and
# may not create, alter or drop anything. Airflow's superuser owns neither.
set -euo pipefail
db="${SURVIVOR_LINK_DB_NAME:-survivor_link}"
owner="${SURVIVOR_LINK_OWNER_ROLE:-survivor_link_owner}"
app="${SURVIVOR_LINK_APP_ROLE:-survivor_link}"
run() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" -v db="$db" -v owner="$owner" -v app="$app" \
  -v owner_pw="$SURVIVOR_LINK_OWNER_PASSWORD" -v app_pw="$SURVIVOR_LINK_DB_PASSWORD" "$@"; }
run --dbname postgres <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_pw';
CREATE ROLE :"app" LOGIN PASSWORD :'app_pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";
SQL
run --dbname "$db" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app";
SQL
