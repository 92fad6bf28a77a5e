"""Birth-defect surveillance records (出生缺陷监测) and prenatal-diagnosis results."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, created_at, str16, str32, uuid_pk


class DiagnosisTiming(StrEnum):
    """When and how the defect was diagnosed (the surveillance form's 诊断时间/依据)."""

    PRENATAL_ULTRASOUND = "prenatal_ultrasound"  # 产前超声
    PRENATAL_DIAGNOSIS = "prenatal_diagnosis"  # 产前诊断 (invasive or specialist)
    AT_BIRTH = "at_birth"  # 出生时
    WITHIN_7_DAYS = "within_7_days"  # 生后7天内
    WITHIN_42_DAYS = "within_42_days"  # 生后42天内


class DefectOutcome(StrEnum):
    """What became of the affected baby or pregnancy."""

    LIVE_BIRTH = "live_birth"  # 活产
    EARLY_NEONATAL_DEATH = "early_neonatal_death"  # 活产, died within 7 days
    STILLBIRTH = "stillbirth"  # 死胎/死产
    TERMINATION = "termination"  # 治疗性引产 (terminated for the defect)
    ONGOING = "ongoing"  # diagnosed before birth, pregnancy still going on


class BirthDefect(Base):
    """One diagnosed defect (one ICD-10 Q code) of a child, a stillbirth or a terminated
    pregnancy; a child with two defects has two rows and counts once in the incidence."""

    __tablename__ = "birth_defects"

    id: Mapped[uuid_pk]
    woman_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pregnancy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pregnancies.id", ondelete="CASCADE"), index=True
    )
    child_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("children.id", ondelete="CASCADE"), index=True
    )
    icd10: Mapped[str] = mapped_column(String(8))
    category: Mapped[str32]
    timing: Mapped[str32]
    diagnosed_on: Mapped[dt.date]
    # Gestational age at the birth or the end (stillbirth, termination), in days.
    ga_days: Mapped[int | None]
    outcome: Mapped[str32]
    # The date that places the case in a period: the birth or the end of the pregnancy.
    outcome_on: Mapped[dt.date | None]
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_by_institution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[created_at]

    __table_args__ = (
        # The incidence reads cases by the date of their outcome.
        Index("ix_birth_defects_outcome_on", "outcome_on"),
        Index("ix_birth_defects_woman_id", "woman_id"),
    )

    @property
    def access_owner_ids(self) -> Collection[uuid.UUID]:
        """The mother (the child's guardians are checked through the child)."""
        return (self.woman_id,)

    @property
    def access_scope(self) -> str:
        """Partners see it with the pregnancy or child it belongs to."""
        return "children" if self.child_id else "pregnancies"


class DiagnosisProcedure(StrEnum):
    AMNIOCENTESIS = "amniocentesis"  # 羊膜腔穿刺
    CHORIONIC_VILLUS_SAMPLING = "chorionic_villus_sampling"  # 绒毛取样
    CORDOCENTESIS = "cordocentesis"  # 脐血穿刺
    SPECIALIST_ULTRASOUND = "specialist_ultrasound"  # 产前诊断超声
    OTHER = "other"


class DiagnosisResult(StrEnum):
    NORMAL = "normal"
    ABNORMAL = "abnormal"
    INCONCLUSIVE = "inconclusive"


class PrenatalDiagnosis(Base):
    """A prenatal-diagnosis result (产前诊断) recorded against a pregnancy."""

    __tablename__ = "prenatal_diagnoses"

    id: Mapped[uuid_pk]
    pregnancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pregnancies.id", ondelete="CASCADE"), index=True
    )
    woman_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    performed_on: Mapped[dt.date]
    ga_days: Mapped[int | None]
    procedure: Mapped[str32]
    # karyotype, chromosomal microarray, ... (free text: labs name their tests differently)
    test: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str16]
    finding: Mapped[str | None] = mapped_column(String(1000))
    icd10: Mapped[str | None] = mapped_column(String(8))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[created_at]

    @property
    def access_owner_ids(self) -> Collection[uuid.UUID]:
        """The woman whose pregnancy it is."""
        return (self.woman_id,)

    @property
    def access_scope(self) -> str:
        """Partners see it with the pregnancies."""
        return "pregnancies"
