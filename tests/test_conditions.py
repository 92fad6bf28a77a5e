"""One condition language: the care protocols and the WHO MEC engine read the same pieces."""

from __future__ import annotations

import pytest

from backend import conditions
from backend.care import protocols
from backend.content import protocol_when
from backend.contraception import eligibility
from backend.contraception import table as mec_table


def test_the_protocols_and_the_mec_engine_share_one_vocabulary():
    for name in ("AllOf", "AnyOf", "Not", "Source"):
        shared = getattr(conditions, name)
        assert getattr(protocols, name) is shared
        assert getattr(eligibility, name, shared) is shared
    assert mec_table.Source is conditions.Source
    assert protocol_when.COMPARATORS is conditions.COMPARATORS
    # The MEC table compares numbers only: its set is the shared one without `in`.
    assert set(eligibility.COMPARATORS) == set(conditions.COMPARATORS) - {"in"}


@pytest.mark.parametrize(
    ("op", "value", "limit", "holds"),
    [
        ("equals", 3, 3, True),
        ("in", "b", ("a", "b"), True),
        ("in", "c", ("a", "b"), False),
        ("below", 110, 110, False),  # "below 110 g/L" excludes 110
        ("at_most", 110, 110, True),
        ("above", 140, 140, False),
        ("at_least", 140, 140, True),  # "at least 140 mmHg" includes 140
    ],
)
def test_a_comparator_reads_as_its_name_says(op, value, limit, holds):
    assert conditions.compare(op, value, limit) is holds


def test_an_unknown_comparator_is_an_error():
    with pytest.raises(ValueError, match="unknown comparator"):
        conditions.compare("near", 1, 2)


def test_a_source_from_memory_cannot_back_a_verified_fact():
    assert conditions.Source(("M!",), "to check").from_memory
    assert conditions.Source(("contraception-and-leave:M+",), "partly").from_memory
    assert not conditions.Source(("C14", "S1"), "guideline").from_memory
