"""Care steps planned from the protocols, their results, risk grades and home measurements."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, created_at, instant_now, str16, str32, str64, uuid_pk


class SubjectKind(StrEnum):
    WOMAN = "woman"
    PREGNANCY = "pregnancy"
    CHILD = "child"


class StepState(StrEnum):
    """What is stored; upcoming/due/overdue/missed are derived from the window and today."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"
    DECLINED = "declined"


class CareStep(Base):
    """One scheduled thing for one subject (a woman, a pregnancy, a child)."""

    __tablename__ = "care_steps"

    id: Mapped[uuid_pk]
    subject_kind: Mapped[str16]
    subject_id: Mapped[uuid.UUID]
    # The woman (or the child's mother/first guardian): whose handbook this is; worklists join
    # her registrations through it.
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code: Mapped[str64]
    programme: Mapped[str64]
    version: Mapped[str32]
    opens_on: Mapped[dt.date]
    due_on: Mapped[dt.date]
    closes_on: Mapped[dt.date]
    state: Mapped[str16] = mapped_column(default=StepState.PENDING)
    # A window that closed before the subject was enrolled: shown as missed, never reminded.
    closed_before_enrolment: Mapped[bool] = mapped_column(default=False)
    # The step whose (abnormal) result this one follows up, if any.
    follows_up: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[dict[str, Any]]
    done_on: Mapped[dt.date | None]
    interpretation: Mapped[str | None] = mapped_column(String(16))
    # Not done: declined, or done elsewhere (then state is done and done_on is that date).
    not_done_reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[created_at]
    updated_at: Mapped[instant_now]

    results: Mapped[list[CareResult]] = relationship(
        back_populates="step", lazy="raise", order_by="CareResult.recorded_at"
    )

    @property
    def access_owner_ids(self) -> tuple[uuid.UUID, ...]:
        """A child's guardians (set by care.service.get_step), else the woman."""
        return getattr(self, "access_owners", (self.person_id,))

    @property
    def access_scope(self) -> str:
        """Partners see steps when granted 'schedule'."""
        return "schedule"

    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "code", name="uq_care_steps_subject_code"),
        Index("ix_care_steps_subject", "subject_kind", "subject_id"),
        # Worklists: pending steps of an institution's patients by date.
        Index("ix_care_steps_person_state_due", "person_id", "state", "due_on"),
        Index("ix_care_steps_state_due", "state", "due_on"),
        # The abnormal-results worklist.
        Index("ix_care_steps_person_interpretation", "person_id", "interpretation"),
        # The bureau's indicators: steps of a code whose window closed in a period.
        Index("ix_care_steps_code_closes_on", "code", "closes_on"),
    )


class StepWindowChange(Base):
    """The history of a step's moved window (a corrected EDD, a preterm birth, a new version)."""

    __tablename__ = "care_step_window_changes"

    id: Mapped[uuid_pk]
    step_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("care_steps.id", ondelete="CASCADE"), index=True
    )
    old_opens_on: Mapped[dt.date]
    old_due_on: Mapped[dt.date]
    old_closes_on: Mapped[dt.date]
    new_opens_on: Mapped[dt.date]
    new_due_on: Mapped[dt.date]
    new_closes_on: Mapped[dt.date]
    old_version: Mapped[str32]
    new_version: Mapped[str32]
    at: Mapped[created_at]


class CareResult(Base):
    """What a doctor logged for a step: typed values and an interpretation."""

    __tablename__ = "care_results"

    id: Mapped[uuid_pk]
    step_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("care_steps.id", ondelete="CASCADE"), index=True
    )
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    interpretation: Mapped[str | None] = mapped_column(String(16))
    performed_on: Mapped[dt.date]
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[created_at]

    step: Mapped[CareStep] = relationship(back_populates="results", lazy="raise")


class RiskAssessment(Base):
    """A five-colour risk grade (2017) of a pregnancy; the latest one is in force."""

    __tablename__ = "risk_assessments"

    id: Mapped[uuid_pk]
    pregnancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pregnancies.id", ondelete="CASCADE")
    )
    # 1, 2, 3... per pregnancy: the highest is in force (instants can tie).
    seq: Mapped[int]
    # The highest of green/yellow/orange/red found; purple (infectious disease) besides it.
    colour: Mapped[str16]
    purple: Mapped[bool] = mapped_column(default=False)
    conditions: Mapped[list[str]]
    note: Mapped[str | None] = mapped_column(String(1000))
    assessed_on: Mapped[dt.date]
    assessed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    at: Mapped[created_at]

    __table_args__ = (
        UniqueConstraint("pregnancy_id", "seq", name="uq_risk_assessments_pregnancy_id_seq"),
    )


class Measurement(Base):
    """A home measurement (weight, blood pressure, fetal movements), marked self-reported."""

    __tablename__ = "measurements"

    id: Mapped[uuid_pk]
    subject_kind: Mapped[str16]
    subject_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str32]
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    measured_at: Mapped[dt.datetime]
    self_reported: Mapped[bool] = mapped_column(default=True)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]

    __table_args__ = (
        Index("ix_measurements_subject", "subject_kind", "subject_id", "measured_at"),
    )


class CareOptions(Base):
    """Per-subject choices and flags the protocols read (JE-L or JE-I; mother's HBsAg...)."""

    __tablename__ = "care_options"

    subject_kind: Mapped[str16] = mapped_column(primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    vaccine_choices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Dates the handbook does not hold (a woman's planned pregnancy, marriage registration,
    # IUD insertion), ISO strings by anchor name.
    anchors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[created_at]
