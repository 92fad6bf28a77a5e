"""Consent records: per purpose and channel, with the time and the text version agreed to."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, created_at, str32, uuid_pk


class ConsentPurpose(StrEnum):
    CARE_BY_INSTITUTION = "care_by_institution"
    REMINDERS = "reminders"
    EDUCATION = "education"
    ANONYMOUS_STATISTICS = "anonymous_statistics"


class ConsentChannel(StrEnum):
    APP = "app"
    SMS = "sms"
    MINIPROGRAM = "miniprogram"


class Consent(Base):
    """One consent decision; the latest per (purpose, channel) is in force, all are kept."""

    __tablename__ = "consents"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str32]
    channel: Mapped[str | None] = mapped_column(String(16))
    granted: Mapped[bool]
    text_version: Mapped[str32]
    at: Mapped[created_at]

    __table_args__ = (Index("ix_consents_user_id_purpose", "user_id", "purpose"),)
