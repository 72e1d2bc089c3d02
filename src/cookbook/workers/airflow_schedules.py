"""The next run times of a DAG, as Airflow's scheduler plans them, without waiting for the clock.

The DAG goes through the same serialization round trip as in the dag-processor. Then, with the clock set to the
preview's moment (time-machine: every clock the timetables read), the serialized DAG is asked what the scheduler asks
it after each run it creates: `next_dagrun_info(last_automated_run_info=...)`, restricted by the DAG's own start
date, end date and catchup. So `catchup=False` is honoured as the scheduler honours it: the plan starts at the latest
interval before the clock, not at the start date.
"""

from __future__ import annotations

from typing import Any

from cookbook.recipe import SchedulePreview
from cookbook.workers.common import utc

# A bound on the scheduler's questions: a catchup=True DAG with an early start_date and a short interval walks every
# interval from its start; a timetable that keeps answering before the preview's moment must still end.
MAX_RUNS = 200_000


def preview(dag: Any, spec: SchedulePreview) -> list[dict[str, Any]]:
    """The first `spec.count` runs Airflow would create that are due at or after `spec.after`.

    With catchup=False the scheduler's first run, at `spec.after`, is for the latest interval that ended before it
    (run at once, late); it is not due at or after `spec.after`, so it is not listed, and the page says so.
    """
    import time_machine
    from airflow.serialization.serialized_objects import DagSerialization

    scheduled = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    due: list[Any] = []
    with time_machine.travel(spec.after, tick=False):
        info = None
        for _ in range(MAX_RUNS):
            info = scheduled.next_dagrun_info(last_automated_run_info=info, restricted=True)
            if info is None:  # past the end_date, or a timetable with no next run
                break
            if info.run_after >= spec.after:
                due.append(info)
                if len(due) == spec.count:
                    break
    return [
        {
            "run_at": utc(run.run_after),
            "logical_date": utc(run.logical_date) if run.logical_date else None,
            "data_interval": [utc(run.data_interval.start), utc(run.data_interval.end)] if run.data_interval else None,
        }
        for run in due
    ]
