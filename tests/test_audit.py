"""`cookbook audit`: on the example DAGs shipped inside Airflow (written by no one here), on small DAG files whose
contents each test knows, and on folders made to break a scanner. Expectations come from independent counts (regular
expressions over the source) or from the fixture's own text, never from a run of the code under test."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from cookbook.audit.catalog import read_alternative
from cookbook.audit.findings import FileScan, Finding
from cookbook.audit.report import AuditReport, audit
from cookbook.audit.scan import scan_source
from cookbook.recipe import PROJECT_ROOT, load_recipe

COOKBOOK = [sys.executable, "-m", "cookbook.cli"]


def _airflow_package() -> Path | None:
    found = sorted(PROJECT_ROOT.glob(".venvs/airflow/lib/python3.*/site-packages/airflow/example_dags"))
    return found[-1].parent if found else None


AIRFLOW = _airflow_package()
needs_airflow = pytest.mark.skipif(AIRFLOW is None, reason="no Airflow venv at .venvs/airflow (run `make setup`)")


def example_folders() -> list[Path]:
    assert AIRFLOW is not None
    folders = [AIRFLOW / "example_dags"]
    folders += sorted(AIRFLOW.glob("providers/**/example_dags"))
    folders += sorted(p for p in AIRFLOW.glob("providers/*/tests/system") if p.is_dir())
    return folders


def cookbook(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COOKBOOK, *args], capture_output=True, text=True, timeout=timeout)


def code_lines(path: Path) -> str:
    """The file without its comment lines (the examples comment out alternatives: `# BashOperator(...)`)."""
    return "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")
    )


def write_recipe(root: Path, name: str, concepts: list[tuple[str, str]]) -> None:
    """A minimal recipe page: enough metadata for the harness's model (page and cases), and the concepts under test."""
    lines = [f"title: {name}", f"summary: {name}", "concepts:"]
    lines += [
        f"  - airflow: {json.dumps(text)}\n    prefect: its equivalent\n    effort: {effort}"
        for text, effort in concepts
    ]
    cases = "cases:\n  - name: one\n    expect: {run_state: success, tasks: {t: success}}\n"
    (root / "recipes").mkdir(parents=True, exist_ok=True)
    (root / "recipes" / f"{name}.md").write_text("---\n" + "\n".join(lines) + "\n---\nbody\n", encoding="utf-8")
    (root / "recipes" / f"{name}.cases.yaml").write_text(cases, encoding="utf-8")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def by_line(scan: FileScan, source: str, marker: str, name: str | None = None) -> list[Finding]:
    """The findings on the (single) line of `source` containing `marker`, optionally of one construct."""
    numbers = [i for i, line in enumerate(source.splitlines(), start=1) if marker in line]
    assert len(numbers) == 1, f"marker {marker!r} is on lines {numbers}"
    return [f for f in scan.findings if f.line == numbers[0] and (name is None or f.name == name)]


# ---- the example DAGs shipped inside Airflow --------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditReport]:
    """One folder linking every example folder (read-only), audited once with this cookbook's recipes."""
    if AIRFLOW is None:
        pytest.skip("no Airflow venv at .venvs/airflow (run `make setup`)")
    root = tmp_path_factory.mktemp("examples")
    for index, folder in enumerate(example_folders()):
        (root / f"{index}_{folder.parent.name}").symlink_to(folder, target_is_directory=True)
    return root, audit(root, PROJECT_ROOT)


def example_scans(report: AuditReport, root: Path) -> list[tuple[Path, FileScan]]:
    return [(root / scan.path, scan) for scan in report.files]


@needs_airflow
def test_every_example_file_is_read_and_every_dag_is_found(examples: tuple[Path, AuditReport]) -> None:
    root, report = examples
    assert len(report.files) == sum(len(list(f.rglob("*.py"))) for f in example_folders())
    assert not [n for n in report.all_notes if n.severity == "skipped"]
    for path, scan in example_scans(report, root):
        code = code_lines(path)
        with_blocks = len(re.findall(r"^\s*with DAG\(", code, re.MULTILINE))
        decorated = len(re.findall(r"^\s*@dag\b", code, re.MULTILINE))
        assert sum(d.how == "with" for d in scan.dags) == with_blocks, path.name
        assert sum(d.how == "decorator" for d in scan.dags) == decorated, path.name


@needs_airflow
def test_operators_and_sensors_are_counted_by_class_wherever_they_come_from(
    examples: tuple[Path, AuditReport],
) -> None:
    root, report = examples
    call = re.compile(r"(?<![\w.])([A-Z]\w*(?:Operator|Sensor|SensorAsync))(?:\.partial)?\(")
    total = 0
    for path, scan in example_scans(report, root):
        code = "\n".join(line for line in code_lines(path).splitlines() if not line.lstrip().startswith("class "))
        expected = Counter(call.findall(code))
        found = Counter(f.name for f in scan.findings if f.kind in ("operator", "sensor"))
        assert Counter({n: c for n, c in found.items() if call.match(n + "(")}) == expected, path.name
        total += expected.total()
    assert total > 100  # the examples do use operators: the comparison above is not vacuous


@needs_airflow
def test_taskflow_decorators_and_mapping_are_counted(examples: tuple[Path, AuditReport]) -> None:
    root, report = examples
    for path, scan in example_scans(report, root):
        code = code_lines(path)
        labels = Counter(f.label for f in scan.findings)
        for decorator in set(re.findall(r"^\s*@(task(?:\.\w+)?)\b", code, re.MULTILINE)):
            expected = len(re.findall(rf"^\s*@{re.escape(decorator)}\b(?![.\w])", code, re.MULTILINE))
            assert labels[f"@{decorator}"] == expected, (path.name, decorator)
        for method in ("expand", "expand_kwargs", "partial"):
            assert labels[f".{method}()"] == len(re.findall(rf"\.{method}\(", code)), (path.name, method)


@needs_airflow
def test_each_dag_of_a_file_gets_its_own_constructs(examples: tuple[Path, AuditReport]) -> None:
    """A file with several DAGs: the `.expand(` calls between one `with DAG(` and the next are that DAG's."""
    root, report = examples
    path, scan = next((p, s) for p, s in example_scans(report, root) if p.name == "example_dynamic_task_mapping.py")
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("with DAG(")] + [len(lines)]
    assert len(starts) - 1 == len(scan.dags) >= 2
    for begin, end in itertools.pairwise(starts):
        segment = "\n".join(lines[begin:end])
        dag_id = re.search(r'dag_id="([^"]+)"', segment)
        assert dag_id is not None
        expected = segment.count(".expand(")
        uses = [f for f in scan.findings if f.label == ".expand()" and dag_id.group(1) in f.dags]
        assert len(uses) == expected, dag_id.group(1)


@needs_airflow
def test_example_coverage_adds_up_and_comes_from_the_recipe_pages(examples: tuple[Path, AuditReport]) -> None:
    _, report = examples
    findings = [f for scan in report.files for f in scan.findings]
    mapped = [f for f in findings if f.match.recipes]
    assert report.coverage.uses == len(findings) == sum(row.uses for row in report.constructs)
    assert report.coverage.mapped_uses == len(mapped) > 0
    assert report.coverage.constructs == len({f.label for f in findings})
    assert report.coverage.mapped_constructs == len({f.label for f in mapped})
    # Every concept that decided a match is, word for word, a concept of a recipe it names.
    pages = {name: load_recipe(PROJECT_ROOT / "recipes" / f"{name}.md") for name in report.recipes}
    for finding in mapped:
        texts = {c.airflow for name in finding.match.recipes for c in pages[name].meta.concepts}
        assert set(finding.match.concepts) <= texts, finding.label
    # Constructs no recipe shows are listed, not dropped.
    assert {f.label for f in findings if not f.match.recipes} == {row.label for row in report.unmapped()}


# ---- matching against recipe concepts (a cookbook made for the test) --------------------------------------------

FIXTURE_CONCEPTS = {
    "shell": [
        ("BashOperator(bash_command=...)", "mechanical"),
        ("BashOperator(env=..., append_env=True)", "mechanical"),
        ("BashOperator(env=...) without append_env", "judgment"),
        ("skip_on_exit_code=99", "judgment"),
        ("BashOperator(cwd=...) without env", "redesign"),
    ],
    "waiting": [
        ('FileSensor(mode="poke")', "mechanical"),
        ('FileSensor(mode="reschedule")', "judgment"),
        ("{{ ds }} in a command", "mechanical"),
    ],
    "rules": [
        ('trigger_rule="all_done"', "redesign"),
        ("Variable.get(key, default_var=...)", "mechanical"),
        ("Variable.get at the top of a DAG file (parse time)", "redesign"),
        ("DAG(on_failure_callback=...)", "judgment"),
        ("ti.xcom_pull(task_ids=...)", "judgment"),
    ],
}

FIXTURE_DAG = """
from airflow.models import Variable
from airflow.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, task
from airflow.sensors.filesystem import FileSensor
from airflow.utils.trigger_rule import TriggerRule
from company.tasks import InHouseOperator

BUCKET = Variable.get("bucket")  # parse-time variable

with DAG("fixture", schedule=None):
    BashOperator(task_id="plain", bash_command="date")  # plain bash
    BashOperator(task_id="e1", bash_command="env", env={"A": "1"})  # env alone
    BashOperator(task_id="e2", bash_command="env", env={"A": "1"}, append_env=True)  # env appended
    BashOperator(task_id="skip", bash_command="exit 99", skip_on_exit_code=99)  # skip code
    FileSensor(task_id="f1", filepath="/x")  # default mode
    FileSensor(task_id="f2", filepath="/x", mode="reschedule")  # reschedule mode
    EmptyOperator(task_id="join", trigger_rule=TriggerRule.ALL_DONE)  # enum rule
    EmptyOperator(task_id="other", trigger_rule="one_failed")  # another rule
    InHouseOperator(task_id="ours", skip_on_exit_code=99)  # in-house
    BashOperator(task_id="tpl", bash_command="echo {{ ds }}")  # template
    BashOperator(task_id="c1", bash_command="ls", cwd="/tmp")  # cwd alone
    BashOperator(task_id="c2", bash_command="ls", cwd="/tmp", env={"A": "1"})  # cwd and env
    BashOperator(task_id="c3", bash_command="ls", cwd="/tmp", env=None)  # cwd and no env

    @task
    def read():
        return Variable.get("key", default_var="x")  # run-time variable

    @task
    def pull(ti=None):
        return ti.xcom_pull("read")  # positional pull

    BashOperator.partial(task_id="m").expand(bash_command=["a", "b"])  # mapped bash
    read() >> pull()
"""


@pytest.fixture
def fixture_cookbook(tmp_path: Path) -> Path:
    root = tmp_path / "cookbook"
    for name, concepts in FIXTURE_CONCEPTS.items():
        write_recipe(root, name, concepts)
    return root


def test_constructs_map_to_the_recipes_whose_concepts_name_them(fixture_cookbook: Path, tmp_path: Path) -> None:
    dag = write(tmp_path / "dags" / "fixture.py", FIXTURE_DAG)
    source = dag.read_text(encoding="utf-8")
    report = audit(dag.parent, fixture_cookbook)
    assert report.recipe_problems == [] and set(report.recipes) == set(FIXTURE_CONCEPTS)
    scan = report.files[0]

    def match(marker: str, name: str) -> tuple[list[str], str]:
        (finding,) = by_line(scan, source, marker, name)
        return finding.match.recipes, finding.match.effort

    assert match("# plain bash", "BashOperator") == (["shell"], "mechanical")
    # env without append_env is the concept that needs judgment; with append_env it is excluded.
    assert match("# env alone", "BashOperator") == (["shell"], "judgment")
    assert match("# env appended", "BashOperator") == (["shell"], "mechanical")
    # An operator's own argument matches a concept about that argument alone...
    assert match("# skip code", "BashOperator") == (["shell"], "judgment")
    # ...but an in-house operator's arguments are its own: listed, with no recipe.
    assert match("# in-house", "InHouseOperator") == ([], "none")
    # The default mode contradicts no concept: the recipe's first (baseline) one decides.
    assert match("# default mode", "FileSensor") == (["waiting"], "mechanical")
    assert match("# reschedule mode", "FileSensor") == (["waiting"], "judgment")
    assert match("# reschedule mode", "mode") == (["waiting"], "judgment")
    # TriggerRule.ALL_DONE is the "all_done" of the concept; "one_failed" contradicts it.
    assert match("# enum rule", "trigger_rule") == (["rules"], "redesign")
    assert match("# another rule", "trigger_rule") == ([], "none")
    assert match("# enum rule", "EmptyOperator") == ([], "none")
    assert match("# parse-time variable", "Variable.get") == (["rules"], "redesign")
    assert match("# run-time variable", "Variable.get") == (["rules"], "mechanical")
    assert match("# template", "{{ ds }}") == (["waiting"], "mechanical")
    # A concept about a DAG argument is not about every DAG; a positional task_ids is task_ids.
    assert match('with DAG("fixture"', "DAG") == ([], "none")
    assert match("# positional pull", "xcom_pull") == (["rules"], "judgment")
    # The arguments given to .expand() are the mapped operator's.
    assert match("# mapped bash", "BashOperator") == (["shell"], "mechanical")
    # "without env" rules a concept out where env is passed (env=None is still without).
    assert match("# cwd alone", "BashOperator") == (["shell"], "redesign")
    assert match("# cwd and env", "BashOperator") == (["shell"], "judgment")
    assert match("# cwd and no env", "BashOperator") == (["shell"], "redesign")


def test_a_new_concept_maps_a_construct_with_no_code_change(fixture_cookbook: Path, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(dags / "fixture.py", FIXTURE_DAG)

    def empty_operator_recipes() -> set[str]:
        report = audit(dags, fixture_cookbook)
        return {r for f in report.files[0].findings if f.name == "EmptyOperator" for r in f.match.recipes}

    assert empty_operator_recipes() == set()
    write_recipe(fixture_cookbook, "joins", [("EmptyOperator(task_id=...)", "mechanical")])
    assert empty_operator_recipes() == {"joins"}


def test_coverage_counts_uses_and_distinct_constructs(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "shell", [("BashOperator", "mechanical")])
    write(
        tmp_path / "dags" / "d.py",
        """
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("d", schedule=None):
            BashOperator(task_id="a", bash_command="true")
            BashOperator(task_id="b", bash_command="true")
            EmptyOperator(task_id="c")
        """,
    )
    coverage = audit(tmp_path / "dags", root).coverage
    # Five uses (with DAG, schedule=None, two BashOperator, EmptyOperator) of four constructs; BashOperator maps.
    assert (coverage.uses, coverage.mapped_uses, coverage.constructs, coverage.mapped_constructs) == (5, 2, 4, 1)
    assert coverage.uses_percent == 40.0 and coverage.constructs_percent == 25.0
    assert coverage.by_effort == {"mechanical": 2, "none": 3}


@pytest.mark.parametrize(
    ("text", "names", "kwargs", "excluded"),
    [
        ("params", {"params"}, {}, set()),
        ("sensor timeout", set(), {}, set()),
        ("a hook building a client from the connection", set(), {}, set()),
        ("raise AirflowFailException (fail without retrying)", {"AirflowFailException"}, {}, {"retrying"}),
        ("@task.sensor", {"task.sensor"}, {}, set()),
        ("BashOperator(env=...) without append_env", {"BashOperator"}, {"env": "..."}, {"append_env"}),
        ('FileSensor(mode="reschedule")', {"FileSensor"}, {"mode": "reschedule"}, set()),
        (
            "ti.xcom_pull(task_ids=..., key=...)",
            {"ti.xcom_pull", "xcom_pull"},
            {"task_ids": "...", "key": "..."},
            set(),
        ),
        ("Variable.get(key)", {"Variable.get", "Variable"}, {}, set()),
        ("trigger_rule=TriggerRule.ONE_FAILED", set(), {"trigger_rule": "one_failed"}, set()),
        ('schedule="30 2 * * 1"', set(), {"schedule": "cron"}, set()),
        ('pool="warehouse" (airflow pools set warehouse 3)', set(), {"pool": "..."}, set()),
        ('default_args={"retries": 2, "retry_delay": timedelta(seconds=1)}', set(), {"default_args": "..."}, set()),
        ("{{ macros.ds_add(ds, 7) }} in bash_command", {"{{ macros.ds_add }}", "{{ ds }}", "bash_command"}, {}, set()),
        ("Jinja in a command ({{ params.x }})", {"{{ params }}"}, {}, set()),
    ],
)
def test_a_concept_text_is_read_for_code_not_prose(
    text: str, names: set[str], kwargs: dict[str, str], excluded: set[str]
) -> None:
    assert read_alternative(text) == (names, kwargs, excluded)


# ---- the scanner on files written for it -------------------------------------------------------------------------


def test_an_airflow_2_file_is_read_through_its_aliases_and_module_variables(tmp_path: Path) -> None:
    source = textwrap.dedent(
        '''
        """A DAG documented with {{ not_a_template }} in its docstring."""
        from datetime import datetime, timedelta

        from airflow import DAG
        from airflow.datasets import Dataset
        from airflow.operators.bash import BashOperator as B
        import airflow.operators.python as py

        DEFAULTS = {"owner": "data", "retries": 3, "retry_delay": timedelta(minutes=5)}
        SCHEDULE = "0 6 * * *"

        first = DAG("first", schedule_interval=SCHEDULE, default_args=DEFAULTS, catchup=True)  # first dag
        second = DAG("second", schedule=[Dataset("s3://x")], start_date=datetime(2024, 1, 1))  # second dag

        a = B(task_id="a", bash_command="echo {{ ds }}", dag=first)  # aliased bash
        b = py.PythonOperator(task_id="b", python_callable=print, pool="p", dag=second)  # module alias
        c = B(task_id="c", bash_command="true", dag=second)  # second bash
        '''
    ).lstrip()
    scan = scan_source(source, "legacy.py")
    assert [(d.dag_id, d.schedule) for d in scan.dags] == [
        ("first", "schedule_interval=cron"),
        ("second", "schedule=assets"),
    ]
    (schedule,) = by_line(scan, source, "# first dag", "schedule_interval")
    assert schedule.aliases == ["schedule"] and "Airflow 2 only" in schedule.flags
    assert {f.label for f in by_line(scan, source, "DEFAULTS =")} == {
        "default_args: owner",
        "default_args: retries",
        "default_args: retry_delay",
    }
    assert all(f.dags == ["first"] for f in by_line(scan, source, "DEFAULTS ="))
    (bash,) = by_line(scan, source, "# aliased bash", "BashOperator")
    assert bash.module == "airflow.operators.bash" and "Airflow 2 path" in bash.flags and bash.dags == ["first"]
    (python,) = by_line(scan, source, "# module alias", "PythonOperator")
    assert python.module == "airflow.operators.python" and python.dags == ["second"]
    assert [f.label for f in by_line(scan, source, "# module alias") if f.kind == "pool"] == ["pool"]
    assert [f.dags for f in by_line(scan, source, "# second bash", "BashOperator")] == [["second"]]
    templates = [f.label for f in scan.findings if f.kind == "template"]
    assert templates == ["{{ ds }}"]  # the docstring's braces are documentation


def test_parse_time_calls_are_flagged_and_task_time_ones_are_not(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from airflow.sdk import DAG, Variable, dag, task
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        LIMIT = Variable.get("limit")  # module level

        @dag(schedule=None)
        def built():
            size = Variable.get("size")  # dag body

            @task
            def run():
                PostgresHook(postgres_conn_id="pg").get_records("select 1")  # inside a task
                return Variable.get("inside")  # inside a task

            run()

        built()
        """
    ).lstrip()
    scan = scan_source(source, "p.py")

    def flagged(marker: str, name: str) -> bool:
        (finding,) = by_line(scan, source, marker, name)
        return "parse time" in finding.flags

    assert flagged("# module level", "Variable.get") and flagged("# dag body", "Variable.get")
    assert not flagged("return Variable.get", "Variable.get")
    assert not flagged("PostgresHook(", "PostgresHook")
    (connection,) = by_line(scan, source, "PostgresHook(", "postgres_conn_id")
    assert connection.aliases == ["conn_id"] and connection.detail == "pg"


def test_dags_generated_in_loops_are_flagged(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from airflow.sdk import DAG, dag
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("single", schedule=None):
            EmptyOperator(task_id="x")

        for name in ["a", "b"]:
            with DAG(f"loop_{name}", schedule=None):
                EmptyOperator(task_id="x")

        def build(name):
            with DAG(dag_id=f"factory_{name}", schedule=None) as made:
                EmptyOperator(task_id="x")
            return made

        for name in ["c", "d"]:
            globals()[name] = build(name)

        @dag(schedule=None)
        def decorated():
            EmptyOperator(task_id="x")

        dags = [decorated() for _ in range(3)]
        listed = [DAG(f"comp_{i}", schedule=None) for i in range(2)]
        """
    ).lstrip()
    scan = scan_source(source, "loops.py")
    flags = {d.dag_id: d.flags for d in scan.dags}
    assert flags["single"] == []
    for dag_id in ("loop_{name}", "factory_{name}", "decorated", "comp_{i}"):
        assert "generated in a loop" in flags[dag_id], dag_id
    assert "built by build()" in flags["factory_{name}"]
    looped = [f for f in scan.findings if f.name == "generated in a loop"]
    assert sorted(key for f in looped for key in f.dags) == sorted(
        ["loop_{name}", "factory_{name}", "decorated", "comp_{i}"]
    )


def test_custom_operator_classes_and_taskflow_variants_are_listed(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from airflow.models.baseoperator import BaseOperator
        from airflow.sdk import DAG, task, task_group, setup, teardown
        from airflow.sdk import TaskGroup
        from airflow.providers.standard.sensors.external_task import ExternalTaskMarker

        class Mine(BaseOperator):
            def execute(self, context):
                context["ti"].xcom_push(key="k", value=1)

        class Derived(Mine):
            pass

        with DAG("custom", schedule="@daily", max_active_runs=1, dagrun_timeout=None):
            Mine(task_id="m", execution_timeout=None, on_failure_callback=print, depends_on_past=True)
            Derived(task_id="d", deferrable=True)
            ExternalTaskMarker(task_id="marker", external_dag_id="x", external_task_id="y")

            @task.virtualenv(requirements=["x"])
            def isolated(): ...

            @task.short_circuit
            def gate(): ...

            @setup
            def begin(): ...

            @teardown
            def end(): ...

            @task_group
            def grouped():
                isolated()

            with TaskGroup("tg"):
                gate()
            grouped()
        """
    ).lstrip()
    scan = scan_source(source, "custom.py")
    labels = Counter(f.label for f in scan.findings)
    for label in (
        "class Mine(BaseOperator)",
        "class Derived(Mine)",
        "Mine",
        "Derived",
        "ExternalTaskMarker",
        "xcom_push",
        "@task.virtualenv",
        "@task.short_circuit",
        "@setup",
        "@teardown",
        "@task_group",
        "TaskGroup",
        "schedule=@daily",
        "max_active_runs",
        "dagrun_timeout",
        "execution_timeout",
        "on_failure_callback",
        "depends_on_past=True",
        "deferrable=True",
    ):
        assert labels[label] == 1, label
    derived = next(f for f in scan.findings if f.label == "Derived")
    assert "custom" in derived.flags and derived.aliases[-1] == "BaseOperator"
    assert all(f.dags == ["custom"] for f in scan.findings)


def test_the_scanner_never_runs_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    dag = write(
        tmp_path / "dags" / "side_effects.py",
        f"""
        from airflow.sdk import DAG
        open({str(marker)!r}, "w").write("ran")
        import not_installed_anywhere
        raise SystemExit(3)
        with DAG("unreached_at_runtime", schedule=None):
            pass
        """,
    )
    report = audit(dag.parent, PROJECT_ROOT)
    assert not marker.exists()
    assert [d.dag_id for d in report.files[0].dags] == ["unreached_at_runtime"]


# ---- robustness and the command line -----------------------------------------------------------------------------


def test_unreadable_files_are_noted_and_the_scan_goes_on(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(dags / "good.py", "from airflow.sdk import DAG\nwith DAG('good', schedule=None):\n    pass\n")
    write(dags / "broken.py", "from airflow.sdk import DAG\nwith DAG('broken',\n")
    write(dags / "helpers.py", "def add(a, b):\n    return a + b\n")
    (dags / "huge.py").write_text("x = 1\n" * 900_000, encoding="utf-8")  # 5.4 MB
    (dags / "blob.py").write_bytes(bytes(range(256)) * 8)
    (dags / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (dags / "latin1.py").write_bytes(b"x = '\xe9'\n")
    (dags / "nested" / "empty").mkdir(parents=True)
    (dags / "nested" / "back").symlink_to(dags, target_is_directory=True)
    (dags / "self").symlink_to(dags / "self")
    (dags / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    result = cookbook("audit", str(dags), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = AuditReport.model_validate_json(result.stdout)
    notes = {n.path: (n.severity, n.message) for n in report.all_notes}
    assert notes["broken.py"][0] == "skipped" and "syntax error at line" in notes["broken.py"][1]
    assert notes["helpers.py"] == ("info", "no DAG and no Airflow construct")
    assert notes["huge.py"][0] == "skipped" and "5.4 MB" in notes["huge.py"][1]
    assert notes["blob.py"][0] == "skipped" and "binary" in notes["blob.py"][1]
    assert notes["latin1.py"][0] == "skipped"
    assert notes["nested/back"][0] == "skipped" and "symlink loop" in notes["nested/back"][1]
    assert notes["self"][0] == "skipped" and "symlink loop" in notes["self"][1]
    assert notes["dangling.py"][0] == "skipped" and "broken symlink" in notes["dangling.py"][1]
    assert report.ignored == {".bin": 1}
    assert [d.dag_id for scan in report.files for d in scan.dags] == ["good"]


def test_an_empty_folder_is_an_empty_audit(tmp_path: Path) -> None:
    result = cookbook("audit", str(tmp_path), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = AuditReport.model_validate_json(result.stdout)
    assert report.files == [] and report.coverage.uses == 0
    assert [n.message for n in report.notes] == ["no Python file found"]


def test_a_path_that_does_not_exist_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = cookbook("audit", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"cookbook: no such file or folder: {tmp_path / 'nope'}"]
    assert "Traceback" not in result.stdout + result.stderr


@needs_airflow
def test_the_summary_and_the_written_reports_on_the_example_dags(tmp_path: Path) -> None:
    assert AIRFLOW is not None
    folder = AIRFLOW / "example_dags"
    dag_ids = set(re.findall(r'(?<!\w)dag_id="([a-z_0-9]+)"', "\n".join(code_lines(p) for p in folder.rglob("*.py"))))
    shown = cookbook("audit", str(folder), "--dags", "0")
    assert shown.returncode == 0, shown.stderr
    for heading in ("Constructs, most used first", "DAGs", "Coverage:", "of construct uses have a recipe"):
        assert heading in shown.stdout

    plan_md, plan_json = tmp_path / "plan.md", tmp_path / "plan.json"
    assert cookbook("audit", str(folder), "--format", "markdown", "--output", str(plan_md)).returncode == 0
    assert cookbook("audit", str(folder), "--format", "json", "--output", str(plan_json)).returncode == 0
    markdown = plan_md.read_text(encoding="utf-8")
    for heading in ("## Coverage", "## Constructs", "## DAGs", "## Per DAG", "## Recipes"):
        assert heading in markdown
    report = AuditReport.model_validate_json(plan_json.read_text(encoding="utf-8"))
    assert dag_ids <= {row.dag.dag_id for row in report.dags}
    assert all(f"`{dag_id}`" in markdown for dag_id in dag_ids)
    assert len(report.files) == len(list(folder.rglob("*.py")))
    pct = report.coverage.uses_percent
    assert f"{pct:.0f}% of construct uses have a recipe" in markdown
    assert json.loads(plan_json.read_text(encoding="utf-8"))["coverage"]["uses_percent"] == pct


def test_a_symlink_given_as_the_path_is_followed(tmp_path: Path) -> None:
    write(tmp_path / "real" / "d.py", "from airflow.sdk import DAG\nwith DAG('via_link', schedule=None):\n    pass\n")
    os.symlink(tmp_path / "real", tmp_path / "link")
    report = audit(tmp_path / "link", PROJECT_ROOT)
    assert [d.dag_id for scan in report.files for d in scan.dags] == ["via_link"]
