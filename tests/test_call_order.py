"""How the Prefect side numbers repeated task runs (`task[i]`): in the order the flow made the calls, at any depth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from cookbook.workers.prefect_worker import _outcomes_by_name
from cookbook.workers.submissions import SUBMISSIONS, Submissions

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def run(name: str, flow_run: UUID, created_s: float, parents: list[UUID] | None = None) -> Any:
    return SimpleNamespace(
        id=uuid4(),
        name=f"{name}-abc",
        task_key=f"{name}-0",
        flow_run_id=flow_run,
        created=T0 + timedelta(seconds=created_s),
        task_inputs={"__parents__": [SimpleNamespace(id=p) for p in parents or []]},
        state_type=SimpleNamespace(value="COMPLETED"),
        state_name="Completed",
        state=None,
        run_count=1,
        start_time=None,
        end_time=None,
    )


def test_a_child_runs_tasks_take_the_position_of_the_call_that_started_it() -> None:
    """A backfill: run_day[i] starts deployment run i, whose `write` task is `write[i]`, whatever order the child
    processes got to create their task runs in (here the second child's task run is created first)."""
    root = uuid4()
    days = [run("run_day", root, 0.0), run("run_day", root, 0.1)]
    for order, day in enumerate(days):
        SUBMISSIONS.order[day.id] = 10_000 + order  # as the served process's journal records them
    stand_ins = [run("child", root, 1.0 + i, parents=[day.id]) for i, day in enumerate(days)]
    children = [SimpleNamespace(id=uuid4(), parent_task_run_id=s.id) for s in stand_ins]
    writes = [run("write", children[0].id, 5.0), run("write", children[1].id, 2.0)]
    for n, write in enumerate(writes):
        write.start_time = T0 + timedelta(hours=n)  # tells the two apart in the report
    outcomes = _outcomes_by_name([*days, *stand_ins, *writes], children, {}, {})
    assert sorted(outcomes) == ["run_day[0]", "run_day[1]", "write[0]", "write[1]"]  # no stand-in reported
    assert outcomes["write[0]"].started_at == writes[0].start_time  # the first child's, though created later
    assert outcomes["write[1]"].started_at == writes[1].start_time


def test_served_processes_journal_their_submissions_for_the_worker(tmp_path: Any) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    ids = [uuid4(), uuid4(), uuid4()]
    flow_run, other = uuid4(), uuid4()
    lines = f"{ids[0]} 0 1 {flow_run}\n{ids[1]} 1 1 {other}\n{ids[2]} 2 0"
    (journal / "4242.log").write_text(lines, encoding="utf-8")
    recorded = Submissions()
    recorded.read_journals(journal)
    assert recorded.order == {ids[0]: 0, ids[1]: 1}  # the line cut short is left out
    assert recorded.mapped == set(ids[:2])
    with (journal / "4242.log").open("a", encoding="utf-8") as handle:
        handle.write(f" {flow_run}\n")  # the process finishes the line
    recorded.read_journals(journal)
    assert recorded.order == {ids[0]: 0, ids[1]: 1, ids[2]: 2}
    assert recorded.mapped == set(ids[:2])
    # What the worker waits to see on the server before it reads a flow run's task runs back.
    assert recorded.submitted_by({flow_run}) == {ids[0], ids[2]}
    assert recorded.submitted_by({flow_run, other}) == set(ids)
