-- Airflow's metadata DB next to Prefect's (POSTGRES_DB creates `prefect`).
CREATE DATABASE airflow;
