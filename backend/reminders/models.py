"""Reminders, their deliveries, the in-app inbox, preferences, opt-ins and escalations."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, created_at, instant_now, str16, str32, uuid_pk


class ReminderKind(StrEnum):
    STEP_BEFORE = "step_before"
    STEP_DUE = "step_due"
    STEP_NUDGE = "step_nudge"
    STEP_ESCALATION = "step_escalation"
    REGIMEN_DAILY = "regimen_daily"
    LESSON_NEW = "lesson_new"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    DEAD = "dead"


class Reminder(Base):
    """One message to one person at one instant; unique per recipient + source + occurrence."""

    __tablename__ = "reminders"

    id: Mapped[uuid_pk]
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str16]
    source_type: Mapped[str16]
    source_id: Mapped[uuid.UUID]
    occurrence: Mapped[str32]
    fire_at: Mapped[dt.datetime]
    status: Mapped[str16] = mapped_column(default=ReminderStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    channel: Mapped[str | None] = mapped_column(String(16))
    # For step reminders: the step counts as helped if done by this date (delivery + 14 d).
    effect_deadline: Mapped[dt.date | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[created_at]
    updated_at: Mapped[instant_now]

    __table_args__ = (
        UniqueConstraint(
            "recipient_id", "source_type", "source_id", "occurrence", name="uq_reminders_key"
        ),
        # The dispatcher's claim: due reminders by time.
        Index("ix_reminders_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_reminders_source", "source_type", "source_id"),
        Index("ix_reminders_recipient_id_status", "recipient_id", "status"),
    )


class Delivery(Base):
    """One attempt on one channel, with its outcome."""

    __tablename__ = "reminder_deliveries"

    id: Mapped[uuid_pk]
    reminder_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int]
    channel: Mapped[str16]
    ok: Mapped[bool]
    detail: Mapped[str | None] = mapped_column(String(500))
    worker: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[created_at]


class Notification(Base):
    """The in-app inbox: each reminder shows once (unique reminder_id)."""

    __tablename__ = "notifications"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reminder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str16]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    locale: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[created_at]
    read_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_notifications_user_id_created_at", "user_id", "created_at"),)


class ReminderPreference(Base):
    """Her channels in order, quiet hours, opt-outs per kind, and the time of day to send."""

    __tablename__ = "reminder_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    channels: Mapped[list[str]]
    quiet_start: Mapped[dt.time]
    quiet_end: Mapped[dt.time]
    send_time: Mapped[dt.time]
    opted_out: Mapped[list[str]]
    updated_at: Mapped[created_at]


class MiniprogramOptIn(Base):
    """One-time subscription opt-ins she granted per template: one message per opt-in."""

    __tablename__ = "miniprogram_opt_ins"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    remaining: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[created_at]


class Escalation(Base):
    """A step still undone long after its reminders: on the doctor's call list."""

    __tablename__ = "escalations"

    id: Mapped[uuid_pk]
    step_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("care_steps.id", ondelete="CASCADE"), unique=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[created_at]
    resolved_at: Mapped[dt.datetime | None]
