"""One check of a chain of dated versions (benefit tables, protocol editions): each version ends
the day before the next one takes effect, so exactly one is in force on any day."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Protocol, TypeVar


class Dated(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def effective_from(self) -> dt.date: ...
    @property
    def effective_to(self) -> dt.date | None: ...


D = TypeVar("D", bound=Dated)


def chain(versions: Iterable[D], problems: list[str]) -> list[D]:
    """The versions in date order; a problem (naming the earlier file) for each gap or overlap."""
    ordered = sorted(versions, key=lambda v: v.effective_from)
    for previous, current in itertools.pairwise(ordered):
        if (
            previous.effective_to is None
            or previous.effective_to + dt.timedelta(days=1) != current.effective_from
        ):
            problems.append(
                f"{previous.path}: field effective_to: must be the day before {current.path} "
                f"takes effect ({current.effective_from - dt.timedelta(days=1)})"
            )
    return ordered
