"""Stored responses of POSTs sent with an Idempotency-Key (a mobile retry replays them)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, created_at, str64, uuid_pk


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str64]
    status: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[created_at] = mapped_column(index=True)  # the retention purge

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_records_user_key"),)
