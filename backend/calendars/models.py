"""A citizen's secret calendar-feed URL (only the SHA-256 of its secret is kept)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, created_at, str64, uuid_pk


class CalendarFeed(Base):
    """Her one subscription URL; rotating replaces the secret in place, revoking deletes it."""

    __tablename__ = "calendar_feeds"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    # SHA-256 (hex) of the secret in the URL, as backend.auth.security.token_digest makes it.
    token_hash: Mapped[str64] = mapped_column(unique=True)
    created_at: Mapped[created_at]
    # When the secret in force was issued (creation or the latest rotation).
    rotated_at: Mapped[dt.datetime]
