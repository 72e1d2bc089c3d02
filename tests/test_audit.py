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
    covered = [f for f in findings if f.match.effort != "none"]
    assert report.coverage.uses == len(findings) == sum(row.uses for row in report.constructs)
    assert report.coverage.recipe_uses == len(mapped) > 0
    assert report.coverage.mapped_uses == len(covered) > len(mapped)
    assert report.coverage.constructs == len({f.label for f in findings})
    assert report.coverage.mapped_constructs == len({f.label for f in covered})
    # A recipe's grade comes with its recipes; the vocabulary's two grades with a pointer and never a recipe.
    for finding in findings:
        graded_by_recipe = finding.match.effort in ("mechanical", "judgment", "redesign")
        assert graded_by_recipe == bool(finding.match.recipes), finding.label
        assert (finding.match.effort in ("nothing", "generic")) == bool(finding.match.pointer), finding.label
    # Every concept that decided a match is, word for word, a concept of a recipe it names.
    pages = {name: load_recipe(PROJECT_ROOT / "recipes" / f"{name}.md") for name in report.recipes}
    for finding in mapped:
        texts = {c.airflow for name in finding.match.recipes for c in pages[name].meta.concepts}
        assert set(finding.match.concepts) <= texts, finding.label
    # Constructs with no answer are listed, not dropped.
    assert {f.label for f in findings if f.match.effort == "none"} == {row.label for row in report.unmapped()}


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
    # ...but an in-house operator's arguments are its own: listed, with no recipe (a generic pointer: a @task).
    assert match("# in-house", "InHouseOperator") == ([], "generic")
    # The default mode contradicts no concept: the recipe's first (baseline) one decides.
    assert match("# default mode", "FileSensor") == (["waiting"], "mechanical")
    assert match("# reschedule mode", "FileSensor") == (["waiting"], "judgment")
    assert match("# reschedule mode", "mode") == (["waiting"], "judgment")
    # TriggerRule.ALL_DONE is the "all_done" of the concept; "one_failed" contradicts it.
    assert match("# enum rule", "trigger_rule") == (["rules"], "redesign")
    assert match("# another rule", "trigger_rule") == ([], "none")
    assert match("# enum rule", "EmptyOperator") == ([], "nothing")
    assert match("# parse-time variable", "Variable.get") == (["rules"], "redesign")
    assert match("# run-time variable", "Variable.get") == (["rules"], "mechanical")
    assert match("# template", "{{ ds }}") == (["waiting"], "mechanical")
    # A concept about a DAG argument is not about every DAG; a positional task_ids is task_ids.
    assert match('with DAG("fixture"', "DAG") == ([], "generic")
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

        from airflow.sdk import Variable

        with DAG("d", schedule=None):
            BashOperator(task_id="a", bash_command="true")
            BashOperator(task_id="b", bash_command="true")
            EmptyOperator(task_id="c")
            Variable.delete("stale")
        """,
    )
    coverage = audit(tmp_path / "dags", root).coverage
    # Six uses (with DAG, schedule=None, two BashOperator, EmptyOperator, Variable.delete) of five constructs:
    # BashOperator has a recipe; schedule=None and EmptyOperator need nothing; the DAG has a generic pointer (a
    # @flow); Variable.delete has no answer at all.
    assert (coverage.uses, coverage.mapped_uses, coverage.constructs, coverage.mapped_constructs) == (6, 5, 5, 4)
    assert coverage.recipe_uses == 2 and coverage.recipe_percent == 33.3
    assert coverage.uses_percent == 83.3 and coverage.constructs_percent == 80.0
    assert coverage.by_effort == {"nothing": 2, "mechanical": 2, "generic": 1, "none": 1}


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
        # Arguments in brackets after prose describe the subject, they are not a requirement of the concept.
        ("the child DAG (schedule=None)", set(), {}, set()),
        ("a >> b (no data passed)", {">>"}, {}, {"data"}),
        ('context["params"]', {'context["params"]'}, {}, set()),
        (
            'context["ti"].xcom_pull(task_ids=...) inside a callable',
            {'context["ti"].xcom_pull', "xcom_pull"},
            {"task_ids": "..."},
            set(),
        ),
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
    shown = cookbook("audit", str(folder), "--detail", "--dags", "0")
    assert shown.returncode == 0, shown.stderr
    for heading in ("Constructs, most used first", "DAGs", "Coverage:", "of construct uses are covered"):
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
    assert f"{pct:.0f}% of construct uses are covered" in markdown
    assert json.loads(plan_json.read_text(encoding="utf-8"))["coverage"]["uses_percent"] == pct


def test_a_symlink_given_as_the_path_is_followed(tmp_path: Path) -> None:
    write(tmp_path / "real" / "d.py", "from airflow.sdk import DAG\nwith DAG('via_link', schedule=None):\n    pass\n")
    os.symlink(tmp_path / "real", tmp_path / "link")
    report = audit(tmp_path / "link", PROJECT_ROOT)
    assert [d.dag_id for scan in report.files for d in scan.dags] == ["via_link"]


# ---- issue #17: constructs the audit did not read, or read wrong (each with a DAG written for it) -----------------

CORPUS = PROJECT_ROOT / "tests" / "audit_corpus"


def scanned(tmp_path: Path, source: str, cookbook_root: Path = PROJECT_ROOT, name: str = "dag.py") -> FileScan:
    """One DAG file audited against a cookbook (the project's recipes unless told)."""
    dag = write(tmp_path / "dags" / name, source)
    report = audit(dag.parent, cookbook_root)
    return next(scan for scan in report.files if scan.path == name)


def on_line(scan: FileScan, source: str, marker: str, name: str | None = None) -> Finding:
    (finding,) = by_line(scan, textwrap.dedent(source).lstrip(), marker, name)
    return finding


@pytest.fixture
def empty_cookbook(tmp_path: Path) -> Path:
    """A cookbook whose one recipe shows nothing the tests below use: what is left is the vocabulary's answer."""
    root = tmp_path / "empty_cookbook"
    write_recipe(root, "unrelated", [("ApprovalOperator(subject=...)", "judgment")])
    return root


DEPENDENCIES = """
from airflow.sdk import DAG, Label, chain, cross_downstream
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("deps", schedule=None):
    a, b, c, d = (EmptyOperator(task_id=t) for t in "abcd")
    a >> b  # shift right
    [c, d] << a  # shift left
    a >> Label("why") >> c  # labelled edge
    chain(a, b, c)  # chain call
    cross_downstream([a], [c, d])  # cross call
    a.set_downstream(d)  # method downstream
"""


def test_task_dependencies_are_read_and_match_the_recipe_that_shows_them(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "deps", [("a >> b (no data passed)", "mechanical"), ("chain(a, b, c)", "mechanical")])
    write_recipe(root, "groups", [("TaskGroup per dataset, groups[a] >> groups[b]", "judgment")])
    scan = scanned(tmp_path, DEPENDENCIES, root)
    for marker, label in [
        ("# shift right", "a >> b"),
        ("# shift left", "a << b"),
        ("# labelled edge", "a >> b"),
        ("# chain call", "chain"),
        ("# method downstream", ".set_downstream()"),
    ]:
        finding = next(f for f in by_line(scan, textwrap.dedent(DEPENDENCIES).lstrip(), marker) if f.label == label)
        assert finding.kind == "dependency" and finding.dags == ["deps"], marker
        # `groups[a] >> groups[b]` is about TaskGroups: a plain `a >> b` is the plain concept's alone.
        assert finding.match.recipes == ["deps"] and finding.match.effort == "mechanical", marker
    assert on_line(scan, DEPENDENCIES, "# labelled edge", "Label").match.effort == "nothing"
    cross = on_line(scan, DEPENDENCIES, "# cross call", "cross_downstream")
    assert cross.match.effort == "generic" and "wait_for" in (cross.match.pointer or "")


CONTEXT = """
from airflow.sdk import DAG, get_current_context, task
from airflow.providers.standard.operators.python import PythonOperator


def legacy(**kwargs):
    ti = kwargs["ti"]  # ti from kwargs
    day = kwargs["ds"]  # ds from kwargs
    conf = kwargs["dag_run"].conf  # conf from kwargs
    ti.xcom_push(key="day", value=day)
    return kwargs.get("params")  # params via get


with DAG("context", schedule=None):
    PythonOperator(task_id="legacy", python_callable=legacy)  # the callable

    @task
    def modern():
        context = get_current_context()  # current context
        return context["ti"].try_number, context["run_id"]  # try number and run id

    modern()
"""


def test_task_context_access_is_read_whatever_the_variable_is_called(tmp_path: Path) -> None:
    scan = scanned(tmp_path, CONTEXT)

    def found(marker: str, name: str) -> Finding:
        finding = on_line(scan, CONTEXT, marker, name)
        assert finding.kind in ("context", "callable") and finding.dags == ["context"], name
        return finding

    assert found("# ti from kwargs", 'context["ti"]').detail == "kwargs['ti']"
    # The context's `ds` is the template's `{{ ds }}`: the templating recipe shows both.
    ds = found("# ds from kwargs", 'context["ds"]')
    assert "{{ ds }}" in ds.aliases and "templating" in ds.match.recipes
    assert "params" in found("# conf from kwargs", 'context["dag_run"].conf').match.recipes
    assert found("# params via get", 'context["params"]').match.recipes
    assert found("# current context", "get_current_context").match.effort == "generic"
    assert "retries" in found("# try number", 'context["ti"].try_number').match.recipes
    run_id = found("# try number", 'context["run_id"]')
    assert run_id.match.effort == "generic" and "flow_run.id" in (run_id.match.pointer or "")
    callable_ = found("# the callable", "python_callable")
    assert callable_.detail == "legacy" and callable_.match.recipes == ["taskflow_etl"]
    # A dict that is not the context is no context access.
    plain = scan_source('def f(d):\n    return d["ti"]\n', "plain.py")
    assert not [f for f in plain.findings if f.kind == "context"]


def test_documentation_tags_and_display_settings_are_listed(tmp_path: Path, empty_cookbook: Path) -> None:
    source = '''
    """The DAG's documentation."""
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG("documented", schedule=None, tags=["a"], doc_md=__doc__, description="d", dag_display_name="D") as dag:
        EmptyOperator(task_id="e", doc_md="task doc")  # task doc
    dag.doc_md = "more"  # assigned doc
    '''
    scan = scanned(tmp_path, source, empty_cookbook)
    grades = {f.label: f.match.effort for f in scan.findings}
    assert grades["tags"] == "generic" and grades["doc_md"] == "generic" and grades["description"] == "generic"
    assert grades["dag_display_name"] == "nothing"
    assert [f.dags for f in scan.findings if f.label == "doc_md"] == [["documented"]] * 3
    # With the project's recipes, tags are what the deployments recipe shows.
    assert "deployments" in next(f for f in scanned(tmp_path, source).findings if f.name == "tags").match.recipes


def test_default_args_imported_from_a_shared_module_are_read(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    write(
        dags / "common" / "defaults.py",
        """
        from datetime import timedelta
        BASE = {"owner": "data", "retries": 3, "retry_delay": timedelta(minutes=5)}
        DEFAULT_ARGS = {**BASE, "depends_on_past": False, "queue": "heavy"}
        """,
    )
    write(dags / "common" / "__init__.py", "")
    write(dags / "team" / "local_defaults.py", 'LOCAL = {"retries": 1}\n')
    write(dags / "team" / "__init__.py", "")
    source = """
    from airflow.sdk import DAG
    from common.defaults import DEFAULT_ARGS
    from .local_defaults import LOCAL
    from elsewhere.config import MISSING

    with DAG("shared", schedule=None, default_args=DEFAULT_ARGS):  # shared
        pass
    with DAG("relative", schedule=None, default_args=LOCAL):  # relative
        pass
    with DAG("missing", schedule=None, default_args=MISSING):  # missing
        pass
    """
    write(dags / "team" / "reports.py", source)
    report = audit(dags, PROJECT_ROOT)
    scan = next(s for s in report.files if s.path == "team/reports.py")
    labels = {f.label for f in by_line(scan, textwrap.dedent(source).lstrip(), "# shared")}
    assert {
        "default_args",
        "default_args: owner",
        "default_args: retries",
        "default_args: retry_delay",
        "default_args: depends_on_past=False",
        "default_args: queue",
    } <= labels
    shared = on_line(scan, source, "# shared", "default_args")
    assert shared.detail == "from common.defaults" and shared.dags == ["shared"]
    assert {f.label for f in by_line(scan, textwrap.dedent(source).lstrip(), "# relative")} >= {"default_args: retries"}
    missing = on_line(scan, source, "# missing", "default_args")
    assert "elsewhere.config" in (missing.detail or "") and "not found in the audited folder" in (missing.detail or "")
    # Each key is graded as the task argument it is, never by the other keys it came with.
    retries = on_line(scan, source, "# shared", "retries")
    assert retries.match.recipes == ["retries"]
    assert on_line(scan, source, "# shared", "depends_on_past").match.effort == "nothing"


@pytest.mark.parametrize(
    ("line", "name", "effort", "pointer_has"),
    [
        ('EmptyOperator(task_id="join")', "EmptyOperator", "nothing", "wait_for"),
        ('EmptyOperator(task_id="x", inlets=[Asset("s3://a")])', "inlets", "generic", "materialize"),
        ('EmptyOperator(task_id="x", queue="heavy")', "queue", "generic", "work pool"),
        ("ObjectStoragePath('s3://bucket/key')", "ObjectStoragePath", "generic", "S3Bucket"),
        ('conf.get("core", "parallelism")', "conf.get", "generic", "prefect.settings"),
        ("raise AirflowSkipException('none')", "AirflowSkipException", "generic", "Prefect has no skipped state"),
        ('BashOperator(task_id="x", bash_command="echo {{ run_id }}")', "{{ run_id }}", "generic", "flow_run.id"),
        ('BashOperator(task_id="x", bash_command="{{ dag.dag_id }}")', "{{ dag.dag_id }}", "generic", "flow_name"),
        ('work.override(task_id="again")()', "override", "generic", "with_options"),
    ],
)
def test_constructs_no_recipe_shows_get_a_graded_pointer(
    tmp_path: Path, empty_cookbook: Path, line: str, name: str, effort: str, pointer_has: str
) -> None:
    source = f"""
    from airflow.configuration import conf
    from airflow.exceptions import AirflowSkipException
    from airflow.sdk import DAG, Asset, ObjectStoragePath, task
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG("graded", schedule=None):
        @task
        def work():
            pass

        def body():
            {line}  # the construct

        body()
    """
    scan = scanned(tmp_path, source, empty_cookbook)
    finding = on_line(scan, source, "# the construct", name)
    assert finding.match.effort == effort and finding.match.recipes == []
    assert pointer_has in (finding.match.pointer or ""), finding.match.pointer


def test_dag_settings_that_need_nothing_or_a_pointer_are_graded(tmp_path: Path, empty_cookbook: Path) -> None:
    source = """
    from airflow.sdk import DAG

    with DAG(
        "settings",
        schedule=None,  # no schedule
        catchup=False,  # no catchup
        template_searchpath=["/sql"],  # search path
        render_template_as_native_obj=True,  # native
        max_consecutive_failed_dag_runs=3,  # failed runs
    ):
        pass
    """
    scan = scanned(tmp_path, source, empty_cookbook)
    assert on_line(scan, source, "# no schedule").match.effort == "nothing"
    assert on_line(scan, source, "# no catchup").match.effort == "nothing"
    assert on_line(scan, source, "# native").match.effort == "nothing"
    assert on_line(scan, source, "# search path").match.effort == "generic"
    assert "Automation" in (on_line(scan, source, "# failed runs").match.pointer or "")
    # catchup=True is work, not "nothing": with no recipe for it, it is not mapped.
    other = scanned(tmp_path, source.replace("catchup=False", "catchup=True"), empty_cookbook, "other.py")
    assert on_line(other, source.replace("catchup=False", "catchup=True"), "# no catchup").match.effort == "none"


PROVIDERS = """
from airflow.sdk import DAG, task
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.snowflake.operators.snowflake import SnowflakeOperator
from airflow.providers.ssh.operators.ssh import SSHOperator

with DAG("providers", schedule=None):
    SQLExecuteQueryOperator(task_id="sql", conn_id="wh", sql="select 1")  # sql
    SnowflakeOperator(task_id="sf", sql="select 1")  # snowflake
    SSHOperator(task_id="ssh", command="ls")  # ssh
    DockerOperator(task_id="docker", image="x")  # docker
    HttpOperator(task_id="http", endpoint="x")  # http

    @task
    def hooks():
        PostgresHook(postgres_conn_id="wh").get_records("select 1")  # postgres
        S3Hook(aws_conn_id="s3").load_string("x", "k")  # s3
"""


@pytest.mark.parametrize(
    ("marker", "name", "integration"),
    [
        ("# sql", "SQLExecuteQueryOperator", "prefect-sqlalchemy"),
        ("# snowflake", "SnowflakeOperator", "prefect-snowflake"),
        ("# ssh", "SSHOperator", "paramiko"),
        ("# docker", "DockerOperator", "prefect-docker"),
        ("# http", "HttpOperator", "httpx"),
        ("# postgres", "PostgresHook", "prefect-sqlalchemy"),
        ("# s3", "S3Hook", "prefect-aws"),
    ],
)
def test_provider_classes_point_at_their_prefect_integration(
    tmp_path: Path, empty_cookbook: Path, marker: str, name: str, integration: str
) -> None:
    finding = on_line(scanned(tmp_path, PROVIDERS, empty_cookbook), PROVIDERS, marker, name)
    assert finding.match.effort == "generic" and integration in (finding.match.pointer or "")


def test_a_recipe_that_shows_a_provider_class_wins_over_the_generic_pointer(
    tmp_path: Path, empty_cookbook: Path
) -> None:
    write_recipe(empty_cookbook, "sql", [("SQLExecuteQueryOperator(conn_id=..., sql=...)", "mechanical")])
    finding = on_line(scanned(tmp_path, PROVIDERS, empty_cookbook), PROVIDERS, "# sql", "SQLExecuteQueryOperator")
    assert (finding.match.recipes, finding.match.effort, finding.match.pointer) == (["sql"], "mechanical", None)


def test_a_dag_is_matched_as_what_it_is_never_by_its_arguments(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "limits", [("DAG(max_active_runs=1)", "judgment")])
    source = """
    from airflow.sdk import DAG, dag

    @dag(schedule=None, max_active_runs=1)  # decorated
    def decorated():
        pass

    with DAG("classic", schedule=None, max_active_runs=1):  # classic
        pass
    decorated()
    """
    scan = scanned(tmp_path, source, root)
    decorated = on_line(scan, source, "# decorated", "dag")
    classic = on_line(scan, source, "# classic", "DAG")
    # Neither DAG is "explained" by the concept about its argument; @dag is not pointed at as DAG(...).
    assert decorated.match.recipes == classic.match.recipes == []
    assert decorated.match.concepts == classic.match.concepts == []
    assert "@flow on the same function" in (decorated.match.pointer or "")
    assert decorated.match.pointer != classic.match.pointer
    # The argument is the concept's.
    assert on_line(scan, source, "# decorated", "max_active_runs").match.recipes == ["limits"]
    assert on_line(scan, source, "# classic", "max_active_runs").match.recipes == ["limits"]


def test_schedule_none_is_nothing_to_do_not_the_child_of_a_trigger(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "trigger", [("TriggerDagRunOperator(trigger_dag_id=...)", "mechanical")])
    write_recipe(root, "trigger_child", [("the child DAG (schedule=None)", "mechanical")])
    source = 'from airflow.sdk import DAG\nwith DAG("child", schedule=None):  # child\n    pass\n'
    finding = on_line(scanned(tmp_path, source, root), source, "# child", "schedule")
    assert finding.match.recipes == [] and finding.match.effort == "nothing"
    # So with the project's own recipes, whose trigger_dag_run page has that very concept.
    finding = on_line(scanned(tmp_path, source, name="own.py"), source, "# child", "schedule")
    assert "trigger_dag_run" not in finding.match.recipes and finding.match.effort == "nothing"


def test_a_long_trigger_rule_keeps_its_value(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "rules", [('trigger_rule="none_failed_min_one_success"', "judgment")])
    source = """
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.utils.trigger_rule import TriggerRule

    with DAG("rules", schedule=None):
        EmptyOperator(task_id="a", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)  # enum
        EmptyOperator(task_id="b", trigger_rule="none_failed_min_one_success")  # string
        EmptyOperator(task_id="c", trigger_rule="all_done")  # other
    """
    scan = scanned(tmp_path, source, root)
    for marker in ("# enum", "# string"):
        rule = on_line(scan, source, marker, "trigger_rule")
        assert rule.label == "trigger_rule=none_failed_min_one_success" and rule.match.recipes == ["rules"]
    assert on_line(scan, source, "# other", "trigger_rule").match.recipes == []


def test_a_callable_of_the_example_dags_helpers_is_no_airflow_api(tmp_path: Path) -> None:
    source = """
    from airflow.sdk import DAG, task
    from airflow.example_dags.libs.helper import print_stuff

    with DAG("helper", schedule=None):
        @task
        def run():
            print_stuff()  # helper

        run()
    """
    scan = scanned(tmp_path, source)
    assert by_line(scan, textwrap.dedent(source).lstrip(), "# helper") == []


def test_one_construct_gets_one_grade_wherever_it_is_written(tmp_path: Path) -> None:
    source = """
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG("rows", schedule=None, default_args={"depends_on_past": False, "retries": 2}):  # defaults
        EmptyOperator(task_id="e", depends_on_past=False, retries=2)  # task
    """
    scan = scanned(tmp_path, source)
    for name in ("depends_on_past", "retries"):
        default = on_line(scan, source, "# defaults", name)
        direct = on_line(scan, source, "# task", name)
        assert (default.match.effort, default.match.recipes) == (direct.match.effort, direct.match.recipes), name
    # `default_args` itself is not what `TaskGroup(default_args=...)` is about.
    dict_use = on_line(scan, source, "# defaults", "default_args")
    assert dict_use.match.recipes and "task_groups" not in dict_use.match.recipes
    assert dict_use.match.effort == "mechanical"


AIRFLOW2 = """
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator
from airflow.operators.subdag import SubDagOperator

dag = DAG(
    "legacy",
    schedule_interval="@daily",  # interval
    start_date=datetime(2024, 1, 1),
    max_active_runs=1,  # runs
    default_args={"email_on_failure": True, "depends_on_past": True},  # defaults
)


def work(**context):
    return context["execution_date"]  # execution date


PythonOperator(task_id="work", python_callable=work, provide_context=True, dag=dag)  # operator
SubDagOperator(task_id="sub", subdag=None, dag=dag)  # subdag
"""


@pytest.mark.parametrize(
    ("marker", "name", "airflow3"),
    [
        ("# interval", "schedule_interval", "schedule="),
        ("# operator", "provide_context", "removed"),
        ("# operator", "PythonOperator", "airflow.providers.standard.operators.python"),
        ("# defaults", "email_on_failure", "SmtpNotifier"),
        ("# subdag", "SubDagOperator", "TaskGroup"),
        ("# execution date", 'context["execution_date"]', "logical_date"),
        # Unchanged in Airflow 3: read, and pointed at Prefect, with no Airflow 3 note.
        ("# defaults", "depends_on_past", None),
        ("# runs", "max_active_runs", None),
    ],
)
def test_airflow_2_idioms_point_at_airflow_3_and_at_prefect(
    tmp_path: Path, marker: str, name: str, airflow3: str | None
) -> None:
    finding = on_line(scanned(tmp_path, AIRFLOW2), AIRFLOW2, marker, name)
    if airflow3 is None:
        assert finding.airflow3 is None
    else:
        assert airflow3 in (finding.airflow3 or ""), finding.airflow3
        assert any(flag.startswith("Airflow 2") for flag in finding.flags)
    assert finding.match.effort != "none" and finding.dags == ["legacy"]


NEWER_SYNTAX = """
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

type Rows = list[dict[str, str]]


def first[T](items: list[T]) -> T:
    return items[0]


with DAG("modern", schedule="@daily", catchup=False):
    EmptyOperator(task_id=f"{ {"k": "v"}["k"] }")  # the task
"""


def test_a_file_needing_a_newer_python_is_parsed_by_one(tmp_path: Path) -> None:
    from cookbook.audit.newer import newest_interpreter

    interpreter = newest_interpreter()
    if interpreter is None or interpreter.version < (3, 12):
        pytest.skip("no Python 3.12 or newer on this machine")
    with pytest.raises(SyntaxError):
        compile(NEWER_SYNTAX, "modern.py", "exec")  # this interpreter cannot read it...
    scan = scanned(tmp_path, NEWER_SYNTAX, name="modern.py")
    # ...the newer one can: the DAG and its task are found where they are, and the note says how it was read.
    assert [d.dag_id for d in scan.dags] == ["modern"]
    assert on_line(scan, NEWER_SYNTAX, "# the task", "EmptyOperator").dags == ["modern"]
    assert scan.notes[0].severity == "info" and scan.notes[0].message.startswith(f"parsed with {interpreter.name}")


def test_a_file_that_does_not_parse_is_named_with_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cookbook.audit import walk

    dags = tmp_path / "dags"
    write(dags / "modern.py", NEWER_SYNTAX)
    write(dags / "broken.py", "from airflow.sdk import DAG\nwith DAG('broken',\n")
    result = cookbook("audit", str(dags))
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr
    assert "broken.py: syntax error at line 2" in " ".join(result.stdout.split())
    # With no newer Python to try, the file is named as needing one, not dropped.
    monkeypatch.setattr(walk, "newest_interpreter", lambda: None)
    report = audit(dags, PROJECT_ROOT)
    notes = {n.path: n.message for n in report.all_notes}
    assert "no newer Python found to try" in notes["modern.py"] and "syntax error at line" in notes["modern.py"]


def test_the_terminal_summary_fits_a_screen_and_the_detail_is_behind_a_flag(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "120"}
    run = [*COOKBOOK, "audit", str(CORPUS)]
    summary = subprocess.run(run, capture_output=True, text=True, timeout=120, env=env)
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    assert len(lines) <= 40
    # Coverage and effort first, right after the headline (which may wrap).
    assert lines[0].startswith("Audit of") and any(line.startswith("Coverage:") for line in lines[:3])
    assert "effort by use:" in summary.stdout and "--detail" in summary.stdout
    assert "Constructs, most used first" not in summary.stdout
    assert "broken.py" in summary.stdout  # a file not read is named even in the summary
    detail = subprocess.run([*run, "--detail"], capture_output=True, text=True, timeout=120, env=env)
    assert "Constructs, most used first" in detail.stdout and "DAGs" in detail.stdout


def test_the_written_reports_hold_every_finding_and_grade(tmp_path: Path) -> None:
    plan_md, plan_json = tmp_path / "plan.md", tmp_path / "plan.json"
    assert cookbook("audit", str(CORPUS), "--output", str(plan_md)).returncode == 0
    assert cookbook("audit", str(CORPUS), "--output", str(plan_json)).returncode == 0
    report = AuditReport.model_validate_json(plan_json.read_text(encoding="utf-8"))
    markdown = plan_md.read_text(encoding="utf-8")
    for heading in ("## Coverage", "## Constructs", "## DAGs", "## Per DAG", "## Notes", "## Recipes"):
        assert heading in markdown
    for row in report.constructs:
        assert f"| {row.uses} |" in markdown and row.label.split("(")[0] in markdown
        if row.pointer:
            assert row.pointer.replace("|", "\\|") in markdown
        if row.airflow3:
            assert f"Airflow 3: {row.airflow3}" in markdown


def test_the_corpus_coverage_is_the_figure_published_in_the_readme() -> None:
    report = audit(CORPUS, PROJECT_ROOT)
    coverage = report.coverage
    assert coverage.uses_percent >= 90 and not report.unmapped(), [r.label for r in report.unmapped()]
    assert {n.path for n in report.all_notes if n.severity == "skipped"} == {"broken.py"}
    assert [d.dag_id for s in report.files if s.path == "modern_syntax.py" for d in s.dags] == ["modern_syntax"]
    readme = " ".join((PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"{coverage.uses_percent:.0f}% of the {coverage.uses} construct uses" in readme


def test_override_of_an_imported_task_is_read(tmp_path: Path, empty_cookbook: Path) -> None:
    source = """
    from airflow.sdk import DAG
    from company.tasks import extract

    with DAG("reuse", schedule=None):
        extract.override(task_id="extract_eu", retries=2)("eu")  # imported task
        extract.override_something()  # not an override
    """
    scan = scanned(tmp_path, source, empty_cookbook)
    override = on_line(scan, source, "# imported task", "override")
    assert override.label == ".override()" and override.match.effort == "generic"
    assert on_line(scan, source, "# imported task", "retries").kind == "retry"
    assert by_line(scan, textwrap.dedent(source).lstrip(), "# not an override") == []


def test_a_concept_spelling_a_dict_s_keys_is_about_those_keys(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "retrying", [('default_args={"retries": ..., "retry_delay": ...}', "mechanical")])
    write_recipe(root, "mailing", [('default_args={"email": [...], "email_on_failure": True}', "judgment")])
    source = """
    from airflow.sdk import DAG

    with DAG("a", schedule=None, default_args={"retries": 1}):  # retries only
        pass
    with DAG("b", schedule=None, default_args={"email": ["x@example.com"], "retries": 1}):  # both
        pass
    """
    scan = scanned(tmp_path, source, root)
    retries_only = on_line(scan, source, "# retries only", "default_args")
    assert (retries_only.match.recipes, retries_only.match.effort) == (["retrying"], "mechanical")
    assert retries_only.keys == ["retries"]
    both = on_line(scan, source, "# both", "default_args")
    assert set(both.match.recipes) == {"retrying", "mailing"} and both.match.effort == "judgment"


def test_a_sensor_argument_is_matched_by_concepts_about_sensors_like_it(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "trigger", [("wait_for_completion=True, poke_interval", "mechanical")])
    write_recipe(root, "waiting", [('mode="poke" / "reschedule", poke_interval, timeout', "judgment")])
    write_recipe(
        root, "storage", [('S3KeySensor(bucket_key=..., poke_interval=..., timeout=..., mode="poke")', "mechanical")]
    )
    write_recipe(root, "sensing", [("sensor timeout / AirflowSensorTimeout", "mechanical")])
    source = """
    from airflow.sdk import DAG
    from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
    from airflow.providers.http.sensors.http import HttpSensor

    with DAG("sensing", schedule=None):
        HttpSensor(task_id="api", endpoint="health", poke_interval=60, timeout=600)  # http
        S3KeySensor(task_id="key", bucket_key="k", poke_interval=60, timeout=600)  # s3
    """
    scan = scanned(tmp_path, source, root)

    def recipes(marker: str, name: str) -> list[str]:
        return on_line(scan, source, marker, name).match.recipes

    # An HttpSensor's poke_interval is not TriggerDagRunOperator's (`wait_for_completion=True` is unmet), and its
    # timeout is not S3KeySensor's: the concepts about sensors in general decide.
    assert recipes("# http", "poke_interval") == ["waiting"]
    assert recipes("# http", "timeout") == ["sensing"]
    assert recipes("# s3", "poke_interval") == ["storage"]
    assert recipes("# s3", "timeout") == ["storage"]


def test_classes_building_an_argument_are_matched_as_that_argument(tmp_path: Path) -> None:
    root = tmp_path / "cookbook"
    write_recipe(root, "retrying", [("retry_policy=ExceptionRetryPolicy(rules=[RetryRule(...)])", "mechanical")])
    source = """
    from airflow.sdk import DAG, task
    from airflow.sdk.definitions.retry import ExceptionRetryPolicy, RetryRule

    POLICY = ExceptionRetryPolicy(rules=[RetryRule(ValueError)])  # the policy

    with DAG("policy", schedule=None):
        @task(retry_policy=POLICY)
        def work(): ...

        work()
    """
    scan = scanned(tmp_path, source, root)
    for name in ("ExceptionRetryPolicy", "RetryRule"):
        assert on_line(scan, source, "# the policy", name).match.recipes == ["retrying"], name
