"""One condition language for clinical content: the care protocols' `when`, the WHO MEC
table's conditions (and the indicators' filters later) are built from these same pieces.

A domain adds its own leaf terms (a risk colour, a recorded fact, a flag); the combinators
(`AllOf`, `AnyOf`, `Not`), the comparators, the localized `Text` and the `Source` of a fact are
shared, so a reviewer reads one vocabulary and an engine evaluates it one way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

# A text in every supported language: {"zh_CN": ..., "en": ...}.
Text = Mapping[str, str]

# Reference ids that stand for memory (M, M+ partly backed, M! to check), optionally prefixed
# with the reference file's name: a fact from memory cannot be marked verified.
MEMORY_IDS = re.compile(r"(^|:)M[+!]?$")


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: reference ids (C14, S1, L3, M, EXT...) and a readable title."""

    ids: tuple[str, ...]
    title: str

    @property
    def from_memory(self) -> bool:
        """True when any id is a memory tag, so the fact cannot be marked verified."""
        return any(MEMORY_IDS.search(i) for i in self.ids)


# Comparators of a value against a limit; `in` takes a list of values.
NUMBER_COMPARATORS = ("equals", "below", "at_most", "above", "at_least")
COMPARATORS = ("equals", "in", "below", "at_most", "above", "at_least")
ORDERED_COMPARATORS = ("below", "at_most", "above", "at_least")


def compare(op: str, value: Any, limit: Any) -> bool:
    """`value op limit` for one of COMPARATORS (`in`: value is one of the limit's values)."""
    if op == "equals":
        return bool(value == limit)
    if op == "in":
        return value in limit
    if op == "below":
        return bool(value < limit)
    if op == "at_most":
        return bool(value <= limit)
    if op == "above":
        return bool(value > limit)
    if op == "at_least":
        return bool(value >= limit)
    raise ValueError(f"unknown comparator {op!r}")


T = TypeVar("T")


# `raw` keeps the YAML a term was read from (care shows it as the reason of a step).


@dataclass(frozen=True)
class AllOf(Generic[T]):
    """Every term holds."""

    terms: tuple[T, ...]
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class AnyOf(Generic[T]):
    """At least one term holds."""

    terms: tuple[T, ...]
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Not(Generic[T]):
    """The term does not hold."""

    term: T
    raw: Any = field(default=None, compare=False)
