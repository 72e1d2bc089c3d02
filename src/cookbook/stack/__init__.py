"""The real stack without Docker: a Prefect server, a process worker and Airflow's components on 127.0.0.1.

`cookbook stack up|down|status` (and `make stack`, `make stack-down`, `make stack-status`) run what `compose.yml`
describes, as plain processes of the two engine venvs, each with a pid file and a log under one run directory.
"""
