"""Pipeline work done ahead, where the article is parsed: the parse worker's prepare steps.

A pipeline whose work is a pure function of the article may declare a PrepareStep (its
`prepare_step` class attribute). The spider hands the enabled pipelines' steps to the parse
worker with the page (crawler/pages/parse.py, parse_page), which runs them on the Article in
pipeline order (run_steps) and records each result with its basis: the values of the fields
the result stands for. The Article carries the records back across the worker's pipe in its
`preparation` attribute, which is not a field (nothing new is stored or becomes an item
field). The pipeline then takes its record (take): the result if the item's fields are still
what the worker left, MISSING otherwise (a stage in between changed them), and then it does
the work itself. Either way the item comes out the same; only where the CPU is spent moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from crawler.items import Article

__all__ = ["MISSING", "PrepareStep", "Prepared", "done", "run_steps", "take"]


class _Missing:
    """The type of MISSING (one instance; it keeps its identity across pickling)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # take(): no usable record, the pipeline does the work itself


class PrepareStep(Protocol):
    """A pipeline's work done in the parse worker. Pickled with every page sent to a worker,
    so a step is an instance of a module-level class (pickled by reference) with no state.

    `run` does the work on the article and returns (result, basis): what the pipeline would
    otherwise compute, and the field values that result stands for; or None when it leaves
    the work to the pipeline (a field it cannot handle). `basis` gives the item's current
    values of those same fields, for take() to compare with what run() recorded: values
    compare as the same object or equal, so a mutable field's value is given as a copy (a
    list changed in place would otherwise still be "the same")."""

    name: str

    def run(self, article: Article) -> tuple[Any, tuple[Any, ...]] | None: ...

    def basis(self, item: Any) -> tuple[Any, ...]: ...


@dataclass(frozen=True)
class Prepared:
    """One step's record on an article: its result, and the field values it stands for."""

    result: Any
    basis: tuple[Any, ...]


def run_steps(article: Any, steps: tuple[PrepareStep, ...] | list[PrepareStep]) -> Any:
    """Run `steps` on `article` in order, recording each on it; returns the article. An item
    that takes no attributes gets no steps run: no pipeline could take what they did."""
    if not steps:
        return article
    records: dict[str, Prepared] = {}
    try:
        article.preparation = records
    except AttributeError:
        return article
    for step in steps:
        outcome = step.run(article)
        if outcome is not None:
            result, basis = outcome
            records[step.name] = Prepared(result, tuple(basis))
    return article


def done(article: Any, name: str) -> bool:
    """Whether the step called `name` ran on `article` and its record is still there."""
    records = getattr(article, "preparation", None)
    return bool(records) and name in records


def take(item: Any, step: PrepareStep) -> Any:
    """The result `step` recorded on `item` if the item's fields are still its basis, else
    MISSING. Removes the record: a result is taken once."""
    records = getattr(item, "preparation", None)
    if not records:
        return MISSING
    prepared = records.pop(step.name, None)
    if prepared is None:
        return MISSING
    now = step.basis(item)
    was = prepared.basis
    if len(now) != len(was) or any(a is not b and a != b for a, b in zip(now, was)):
        return MISSING
    return prepared.result
