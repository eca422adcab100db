-- One PostgreSQL server, two databases: Airflow's metadata and survivor-link's store.
-- Runs once, when the postgres volume is first created.
CREATE DATABASE survivor_link OWNER airflow;
