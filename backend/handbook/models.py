"""Handbook records: pregnancies with their dating history, children and their guardians."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.auth.models import User
from backend.db import Base, created_at, str16, str32, uuid_pk


class PregnancyStatus(StrEnum):
    ONGOING = "ongoing"
    DELIVERED = "delivered"
    ENDED = "ended"


class EndKind(StrEnum):
    """How a pregnancy ended without a live birth record."""

    MISCARRIAGE = "miscarriage"
    ECTOPIC = "ectopic"
    TERMINATION = "termination"
    STILLBIRTH = "stillbirth"


class DatingSource(StrEnum):
    """Where the EDD in force comes from."""

    LMP = "lmp"
    EDD = "edd"
    ULTRASOUND = "ultrasound"
    BIRTH = "birth"  # recorded after the birth (a child entered by its mother): EDD from the birth


class DatingDecision(StrEnum):
    """What a piece of dating evidence did to the EDD (see content/dating/acog-co700.yaml)."""

    INITIAL = "initial"  # the first dating, at creation
    REPLACED = "replaced"  # an ultrasound over the threshold redated the pregnancy
    WITHIN_THRESHOLD = "within_threshold"  # an ultrasound confirmed the menstrual dating
    LATER_SCAN = "later_scan"  # an earlier ultrasound already decided; the EDD stays fixed
    DATES_CORRECTED = "dates_corrected"  # a corrected LMP/EDD now defines the EDD
    ULTRASOUND_IN_FORCE = "ultrasound_in_force"  # a corrected LMP/EDD, but an ultrasound rules


class DeliveryMode(StrEnum):
    VAGINAL = "vaginal"
    CAESAREAN = "caesarean"
    ASSISTED = "assisted"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class GuardianRelation(StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    OTHER = "other"


class Pregnancy(Base):
    """One pregnancy of a woman, from its dating to a birth or another end."""

    __tablename__ = "pregnancies"

    id: Mapped[uuid_pk]
    woman_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The LMP she reported (None when dated from a given EDD); the EDD in force and its source.
    lmp: Mapped[dt.date | None]
    cycle_length: Mapped[int | None]
    edd: Mapped[dt.date]
    edd_source: Mapped[str16]
    gravidity: Mapped[int | None]
    parity: Mapped[int | None]
    status: Mapped[str16] = mapped_column(default=PregnancyStatus.ONGOING)
    # The close: a birth (born_at, delivery_mode) or another end (end_kind); ended_on is the
    # woman's local date of either, ga_at_end_days the gestational age then.
    ended_on: Mapped[dt.date | None]
    end_kind: Mapped[str | None] = mapped_column(String(16))
    ga_at_end_days: Mapped[int | None]
    born_at: Mapped[dt.datetime | None]
    delivery_mode: Mapped[str | None] = mapped_column(String(16))
    # Discharge from the delivery hospital (her local date): anchors the postpartum and newborn
    # home visits; set at the birth or later, by her or her doctor.
    discharged_on: Mapped[dt.date | None]
    created_at: Mapped[created_at]
    version: Mapped[int] = mapped_column(default=1)

    woman: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    dating_history: Mapped[list[EddRevision]] = relationship(
        back_populates="pregnancy",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="EddRevision.seq",
    )
    children: Mapped[list[Child]] = relationship(
        back_populates="pregnancy", lazy="selectin", order_by="Child.birth_order"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        # At most one ongoing pregnancy per woman, also under concurrent requests.
        Index(
            "uq_pregnancies_woman_id_ongoing",
            "woman_id",
            unique=True,
            sqlite_where=text("status = 'ongoing'"),
            postgresql_where=text("status = 'ongoing'"),
        ),
        # The bureau's indicators count deliveries and losses by their date.
        Index("ix_pregnancies_status_ended_on", "status", "ended_on"),
    )

    @property
    def access_owner_ids(self) -> Collection[uuid.UUID]:
        """The woman whose pregnancy this is."""
        return (self.woman_id,)

    @property
    def access_scope(self) -> str:
        """Partners see it when granted 'pregnancies'."""
        return "pregnancies"


class EddRevision(Base):
    """One piece of dating evidence (first dating, corrected LMP, ultrasound) and its effect."""

    __tablename__ = "edd_revisions"

    id: Mapped[uuid_pk]
    pregnancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pregnancies.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    at: Mapped[created_at]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str16]
    reason: Mapped[str | None] = mapped_column(String(500))
    # The evidence: an LMP (and cycle length), a given EDD, or a scan with its gestational age.
    lmp: Mapped[dt.date | None]
    cycle_length: Mapped[int | None]
    scan_date: Mapped[dt.date | None]
    scan_ga_days: Mapped[int | None]
    # The EDD this evidence implies, the EDD before and after it, and why.
    proposed_edd: Mapped[dt.date]
    previous_edd: Mapped[dt.date | None]
    edd: Mapped[dt.date]
    replaced: Mapped[bool]
    decision: Mapped[str32]
    rule: Mapped[str | None] = mapped_column(String(32))
    discrepancy_days: Mapped[int | None]
    threshold_days: Mapped[int | None]

    pregnancy: Mapped[Pregnancy] = relationship(back_populates="dating_history", lazy="raise")

    __table_args__ = (
        Index("uq_edd_revisions_pregnancy_id_seq", "pregnancy_id", "seq", unique=True),
    )


class Child(Base):
    """A child in the handbook, born from a recorded pregnancy or entered after birth."""

    __tablename__ = "children"

    id: Mapped[uuid_pk]
    pregnancy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pregnancies.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str16]
    birth_date: Mapped[dt.date]
    birth_order: Mapped[int] = mapped_column(default=1)
    birth_weight_g: Mapped[int | None]
    birth_length_cm: Mapped[float | None]
    ga_at_birth_days: Mapped[int | None]
    created_at: Mapped[created_at]
    version: Mapped[int] = mapped_column(default=1)

    pregnancy: Mapped[Pregnancy | None] = relationship(back_populates="children", lazy="raise")
    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="child",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="Guardian.created_at",
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    # The bureau's indicators count births by date of birth.
    __table_args__ = (Index("ix_children_birth_date", "birth_date"),)

    @property
    def access_owner_ids(self) -> Collection[uuid.UUID]:
        """The child's guardians (preloaded with the child)."""
        return tuple(g.user_id for g in self.guardians)

    @property
    def access_scope(self) -> str:
        """Partners see it when granted 'children'."""
        return "children"


class Guardian(Base):
    """A person who manages a child's records: mother, father or another guardian."""

    __tablename__ = "guardians"

    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("children.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str16]
    created_at: Mapped[created_at]

    child: Mapped[Child] = relationship(back_populates="guardians", lazy="raise")
