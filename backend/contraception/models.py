"""What she or her doctor recorded for contraception advice, and the methods she started."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, created_at, str32, uuid_pk


class ContraceptionFacts(Base):
    """Her facts the eligibility table reads beyond the handbook (None: not known)."""

    __tablename__ = "contraception_facts"

    woman_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    breastfeeding: Mapped[bool | None]
    fully_breastfeeding: Mapped[bool | None]
    menses_returned: Mapped[bool | None]
    other_vte_risk_factors: Mapped[bool | None]
    smoker: Mapped[bool | None]
    cigarettes_per_day: Mapped[int | None]
    bmi: Mapped[float | None]
    systolic_mmhg: Mapped[int | None]
    diastolic_mmhg: Mapped[int | None]
    # Conditions on record (the table's flags: migraine_with_aura, vte_history, ...).
    conditions: Mapped[list[str]]
    # The last menstrual period around the menopause (for the IUD removal).
    last_period: Mapped[dt.date | None]
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[created_at]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def access_owner_ids(self) -> tuple[uuid.UUID, ...]:
        return (self.woman_id,)

    @property
    def access_scope(self) -> str:
        return "profile"


class MethodRecord(Base):
    """A method she started (recorded by her doctor), and when she stopped it."""

    __tablename__ = "contraception_methods"

    id: Mapped[uuid_pk]
    woman_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    method: Mapped[str32]
    started_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]

    __table_args__ = (Index("ix_contraception_methods_woman_id", "woman_id", "started_on"),)

    @property
    def access_owner_ids(self) -> tuple[uuid.UUID, ...]:
        return (self.woman_id,)

    @property
    def access_scope(self) -> str:
        return "profile"
