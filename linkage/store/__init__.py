"""The project's own store (separate from Airflow's metadata database)."""
