"""The next run times of a DAG, as Airflow's scheduler computes them, without waiting for the clock.

The DAG goes through the same serialization round trip as in the dag-processor, then its timetable is asked for
one run after another (`next_dagrun_info_v2`, the scheduler's own question) within the DAG's start and end dates.
"""

from __future__ import annotations

from typing import Any

from cookbook.recipe import SchedulePreview
from cookbook.workers.common import utc


def preview(dag: Any, spec: SchedulePreview) -> list[dict[str, Any]]:
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    scheduled = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    own = scheduled._time_restriction
    earliest = max(own.earliest, spec.after) if own.earliest else spec.after
    # catchup=True: preview from `after`, not from the machine's clock (catchup=False would clamp to now).
    restriction = TimeRestriction(earliest=earliest, latest=own.latest, catchup=True)
    runs: list[dict[str, Any]] = []
    info = None
    while len(runs) < spec.count:
        info = scheduled.timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)
        if info is None:  # past the end_date, or a timetable with no next run
            break
        interval = info.data_interval
        runs.append(
            {
                "run_at": utc(info.run_after),
                "logical_date": utc(info.logical_date) if info.logical_date else None,
                "data_interval": [utc(interval.start), utc(interval.end)] if interval else None,
            }
        )
    return runs
