"""Mutation testing: each operator's exact change, ids that survive unrelated edits, what is never mutated, and one
mutant of a real recipe killed on the real engines."""

from __future__ import annotations

import ast
import textwrap

import pytest
from conftest import Runs

from cookbook.mutation.mutants import Mutant, cap, mutants_of
from cookbook.mutation.runner import baseline_of, judge, scratch_cookbook
from cookbook.recipe import PROJECT_ROOT, load_recipe


def source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def mutant(text: str, mutant_id: str) -> Mutant:
    found = {m.id: m for m in mutants_of(text).all}
    assert mutant_id in found, f"{mutant_id} not among {sorted(found)}"
    return found[mutant_id]


def replaced(text: str, old: str, new: str) -> str:
    """`text` with its one occurrence of `old` replaced: the mutated source a test expects."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


FETCH = source(
    """
    from prefect import flow, task


    @task(retries=2, retry_delay_seconds=5)
    def fetch(n: int = 3, scale: float = 0.5) -> float:
        if n < 0:
            raise ValueError("negative")
        return n * scale
    """
)


def test_drop_retries_removes_one_keyword_of_the_decorator() -> None:
    assert mutant(FETCH, "drop_retries:fetch:1").source == replaced(
        FETCH, "@task(retries=2, retry_delay_seconds=5)", "@task(retry_delay_seconds=5)"
    )
    assert mutant(FETCH, "drop_retries:fetch:2").source == replaced(
        FETCH, "@task(retries=2, retry_delay_seconds=5)", "@task(retries=2)"
    )
    assert mutant(FETCH, "drop_retries:fetch:1").description == (
        "line 4: @task(retries=2, retry_delay_seconds=5) -> @task(retry_delay_seconds=5)"
    )


def test_drop_retries_in_with_options_and_in_a_spread_option_dict() -> None:
    text = source(
        """
        from prefect import flow, task

        OPTIONS = {"retries": 3, "tags": ["x"]}


        @task(**OPTIONS)
        def load() -> None:
            pass


        @flow
        def pipeline() -> None:
            load.with_options(retries=1, name="again")()
        """
    )
    assert mutant(text, "drop_retries:OPTIONS:1").source == replaced(
        text, '{"retries": 3, "tags": ["x"]}', "{'tags': ['x']}"
    )
    assert mutant(text, "drop_retries:pipeline:1").source == replaced(
        text, 'load.with_options(retries=1, name="again")', "load.with_options(name='again')"
    )


@pytest.mark.parametrize(
    ("op", "negated"),
    [("<", ">="), (">=", "<"), ("<=", ">"), (">", "<="), ("==", "!="), ("!=", "=="), ("in", "not in"),
     ("not in", "in"), ("is", "is not"), ("is not", "is")],
)  # fmt: skip
def test_flip_comparison_negates_the_operator(op: str, negated: str) -> None:
    text = f"def check(a, b):\n    return a {op} b\n"
    assert mutant(text, "flip_comparison:check:1").source == f"def check(a, b):\n    return a {negated} b\n"


def test_flip_comparison_makes_one_mutant_per_operator_of_a_chain() -> None:
    text = "def within(x):\n    return 0 < x <= 10\n"
    assert mutant(text, "flip_comparison:within:1").source == "def within(x):\n    return 0 >= x <= 10\n"
    assert mutant(text, "flip_comparison:within:2").source == "def within(x):\n    return 0 < x > 10\n"


def test_swallow_exception_returns_none_instead_of_raising() -> None:
    assert mutant(FETCH, "swallow_exception:fetch:1").source == replaced(
        FETCH, 'raise ValueError("negative")', "return None"
    )


def test_change_constant_in_body_defaults_and_decorator() -> None:
    assert mutant(FETCH, "change_constant:fetch:1").source == replaced(FETCH, "retries=2", "retries=3")
    assert mutant(FETCH, "change_constant:fetch:2").source == replaced(
        FETCH, "retry_delay_seconds=5", "retry_delay_seconds=6"
    )
    assert mutant(FETCH, "change_constant:fetch:3").source == replaced(FETCH, "n: int = 3", "n: int = 4")
    assert mutant(FETCH, "change_constant:fetch:4").source == replaced(
        FETCH, "scale: float = 0.5", "scale: float = 1.0"
    )
    assert mutant(FETCH, "change_constant:fetch:5").source == replaced(FETCH, "if n < 0:", "if n < 1:")
    assert mutant(FETCH, "change_constant:fetch:3").description == "line 5: n=3 -> n=4"


def test_change_constant_skips_annotations_strings_and_bools() -> None:
    text = source(
        """
        from typing import Annotated, Literal

        from pydantic import Field


        def pick(count: Annotated[int, Field(ge=0)] = 0, ratio: float = 0.0) -> Literal[1, 2]:
            limit: Annotated[int, Field(le=9)] = 7
            flag = True
            return {"name": "7", "flag": flag, "limit": limit, "count": count, "ratio": ratio}
        """
    )
    changes = {m.id: m.source for m in mutants_of(text).all if m.operator == "change_constant"}
    assert changes == {
        "change_constant:pick:1": replaced(text, "= 0, ratio", "= 1, ratio"),
        "change_constant:pick:2": replaced(text, "ratio: float = 0.0", "ratio: float = 1.0"),
        "change_constant:pick:3": replaced(text, "= 7", "= 8"),
    }


def test_negate_branch_wraps_if_elif_ternary_and_while_tests() -> None:
    text = source(
        """
        def step(n):
            if n > 5:
                return "big"
            elif n == 0:
                return "zero"
            while n:
                n -= 1
            return "odd" if n % 2 else "even"
        """
    )
    expected = {
        "negate_branch:step:1": replaced(text, "if n > 5:", "if not (n > 5):"),
        "negate_branch:step:2": replaced(text, "elif n == 0:", "elif not (n == 0):"),
        "negate_branch:step:3": replaced(text, "while n:", "while not (n):"),
        "negate_branch:step:4": replaced(text, '"odd" if n % 2 else', '"odd" if not (n % 2) else'),
    }
    assert {m.id: m.source for m in mutants_of(text).all if m.operator == "negate_branch"} == expected


def test_return_nothing_replaces_a_returned_value_only() -> None:
    text = source(
        """
        def total(rows):
            if not rows:
                return
            if rows == [0]:
                return None
            return sum(rows)
        """
    )
    returns = {m.id: m.source for m in mutants_of(text).all if m.operator == "return_nothing"}
    assert returns == {"return_nothing:total:1": replaced(text, "return sum(rows)", "return None")}


def test_a_mutant_keeps_the_rest_of_the_file_as_written() -> None:
    text = source(
        """
        # a comment kept
        def f(x):  # and this one
            y = [
                x,  # inside a bracket
                2,
            ]
            return y
        """
    )
    assert mutant(text, "change_constant:f:1").source == replaced(text, "2,", "3,")


def test_a_change_that_does_not_compile_is_dropped() -> None:
    # `return None` in an async generator is a syntax error, so raising there cannot be swallowed.
    text = "async def numbers():\n    yield 1\n    raise RuntimeError('done')\n"
    found = mutants_of(text)
    assert "swallow_exception:numbers:1" in found.dropped
    assert all(m.operator != "swallow_exception" for m in found.all)


def test_ids_survive_an_unrelated_edit_of_the_file() -> None:
    helper = "LIMIT = 10\n\n\ndef helper(x):\n    if x > 1 and x != 3:\n        raise KeyError(x)\n    return x * 2\n"
    edited = replaced(FETCH, "@task(retries=2", f"{helper}\n\n@task(retries=2")
    edited = edited + "\n\n@flow\ndef later(a):\n    return a < 4\n"

    def fetch_mutants(text: str) -> dict[str, tuple[str, str]]:
        return {m.id: (m.before, m.after) for m in mutants_of(text).all if m.scope == "fetch"}

    assert fetch_mutants(edited) == fetch_mutants(FETCH)
    assert len(fetch_mutants(FETCH)) == 11
    assert {m.scope for m in mutants_of(edited).all} == {"fetch", "helper", "later"}


def test_main_blocks_deployments_imports_and_module_constants_are_never_mutated() -> None:
    text = source(
        """
        import sys
        from prefect import flow

        RETRIES = 3
        LIMITS = {"retries": 2}


        @flow(retries=1)
        def nightly(n: int = 1) -> int:
            return n + 1


        def deployments():
            if len(sys.argv) > 1:
                raise SystemExit(2)
            return [nightly.to_deployment(name="nightly", interval=60, parameters={"n": 2})]


        if __name__ == "__main__":
            if nightly(3) != 4:
                raise SystemExit(1)
            print(nightly(n=5))
        """
    )
    found = mutants_of(text).all
    assert found and {m.scope for m in found} == {"nightly"}
    lines = text.splitlines()
    guarded = {i for i, line in enumerate(lines) if i >= lines.index("def deployments():")} | set(range(6))
    for m in found:
        mutated = m.source.splitlines()
        assert [mutated[i] for i in sorted(guarded)] == [lines[i] for i in sorted(guarded)], m.id


def test_cap_spreads_over_the_scopes_of_the_file() -> None:
    text = "".join(f"def f{i}():\n    return [1, 2, 3]\n\n\n" for i in range(3))
    constants = [m for m in mutants_of(text).all if m.operator == "change_constant"]
    chosen = [m.id for m in cap(constants, 4)]
    assert chosen == ["change_constant:f0:1", "change_constant:f0:2", "change_constant:f1:1", "change_constant:f2:1"]
    assert len(cap(constants, 0)) == 9


def test_every_mutant_of_every_flow_compiles_and_differs() -> None:
    for flow_file in sorted((PROJECT_ROOT / "prefect_flows").glob("*.py")):
        text = flow_file.read_text(encoding="utf-8")
        original = ast.dump(ast.parse(text))
        found = mutants_of(text, str(flow_file))
        assert len({m.id for m in found.all}) == len(found.all), flow_file.name
        for m in found.all:
            assert ast.dump(ast.parse(m.source)) != original, m.id


@pytest.mark.parity
def test_dropping_a_retry_is_killed_on_the_real_engines(runs: Runs) -> None:
    recipe = runs.recipes["retries"]
    case = recipe.cases_by_name["recovers"]  # load_orders fails once: without `retries=4` the run fails
    run, _ = runs.get("retries", "recovers")
    assert run.verdict.parity, run.verdict.differences  # the unmutated flow is at parity
    dropped = mutant(recipe.flow_file.read_text(encoding="utf-8"), "drop_retries:load_orders:1")
    with scratch_cookbook(PROJECT_ROOT) as root:
        scratch = load_recipe(root / "recipes" / "retries.md")
        base = baseline_of(scratch, case, run, run.prefect.duration_seconds)
        result = judge(runs.harness, scratch, dropped, [base], progress=lambda message: None)
    assert (result.status, result.killed_by, result.timed_out) == ("killed", "recovers", False), result.detail
    assert "load_orders" in result.detail


@pytest.mark.parity
def test_retrying_at_once_is_killed_by_the_measured_waits(runs: Runs) -> None:
    # Without retry_delay_seconds the task still recovers on its third try: only the waits between tries differ.
    recipe = runs.recipes["retries"]
    case = recipe.cases_by_name["recovers"]
    run, _ = runs.get("retries", "recovers")
    assert run.verdict.parity, run.verdict.differences
    at_once = mutant(recipe.flow_file.read_text(encoding="utf-8"), "drop_retries:TASK_DEFAULTS:2")
    with scratch_cookbook(PROJECT_ROOT) as root:
        scratch = load_recipe(root / "recipes" / "retries.md")
        base = baseline_of(scratch, case, run, run.prefect.duration_seconds)
        result = judge(runs.harness, scratch, at_once, [base], progress=lambda message: None)
    assert (result.status, result.killed_by) == ("killed", "recovers"), result.detail
    assert "retry wait of fetch_orders" in result.detail and "attempts" not in result.detail
