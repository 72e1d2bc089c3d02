"""The next run times of a DAG, as Airflow's scheduler computes them, without waiting for the clock.

The DAG goes through the same serialization round trip as in the dag-processor, then its timetable is asked for
one run after another (`next_dagrun_info_v2`, the scheduler's own question) within the DAG's start and end dates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cookbook.recipe import SchedulePreview
from cookbook.workers.common import utc

MAX_LOOKBACK = timedelta(days=1000)


def preview(dag: Any, spec: SchedulePreview) -> list[dict[str, Any]]:
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction
    from pendulum import instance

    scheduled = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    own = scheduled._time_restriction
    # The scheduler hands timetables pendulum datetimes; an hourly cron calls `.in_timezone()` on them.
    after = instance(spec.after)
    # Runs *due* at or after `after`: a data-interval run is due at its interval's end, so its interval (which the
    # restriction bounds) may start before `after`. Walk from further back, doubling, until the walk begins with a
    # run due before `after` or reaches the start_date.
    lookback = timedelta(days=1)
    while True:
        earliest = after - lookback
        bounded = own.earliest is not None and earliest <= own.earliest
        if bounded:
            earliest = own.earliest
        # catchup=True: walk from `earliest`, not from the machine's clock (catchup=False would clamp to now).
        restriction = TimeRestriction(earliest=earliest, latest=own.latest, catchup=True)
        first, due = _walk(scheduled.timetable, restriction, after, spec.count)
        # A timetable with no run before `after` (events all in the future, say) would double forever.
        if bounded or first is None or first.run_after < after or lookback > MAX_LOOKBACK:
            break
        lookback *= 2
    return [
        {
            "run_at": utc(info.run_after),
            "logical_date": utc(info.logical_date) if info.logical_date else None,
            "data_interval": [utc(info.data_interval.start), utc(info.data_interval.end)]
            if info.data_interval
            else None,
        }
        for info in due
    ]


def _walk(timetable: Any, restriction: Any, after: Any, count: int) -> tuple[Any, list[Any]]:
    """The first run of the walk, and the first `count` runs due at or after `after`."""
    first, due, info = None, [], None
    while len(due) < count:
        info = timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)
        if info is None:  # past the end_date, or a timetable with no next run
            break
        first = first or info
        if info.run_after >= after:
            due.append(info)
    return first, due
