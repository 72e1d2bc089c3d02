"""TriggerDagRunOperator in Prefect: run_deployment starts the child's deployment with parameters and waits for it.

The child is a deployment of its own (here both are served by one process: `python trigger_dag_run.py`), so it
runs in its own process, on whatever infrastructure its deployment names, and hands its result back through
result storage.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, serve, task
from prefect.deployments import run_deployment
from prefect.deployments.runner import RunnerDeployment

STORES = {"emea": [120.0, 80.5, 42.25], "apac": [300.0, 12.5]}
CHILD_DEPLOYMENT = "trigger-dag-run-child/on-demand"
CHILD_TIMEOUT_SECONDS = 60


# [START trigger_dag_run_child]
@task
def refresh_region(region: str) -> dict[str, Any]:
    if region not in STORES:
        raise ValueError(f"unknown region {region!r}")
    sales = STORES[region]
    return {"region": region, "stores": len(sales), "revenue": sum(sales)}


# persist_result: the parent reads this return value from another process, so it must be written to result
# storage (in production, storage both sides can reach: an S3/GCS/Azure block, not the local default).
@flow(name="trigger-dag-run-child", persist_result=True)
def trigger_dag_run_child(region: str = "emea") -> dict[str, Any]:
    """Refresh one region's sales figures: its number of stores and its revenue. Fails for an unknown region."""
    return refresh_region(region)


# [END trigger_dag_run_child]


# [START trigger_dag_run_parent]
@task
def trigger_child(region: str) -> dict[str, Any]:
    # Creates a flow run of the child's deployment and polls it until it ends or the timeout passes.
    # as_subflow=False: an independent run, as a triggered DAG run is (the default would nest it under this
    # task and cancel it with the parent).
    child_run = run_deployment(
        CHILD_DEPLOYMENT,
        parameters={"region": region},
        timeout=CHILD_TIMEOUT_SECONDS,
        poll_interval=1,
        as_subflow=False,
    )
    get_run_logger().info("child flow run %s (%s) ended %s", child_run.name, child_run.id, child_run.state_name)
    state = child_run.state
    if state is None or not state.is_final():
        # run_deployment does not raise on a timeout: it returns the run as it is (still Running, say).
        raise TimeoutError(f"{child_run.name} did not finish within {CHILD_TIMEOUT_SECONDS} s")
    if not state.is_completed():
        # The child's failure, with its message, becomes this task's failure (TriggerDagRun's failed_states).
        raise RuntimeError(f"child run {child_run.name} ended {state.name}: {state.message}")
    # The FlowRun carries a state, not a value: the value is read back from the child's result storage.
    return state.result()


@task
def report(summary: dict[str, Any]) -> dict[str, Any]:
    return {"child": summary, "revenue_per_store": round(summary["revenue"] / summary["stores"], 2)}


@flow(name="trigger-dag-run")
def trigger_dag_run(region: str = "emea") -> dict[str, Any]:
    """Start the child deployment for `region`, wait for it to finish and report its revenue per store.

    Fails if the child run fails, or has not finished within CHILD_TIMEOUT_SECONDS (60 s).
    """
    return report(trigger_child(region))


# [END trigger_dag_run_parent]


# [START trigger_dag_run_serve]
def deployments() -> list[RunnerDeployment]:
    return [
        trigger_dag_run_child.to_deployment(name="on-demand"),
        trigger_dag_run.to_deployment(name="main"),
    ]


if __name__ == "__main__":
    serve(*deployments())
# [END trigger_dag_run_serve]
