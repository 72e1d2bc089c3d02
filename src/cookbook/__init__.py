"""Parity harness for the Airflow-to-Prefect migration cookbook."""
