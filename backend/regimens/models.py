"""Daily self-care regimens (folic acid), their check-ins, and the risk factors they read."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.auth.models import User
from backend.db import Base, created_at, str16, str32, uuid_pk


class RegimenKind(StrEnum):
    FOLIC_ACID = "folic_acid"


class RegimenStatus(StrEnum):
    """What is stored; an active regimen past its ends_on also reads as completed."""

    ACTIVE = "active"
    STOPPED = "stopped"
    COMPLETED = "completed"


class StopReason(StrEnum):
    """Why a regimen stopped or completed."""

    LOSS = "loss"  # the pregnancy ended without a birth: stopped at once
    BIRTH = "birth"  # a birth before the planned end (completed)
    END_OF_SPAN = "end_of_span"  # its last day (the end of the first trimester) passed


class Regimen(Base):
    """One run of a daily regimen for one woman: from her plan or pregnancy to its end."""

    __tablename__ = "regimens"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str32]
    # The dose tier in force and the risk factors it came from (a copy of hers at the time).
    tier: Mapped[str32]
    risk_factors: Mapped[list[str]]
    # The day she plans to start trying to conceive; None when a pregnancy started it.
    plan_date: Mapped[dt.date | None]
    pregnancy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pregnancies.id", ondelete="SET NULL"), index=True
    )
    # Her local dates: the first day, and the last day (known once a pregnancy dates it).
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]
    # Her local time of the daily reminder.
    reminder_time: Mapped[dt.time] = mapped_column(Time())
    status: Mapped[str16] = mapped_column(default=RegimenStatus.ACTIVE)
    stop_reason: Mapped[str | None] = mapped_column(String(16))
    # The last day the regimen covered, once stopped or completed (may precede starts_on when
    # it ended before it began).
    stopped_on: Mapped[dt.date | None]
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    # Loaded on access; service.active_regimens loads only the recent "taken" check-ins here.
    check_ins: Mapped[list[CheckIn]] = relationship(
        back_populates="regimen",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CheckIn.on",
    )

    __table_args__ = (
        # At most one active regimen of a kind per woman, also under concurrent requests.
        Index(
            "uq_regimens_user_id_kind_active",
            "user_id",
            "kind",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    @property
    def access_owner_ids(self) -> Collection[uuid.UUID]:
        """The woman whose regimen this is."""
        return (self.user_id,)

    @property
    def access_scope(self) -> str:
        """Partners see it when granted 'schedule'."""
        return "schedule"


class CheckIn(Base):
    """Her answer for one local day: taken or not. One per regimen and day."""

    __tablename__ = "regimen_check_ins"

    id: Mapped[uuid_pk]
    regimen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regimens.id", ondelete="CASCADE"))
    on: Mapped[dt.date]
    taken: Mapped[bool]
    # When she answered (the latest answer, when she changed it).
    at: Mapped[created_at]

    regimen: Mapped[Regimen] = relationship(back_populates="check_ins", lazy="raise")

    __table_args__ = (
        UniqueConstraint("regimen_id", "on", name="uq_regimen_check_ins_regimen_id_on"),
    )


class RiskFactorRecord(Base):
    """The risk factors she or her doctor recorded for a regimen kind; outlives each regimen."""

    __tablename__ = "regimen_risk_factors"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str32] = mapped_column(primary_key=True)
    codes: Mapped[list[str]]
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_by_role: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[created_at]
