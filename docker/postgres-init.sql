-- Airflow's metadata DB next to Prefect's (POSTGRES_DB creates `prefect`).
CREATE DATABASE airflow;
-- The integration recipes' warehouse (sql_etl, warehouse_pool): their connection and block point here.
CREATE DATABASE warehouse;
