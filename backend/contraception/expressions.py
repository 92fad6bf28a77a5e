"""Reading the conditions of the MEC table: a cell's categories and a `when:` over the facts,
flags and predicates the table file declares (used by contraception/loading.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from backend.care.reading import Invalid, check_keys, read_bool, read_mapping, read_number
from backend.conditions import AllOf, AnyOf, Not
from backend.content.mec_table import BOOLEAN_FACTS, NUMBER_FACTS
from backend.contraception.table import (
    COMPARATORS,
    SCALE_VALUES,
    Category,
    Cell,
    Compare,
    Expr,
    FactDefinition,
    FlagDefinition,
    Is,
)


def read_list(value: Any, name: str) -> list[Any]:
    """A non-empty YAML list."""
    if not isinstance(value, list) or not value:
        raise Invalid(name, "must be a non-empty list")
    return value


class Vocabulary:
    """The names a `when:` may use, known once the table file's header has been read."""

    def __init__(
        self,
        facts: Mapping[str, FactDefinition],
        flags: Mapping[str, FlagDefinition],
        predicates: Iterable[str] = (),
    ) -> None:
        self.facts = facts
        self.flags = flags
        self.predicates = set(predicates)

    def names(self) -> str:
        """Every name, for 'unknown fact' messages."""
        return ", ".join(sorted({*self.facts, *self.flags, *self.predicates}))


def read_category(value: Any, scale: str, name: str) -> Category:
    """One category value of a scale."""
    allowed = SCALE_VALUES[scale]
    if isinstance(value, bool) or value not in allowed:
        raise Invalid(name, f"must be one of {', '.join(map(str, allowed))}, not {value!r}")
    return value  # type: ignore[no-any-return]


def read_cell(value: Any, scale: str, name: str) -> Cell:
    """'2', '2/3' (initiation/continuation) or {initiation: 2, continuation: 3}."""
    if isinstance(value, Mapping):
        check_keys(
            value, {"initiation", "continuation"}, {"initiation", "continuation"}, name + "."
        )
        first, then = value["initiation"], value["continuation"]
    elif isinstance(value, str) and re.fullmatch(r"\s*\d\s*/\s*\d\s*", value):
        first, then = (int(part) for part in value.split("/"))
    else:
        first = then = value
    if scale != "mec" and first != then:
        raise Invalid(name, "initiation/continuation splits exist only on the WHO 1-4 scale")
    return Cell(read_category(first, scale, name), read_category(then, scale, name))


def read_expr(value: Any, vocab: Vocabulary, name: str) -> Expr:
    """A condition: a mapping of fact tests (all must hold), any_of/all_of lists, not."""
    data = read_mapping(value, name)
    if not data:
        raise Invalid(name, "must test at least one fact")
    terms: list[Expr] = []
    for key, spec in data.items():
        where = f"{name}.{key}"
        if key in ("any_of", "all_of"):
            items = read_list(spec, where)
            parts = tuple(read_expr(item, vocab, f"{where}[{i}]") for i, item in enumerate(items))
            terms.append(AnyOf(parts) if key == "any_of" else AllOf(parts))
        elif key == "not":
            terms.append(Not(read_expr(spec, vocab, where)))
        elif key in vocab.flags:
            terms.append(Is(key, read_bool(spec, where), "flag"))
        elif key in vocab.predicates:
            terms.append(Is(key, read_bool(spec, where), "predicate"))
        elif key in BOOLEAN_FACTS and key in vocab.facts:
            if isinstance(spec, Mapping):
                check_keys(spec, {"known"}, {"known"}, where + ".")
                terms.append(Compare(key, known=read_bool(spec["known"], where + ".known")))
            else:
                terms.append(Is(key, read_bool(spec, where), "fact"))
        elif key in NUMBER_FACTS and key in vocab.facts:
            terms.append(read_compare(key, spec, where))
        else:
            raise Invalid(where, f"unknown fact; known: {vocab.names()}, any_of, all_of, not")
    return terms[0] if len(terms) == 1 else AllOf(tuple(terms))


def read_compare(fact: str, spec: Any, where: str) -> Compare:
    """`18` (equals) or {at_least: 18, below: 20} or {known: false}."""
    if not isinstance(spec, Mapping):
        return Compare(fact, (("equals", read_number(spec, where)),))
    check_keys(spec, {*COMPARATORS, "known"}, set(), where + ".")
    if not spec:
        raise Invalid(where, f"must compare: {', '.join(COMPARATORS)} or known")
    tests = tuple((op, read_number(spec[op], f"{where}.{op}")) for op in COMPARATORS if op in spec)
    known = read_bool(spec["known"], f"{where}.known") if "known" in spec else None
    if known is False and tests:
        raise Invalid(where, "cannot compare a value that must be unknown")
    return Compare(fact, tests, known)
