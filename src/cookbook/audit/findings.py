"""The typed results of an audit: what the scanner found in each file, and what the catalog made of it.

The scanner fills `Finding`s without knowing any recipe; the catalog then sets each one's `match`. Everything here
serialises as is into the `--format json` report, so a migration plan can be built on it by other tools.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Effort = Literal["nothing", "mechanical", "judgment", "redesign", "generic", "none"]
"""How much work a construct takes to migrate. `mechanical`, `judgment` and `redesign` come from a recipe's concept;
`nothing` is a setting Prefect needs no counterpart for (`catchup=False`), `generic` a pointer the audit's vocabulary
gives where no recipe shows the construct (a provider operator without a recipe); `none` means neither."""

EFFORT_ORDER: dict[Effort, int] = {"nothing": 0, "mechanical": 1, "judgment": 2, "redesign": 3, "generic": 4, "none": 5}
EFFORT_LABEL: dict[Effort, str] = {
    "nothing": "nothing to do",
    "mechanical": "mechanical",
    "judgment": "needs judgment",
    "redesign": "needs redesign",
    "generic": "generic pointer",
    "none": "not mapped",
}
RECIPE_EFFORTS: frozenset[Effort] = frozenset({"mechanical", "judgment", "redesign"})

Kind = Literal[
    "dag",
    "operator",
    "sensor",
    "hook",
    "custom_class",
    "taskflow",
    "mapping",
    "task_group",
    "setup_teardown",
    "trigger_rule",
    "schedule",
    "catchup",
    "default_args",
    "retry",
    "timeout",
    "callback",
    "notification",
    "pool",
    "priority",
    "executor",
    "dependency",
    "concurrency",
    "deferrable",
    "sensor_setting",
    "param",
    "variable",
    "connection",
    "template",
    "xcom",
    "asset",
    "exception",
    "dag_setting",
    "airflow_api",
    "context",
    "callable",
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(Model):
    """The recipes that show a construct's Prefect equivalent, and the effort their concepts give it."""

    recipes: list[str] = Field(default_factory=list)
    effort: Effort = "none"
    concepts: list[str] = Field(default_factory=list, description="The `airflow` text of the concepts that decided.")
    via: str | None = Field(None, description="The identifier that matched: the construct itself or an alias.")
    pointer: str | None = Field(
        None, description="For `nothing` and `generic`: what to do in Prefect, from the audit's vocabulary."
    )

    @property
    def covered(self) -> bool:
        """A recipe, a generic pointer, or nothing to do: the construct has an answer."""
        return self.effort != "none"


class Finding(Model):
    """One use of an Airflow construct at one place in a file."""

    kind: Kind
    name: str = Field(description="The identifier matched against recipe concepts, e.g. `BashOperator`.")
    label: str = Field(description="How the report names it, e.g. `trigger_rule=all_done`.")
    line: int
    aliases: list[str] = Field(
        default_factory=list, description="More general identifiers, tried in order when the construct matches none."
    )
    kwargs: dict[str, str] = Field(
        default_factory=dict, description="Keyword arguments at the site, values normalised (`...` = not a literal)."
    )
    detail: str | None = None
    module: str | None = Field(None, description="Where the name was imported from, when it was.")
    flags: list[str] = Field(default_factory=list, description="e.g. `parse time`, `custom`, `Airflow 2 path`.")
    airflow3: str | None = Field(None, description="For an Airflow 2 idiom: what Airflow 3 has instead.")
    owner: str | None = Field(None, description="Whose argument it is, where that decides the match: `DAG`.")
    keys: list[str] = Field(default_factory=list, description="For a dict argument (`default_args`): its keys.")
    dags: list[str] = Field(default_factory=list, description="The DAGs of the file that use it; empty: module level.")
    match: Match = Field(default_factory=Match)


class Dag(Model):
    """A DAG definition: `with DAG(...)`, `DAG(...)`, `@dag` or `@asset`."""

    key: str = Field(description="Unique within the file: the dag_id, with `@line` added if it repeats.")
    dag_id: str
    line: int
    how: Literal["with", "call", "decorator", "asset"]
    schedule: str | None = None
    flags: list[str] = Field(default_factory=list, description="e.g. `generated in a loop`, `factory create_dag()`.")


Severity = Literal["skipped", "info"]


class Note(Model):
    """Something the audit could not do, or a file it read that holds no DAG."""

    path: str
    severity: Severity
    message: str


class FileScan(Model):
    path: str = Field(description="Relative to the audited folder, with `/` separators.")
    size: int = 0
    dags: list[Dag] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
