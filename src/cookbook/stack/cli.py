"""`cookbook stack up|down|status|deploy|compare`: registered on the main parser by `add_stack_parser`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from cookbook.stack.config import StackConfig, StackError


def add_stack_parser(sub: Any) -> None:
    stack = sub.add_parser("stack", help="the real stack on 127.0.0.1: Prefect server + worker, Airflow components")
    verbs = stack.add_subparsers(required=True, metavar="ACTION")
    verbs.add_parser("up", help="start it (PostgreSQL when reachable, else SQLite)").set_defaults(func=_up)
    verbs.add_parser("down", help="stop exactly what `up` started and drop its databases").set_defaults(func=_down)
    verbs.add_parser("status", help="what runs, its pids, ports and logs").set_defaults(func=_status)
    deploy = verbs.add_parser("deploy", help="apply prefect.yaml to the running server (prefect deploy --all)")
    deploy.set_defaults(func=_deploy)
    comp = verbs.add_parser("compare", help="compare recipes through the running stack (deployment + REST)")
    comp.add_argument("recipes", nargs="*", metavar="RECIPE", help="recipe names (default: all)")
    comp.add_argument("--case", action="append", default=[], help="only this case (repeatable)")
    comp.set_defaults(func=_compare)


def _run(action: Any, console: Console) -> int:
    try:
        return action()
    except StackError as exc:
        Console(stderr=True, highlight=False).print(f"cookbook stack: {exc}", markup=False)
        return 2


def _up(args: argparse.Namespace, console: Console) -> int:
    from cookbook.stack.stack import up

    cfg = StackConfig.from_env()

    def action() -> int:
        with console.status("starting the stack…") as status:
            state = up(cfg, progress=lambda message: status.update(message))
        console.print(
            f"stack up in {state['up_seconds']} s ({state['backend']}): Prefect {cfg.prefect_api_url} · "
            f"Airflow {cfg.airflow_url} · logs in {cfg.log_dir}",
            markup=False,
        )
        return 0

    return _run(action, console)


def _down(args: argparse.Namespace, console: Console) -> int:
    from cookbook.stack.stack import down

    def action() -> int:
        stopped = down(StackConfig.from_env())
        console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running", markup=False)
        return 0

    return _run(action, console)


def _status(args: argparse.Namespace, console: Console) -> int:
    from cookbook.stack.stack import status

    cfg = StackConfig.from_env()
    rows = status(cfg)
    if not rows:
        console.print(f"the stack is not running (run dir: {cfg.run_dir})", markup=False)
        return 1
    table = Table(title=f"stack in {cfg.run_dir}", title_justify="left")
    for column in ("process", "pid", "state", "listening on", "log"):
        table.add_column(column)
    for row in rows:
        listening = ", ".join(f"{item.address}:{item.port}" for item in row.listening) or "-"
        table.add_row(row.name, str(row.pid), "running" if row.alive else "stopped", listening, str(row.log))
    console.print(table)
    return 0 if all(row.alive for row in rows) else 1


def _deploy(args: argparse.Namespace, console: Console) -> int:
    from cookbook.stack.deploy import deploy

    def action() -> int:
        began = time.perf_counter()
        names = deploy(StackConfig.from_env())
        console.print(f"{len(names)} deployments applied in {time.perf_counter() - began:.1f} s", markup=False)
        return 0

    return _run(action, console)


def _compare(args: argparse.Namespace, console: Console) -> int:
    from cookbook.stack.compare import run_compare

    return _run(lambda: run_compare(StackConfig.from_env(), args, console), console)
