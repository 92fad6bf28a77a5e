"""Snapshots of closed periods: each indicator's counts per district, institution and month
(and birth-defect category), computed set-based by the engine's own statement and kept, so
that a bureau's read of a closed year sums a few thousand cells instead of recounting the city.

A snapshot is one indicator over one period (a calendar month; a calendar year for the
indicators whose period is not a sum of months). Its cells are the engine's grouped rows,
as written when it was taken (`taken_at`, shown to the reader as `as_of`).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, str64, uuid_pk


class IndicatorSnapshot(Base):
    """One indicator counted over one closed period."""

    __tablename__ = "indicator_snapshots"
    __table_args__ = (UniqueConstraint("code", "period_start", "period_end"),)

    id: Mapped[uuid_pk]
    code: Mapped[str64]
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    taken_at: Mapped[dt.datetime]


class IndicatorCell(Base):
    """One grouped row of a snapshot: counts, never people."""

    __tablename__ = "indicator_cells"
    # The read of a period by district (the overview, the bench's whole set) is an index-only
    # scan of its periods' range.
    __table_args__ = (
        Index(
            "ix_indicator_cells_period",
            "period_start",
            "code",
            "monthly",
            "period_end",
            "category",
            "district_code",
            "numerator",
            "denominator",
        ),
    )

    snapshot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    row: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # The snapshot's indicator and period, kept on each cell so that a read selects a range.
    code: Mapped[str64]
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    monthly: Mapped[bool]  # the snapshot is one calendar month (months add up)
    district_code: Mapped[str | None] = mapped_column(String(16))
    institution_id: Mapped[uuid.UUID | None]
    month: Mapped[str | None] = mapped_column(String(7))
    category: Mapped[str | None] = mapped_column(String(64))
    numerator: Mapped[int]
    denominator: Mapped[int]
