"""Which recipe shows a construct's Prefect equivalent: read from the recipes' `concepts` at run time, nowhere else.

A concept's `airflow` text names the construct the way a user would grep for it, and this module reads it so:

1. The text is split on ` / ` into alternatives (`@task.sensor / PythonSensor / PokeReturnValue`); each matches alone.
2. `name=value` is a keyword argument the concept is about: a requirement (`FileSensor(mode="reschedule")`), unless
   it sits in brackets that follow prose rather than a call (`the child DAG (schedule=None)` is about the child DAG,
   which a site cannot be told to be: not about every `schedule=None`).
   Values are normalised as the scanner normalises a DAG's (`TriggerRule.ALL_DONE` is `all_done`, any cron string is
   `cron`). A value is only required as written when it is a category: True, False, None, or the value of an
   argument that takes one of a fixed set (`trigger_rule`, `mode`, `schedule`, Param's `type`...). Any other value
   (`pool="warehouse"`, `retries=2`) is an example and means any value, as `...` does.
3. `{{ ... }}` and `{% ... %}` name template constructs the scanner's way: `{{ params.x }}` is `{{ params }}`.
4. Other identifiers are construct names when they look like code: `@decorator`, `call(`, `dotted.name`,
   `snake_case`, `CamelCase` or `XCom`. Plain words are prose and ignored, unless the alternative is one word
   (`params`). `Class.method` also names `Class`; `receiver.method(` with a lower-case receiver also names `method`,
   since receivers vary (`ti.xcom_pull(` names `xcom_pull`). `context["ti"]` (with any `.attr`) names the context
   access the scanner reports the same way whatever the variable is called; `>>` and `<<` name a dependency. A word
   right after "without", "no" or "not" is an excluded argument, whatever it looks like: the concept does not apply
   where it is passed, unless as False or None (`BashOperator(env=...) without append_env`).
5. A construct whose name is a phrase (`generated in a loop`) matches an alternative that contains the phrase.

A finding is matched by its name, then by each alias in turn, until one is named by some alternatives (a keyword
argument counts as a name: `soft_fail=True` names `soft_fail`). An operator's own keyword arguments also match the
alternatives that are about that argument alone (`skip_on_exit_code=99`). Positional arguments of the calls concepts
write with keywords count as those keywords (`ti.xcom_pull("push")` passes `task_ids`).

Alternatives the site contradicts are dropped: an excluded argument is there, an argument has another literal value
(`schedule="@daily"` shows nothing about `schedule=None`), or the alternative spells out arguments (`name=...`) and
the site passes none of them (`DAG(on_success_callback=...)` is about that argument, not about every DAG; a value
like `mode="poke"` alone does not count, as it may be the default; nor do the user's own parameter names that
`.expand(x=...)` passes). The remaining alternatives are ranked by how many of their requirements the site meets,
then by whether it meets them all; the best ranked decide, their recipes are listed (with those of any remaining
alternative naming the construct itself) and the effort is the highest among them (an alternative that meets fewer
requirements shows less of the site: `wait_for_completion=True, poke_interval` is not what a sensor's
`poke_interval` needs). When none is met at all, the first alternative decides,
as a recipe lists its baseline concept first. A site
flagged `parse time` meets a concept that says "parse time". Concepts naming classes none of which is the site's
(`TaskGroup(default_args=...)` for a DAG's `default_args`, `groups[a] >> groups[b]` for a plain `a >> b`) only count
for DAG arguments, `default_args` and dependencies when no other concept matches.

Where no recipe matches, the vocabulary answers (`vocabulary.fallback`) with a grade of its own: `nothing` (Prefect
needs no counterpart: `catchup=False`) or `generic` (a pointer such as a provider's integration package); those
never name a recipe. A DAG's own finding is matched by what it is (`@dag`, `DAG(...)`), not by its arguments, which
are findings of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cookbook.audit.findings import EFFORT_ORDER, Effort, Finding, Match
from cookbook.audit.vocabulary import (
    ANY,
    CATEGORICAL_ARGS,
    PARSE_TIME,
    SENSOR_ARGS,
    TASK_ARGS,
    fallback,
    normalise_text,
    template_constructs,
)
from cookbook.recipe import Recipe, RecipeError, load_recipe

_ALTERNATIVES = re.compile(r"\s+/\s+")
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_KWARG = re.compile(r"(?<![\w.=])([A-Za-z_]\w*)=(?!=)")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_NAME = re.compile(r"(@?)([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(\()?")
_NEGATION = re.compile(r"\b(?:without|no|not)\s+$")
_CONTEXT_KEY = re.compile(r"\bcontext\[([\"'])(\w+)\1\](\.\w+)?")
_SHIFT = re.compile(r"(?<![<>])(>>|<<)(?![<>=])")
_TASK_KINDS = frozenset({"operator", "sensor", "taskflow"})
# Scanner flags a concept can ask for in words: "Variable.get at the top of a DAG file (parse time)".
FLAG_PHRASES = (PARSE_TIME,)


@dataclass(frozen=True)
class Pattern:
    """One alternative of one concept, read as rules 1-5 say."""

    recipe: str
    airflow: str
    effort: Effort
    names: frozenset[str]
    kwargs: tuple[tuple[str, str], ...]
    excluded: frozenset[str]
    text: str
    # A dict argument spelled with its keys (`default_args={"retries": ...}`): about those keys, not any dict.
    keys: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def about_a_keyword(self) -> bool:
        return not self.names and bool(self.kwargs)

    def fit(
        self, kwargs: dict[str, str], flags: list[str], own_names: bool = False, keys: frozenset[str] = frozenset()
    ) -> tuple[int, bool] | None:
        """(requirements the site meets, whether it meets them all), or None when the site contradicts the concept:
        an excluded argument is there, or an argument has another literal value (`mode="poke"` at a reschedule).
        A value the scanner could not read (a variable) neither meets nor contradicts a literal requirement.
        `own_names`: the site's keywords are the user's own parameter names (`add.expand(x=...)`), so a concept's
        argument names there are placeholders (`task.expand(arg=...)`), never missing."""
        if any(kwargs.get(name, "False") not in ("False", "None") for name in self.excluded):
            return None  # `append_env=False` is still "without append_env"
        if keys and any(name in kwargs and not wanted & keys for name, wanted in self.keys):
            return None  # `default_args={"email": ...}` shows nothing about a dict of retries
        met = 0
        for name, value in self.kwargs:
            given = kwargs.get(name)
            if given is None or (given == ANY and value != ANY):
                continue
            if value not in (ANY, given):
                return None
            met += 1
        if met == 0 and not own_names and any(value == ANY for _, value in self.kwargs):
            return None  # about arguments the site does not pass: `DAG(on_success_callback=...)` at a bare DAG
        wanted = [flag for flag in FLAG_PHRASES if flag in self.text]
        met += sum(flag in flags for flag in wanted)
        return met, met == len(self.kwargs) + len(wanted)


def _is_code_case(word: str) -> bool:
    """CamelCase or XCom: an upper-case letter after the first, and a lower-case one somewhere."""
    return any(c.isupper() for c in word[1:]) and any(c.islower() for c in word)


def _value_end(text: str, start: int) -> int:
    """Where a keyword argument's value ends: a comma, a closing bracket or a space, outside brackets and quotes."""
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return index
            depth -= 1
        elif depth == 0 and (char == "," or char.isspace()):
            return index
    return len(text)


def _prose_brackets(text: str) -> list[tuple[int, int]]:
    """Spans of brackets that follow a space, not a name: `the child DAG (schedule=None)` describes the child DAG."""
    spans, stack = [], []
    for index, char in enumerate(text):
        if char == "(":
            stack.append((index, index == 0 or text[index - 1].isspace()))
        elif char == ")" and stack:
            start, prose = stack.pop()
            if prose:
                spans.append((start, index))
    return spans


def dict_keys(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """The keys of the dict literals an alternative passes: `default_args={"retries": ...}` -> default_args: retries."""
    rest = _TEMPLATE.sub(" ", text)
    found = []
    for match in _KWARG.finditer(rest):
        value = rest[match.end() : _value_end(rest, match.end())]
        if value.startswith("{"):
            keys = frozenset(re.findall(r"[\"'](\w+)[\"']\s*:", value))
            if keys:
                found.append((match.group(1), keys))
    return tuple(found)


def read_alternative(text: str) -> tuple[set[str], dict[str, str], set[str]]:
    """(construct names, keyword requirements, excluded names) of one alternative."""
    names = set(template_constructs(text))
    rest = _TEMPLATE.sub(" ", text)
    for match in _CONTEXT_KEY.finditer(rest):
        names.add(f'context["{match.group(2)}"]' + (match.group(3) or ""))
    # The subscript is blanked, its `.method(` stays: `context["ti"].xcom_pull(task_ids=...)` passes task_ids.
    rest = _CONTEXT_KEY.sub(lambda m: " " * (m.end(0) - m.start(0) - len(m.group(3) or "")) + (m.group(3) or ""), rest)
    names.update(match.group(1) for match in _SHIFT.finditer(rest))
    prose = _prose_brackets(rest)
    kwargs: dict[str, str] = {}
    blanked = list(rest)
    position = 0
    while match := _KWARG.search(rest, position):
        name = match.group(1)
        # The search goes on after the value, so `timedelta(seconds=1)` inside it is no requirement of its own.
        position = _value_end(rest, match.end())
        value = normalise_text(name, rest[match.end() : position]) if position > match.end() else ANY
        if not any(start < match.start() < end for start, end in prose):
            kwargs[name] = value if value in ("True", "False", "None") or name in CATEGORICAL_ARGS else ANY
        blanked[match.start() : position] = " " * (position - match.start())
    rest = _QUOTED.sub(lambda m: " " * len(m.group(0)), "".join(blanked))
    one_word = re.fullmatch(r"\s*[A-Za-z_]\w*\s*", text) is not None
    excluded: set[str] = set()
    for match in _NAME.finditer(rest):
        at, name, call = match.groups()
        negated = _NEGATION.search(rest[: match.start()]) is not None
        if not (at or call or "_" in name or "." in name or _is_code_case(name) or one_word or negated):
            continue
        derived = {name}
        if "." in name and not at:
            head, last = name.split(".", 1)[0], name.rsplit(".", 1)[1]
            if head[:1].isupper():
                derived.add(head)
            elif call:
                derived.add(last)
        (excluded if negated else names).update(derived)
    return names, kwargs, excluded


class Catalog:
    """The concepts of a cookbook's recipes, indexed by the construct names they mention."""

    def __init__(self, patterns: Iterable[Pattern], titles: dict[str, str], problems: list[str] | None = None) -> None:
        self.patterns = list(patterns)
        self.titles = titles
        self.problems = problems or []
        self.by_name: dict[str, list[Pattern]] = {}
        self.by_keyword: dict[str, list[Pattern]] = {}
        for pattern in self.patterns:
            for name in pattern.names | {k for k, _ in pattern.kwargs}:
                self.by_name.setdefault(name, []).append(pattern)
            if pattern.about_a_keyword:
                for name, _ in pattern.kwargs:
                    self.by_keyword.setdefault(name, []).append(pattern)

    @classmethod
    def from_recipes(cls, root: Path) -> Catalog:
        """Every readable recipe's concepts; a page that does not load is named in `problems`, not fatal, since an
        audit of someone's DAGs should not fail over a recipe being edited."""
        recipes: list[Recipe] = []
        problems: list[str] = []
        for page in sorted((root / "recipes").glob("*.md")):
            try:
                recipes.append(load_recipe(page))
            except RecipeError as exc:
                problems.append(str(exc))
        recipes.sort(key=lambda r: (r.meta.order, r.name))
        patterns = []
        titles = {}
        for recipe in recipes:
            titles[recipe.name] = recipe.meta.title
            for concept in recipe.meta.concepts:
                for alternative in _ALTERNATIVES.split(concept.airflow):
                    names, kwargs, excluded = read_alternative(alternative)
                    # Prose alone ("sensor timeout") indexes nothing, but a construct named by a phrase matches it.
                    patterns.append(
                        Pattern(
                            recipe=recipe.name,
                            airflow=concept.airflow,
                            effort=concept.effort,
                            names=frozenset(names),
                            kwargs=tuple(kwargs.items()),
                            excluded=frozenset(excluded),
                            text=alternative.lower(),
                            keys=dict_keys(alternative),
                        )
                    )
        return cls(patterns, titles, problems)

    def match(self, finding: Finding) -> Match:
        """The recipes' answer; where none has one, the vocabulary's (`nothing` to do, or a `generic` pointer)."""
        found = self._match_recipes(finding)
        if found.recipes:
            return found
        graded = fallback(finding)
        if graded is None:
            return found
        effort, pointer = graded
        return Match(effort=effort, pointer=pointer, via=finding.name)

    def _match_recipes(self, finding: Finding) -> Match:
        # First with the concepts about the site's own class (or none), then, if none fits, with any class's.
        for strict in (True, False):
            for ident in [finding.name, *finding.aliases]:
                found = self.by_name.get(ident, [])
                if not found and " " in ident and not ident.startswith(("{{", "{%")):
                    found = [p for p in self.patterns if ident.lower() in p.text]
                # A DAG's arguments are findings of their own: the DAG is matched by what it is, not by them.
                kwargs = finding.kwargs if finding.kind != "dag" else {}
                if ident != finding.name and finding.name in kwargs:
                    # `schedule_interval=...` matched as `schedule`: its value answers the concept's `schedule=...`.
                    kwargs = {**kwargs, ident: kwargs[finding.name]}
                match = self._decide(found, kwargs, finding, ident, strict)
                if match.recipes:
                    return match
            match = self._decide([], finding.kwargs if finding.kind != "dag" else {}, finding, None, strict)
            if match.recipes:
                return match
        return Match()

    def _decide(
        self, hits: list[Pattern], kwargs: dict[str, str], finding: Finding, via: str | None, strict: bool = False
    ) -> Match:
        extra: list[Pattern] = []
        # An in-house operator's arguments are its own, whatever Airflow operator has an argument of the same name.
        if finding.kind in _TASK_KINDS and "custom" not in finding.flags:
            for name in kwargs:
                # Arguments every task takes are findings of their own; only an operator's own ones count here.
                if name not in TASK_ARGS and name not in SENSOR_ARGS and not name.endswith("conn_id"):
                    extra.extend(self.by_keyword.get(name, []))
        own_names = finding.kind == "mapping"
        keys = frozenset(finding.keys)
        fits = {p: p.fit(kwargs, finding.flags, own_names, keys) for p in dict.fromkeys(hits + extra)}
        matched = [p for p, fit in fits.items() if fit is not None]
        if finding.owner or finding.kind in ("dependency", "default_args"):
            # An argument of one class is not what a concept about another class's argument shows (an HttpSensor's
            # `timeout` is not `S3KeySensor(timeout=...)`), nor is `a >> b` what `groups[a] >> groups[b]` of
            # TaskGroups is: such concepts count only when nothing else matches (the lenient pass).
            own = [p for p in matched if not self._about_another_class(p, finding)]
            matched = own if strict else own or matched
            fits = {p: fits[p] for p in matched}
        if not matched:
            return Match()
        best = max(fit for fit in fits.values() if fit is not None)
        chosen = [p for p in matched if fits[p] == best] if best != (0, False) else matched[:1]
        effort = max((p.effort for p in chosen), key=EFFORT_ORDER.__getitem__)
        if via is None or not any(p in hits for p in chosen):
            via = next((name for name, _ in chosen[0].kwargs if name in kwargs), via)
        # A concept naming the construct itself always lists its recipe (`BranchPythonOperator` is the branching
        # recipe's even where its `provide_context=True` ranks another concept first).
        named = [p for p in matched if finding.name in p.names] if finding.kind in _TASK_KINDS | {"hook"} else []
        return Match(
            recipes=list(dict.fromkeys(p.recipe for p in [*chosen, *named])),
            effort=effort,
            concepts=list(dict.fromkeys(p.airflow for p in chosen)),
            via=via,
        )

    @staticmethod
    def _about_another_class(pattern: Pattern, finding: Finding) -> bool:
        classes = {name for name in pattern.names if name[:1].isupper() and "." not in name}
        owner = (finding.owner or "").lstrip("@")
        return bool(classes) and not classes & {owner, finding.name, *finding.aliases}

    def annotate(self, findings: Iterable[Finding]) -> None:
        # A thousand DAG files repeat the same few hundred sites (`BashOperator` with the same arguments): match each
        # distinct one once.
        cache: dict[tuple[object, ...], Match] = {}
        for finding in findings:
            key = (
                finding.kind,
                finding.name,
                finding.module,
                finding.owner,
                *finding.aliases,
                *finding.flags,
                *finding.keys,
                *sorted(finding.kwargs.items()),
            )
            if key not in cache:
                cache[key] = self.match(finding)
            finding.match = cache[key].model_copy()
