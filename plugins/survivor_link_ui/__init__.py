"""The survivor-link view inside Airflow: pages over linkage.officer, behind Airflow's own auth."""
