"""Accounts, institutions, tokens, and the relationships the access policy reads."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, created_at, str16, str32, str64, str200, uuid_pk


class Role(StrEnum):
    CITIZEN = "citizen"
    DOCTOR = "doctor"
    EDUCATOR = "educator"
    ADMIN = "admin"
    # A district health bureau's read-only account: aggregates of its districts, never people.
    BUREAU = "bureau"


class InstitutionKind(StrEnum):
    COMMUNITY_HEALTH_CENTRE = "community_health_centre"  # 社区卫生服务中心
    TOWNSHIP_HEALTH_CENTRE = "township_health_centre"  # 乡镇卫生院
    MATERNAL_CHILD_HOSPITAL = "maternal_child_hospital"  # 妇幼保健院
    GENERAL_HOSPITAL = "general_hospital"  # 综合医院


class Institution(Base):
    __tablename__ = "institutions"

    id: Mapped[uuid_pk]
    name: Mapped[str200]
    kind: Mapped[str32]
    district_code: Mapped[str16] = mapped_column(index=True)
    created_at: Mapped[created_at]


class User(Base):
    """An account; for citizens it also carries the person profile of the handbook."""

    __tablename__ = "users"

    id: Mapped[uuid_pk]
    role: Mapped[str16]
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[dt.date | None]
    # National ID number: Fernet ciphertext, plus a keyed hash for look-up and uniqueness.
    national_id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    district_code: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("institutions.id"), index=True
    )
    miniprogram_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    version: Mapped[int] = mapped_column(default=1)

    institution: Mapped[Institution | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class AccessToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "access_tokens"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str64] = mapped_column(unique=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)  # the retention purge
    revoked_at: Mapped[dt.datetime | None] = mapped_column(index=True)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class LoginFailure(Base):
    """One failed log-in, counted per phone and per client address for throttling."""

    __tablename__ = "login_failures"

    id: Mapped[uuid_pk]
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[created_at] = mapped_column(index=True)  # the retention purge

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class Registration(Base):
    """建册: a citizen registered at an institution, whose doctors then see her handbook."""

    __tablename__ = "registrations"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id"))
    registered_at: Mapped[created_at]
    left_at: Mapped[dt.datetime | None]

    institution: Mapped[Institution] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        Index("ix_registrations_user_id_left_at", "user_id", "left_at"),
        Index("ix_registrations_institution_id_left_at", "institution_id", "left_at"),
    )


# What a woman can share with a partner; records name their scope (Guarded.access_scope).
SHARE_SCOPES = ("profile", "pregnancies", "children", "schedule")


class PartnerGrantStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REVOKED = "revoked"


class PartnerGrant(Base):
    """A woman's invitation to a partner, and after acceptance, what he may see or edit."""

    __tablename__ = "partner_grants"

    id: Mapped[uuid_pk]
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    partner_phone: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str16]
    scopes: Mapped[list[str]]
    can_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[created_at]
    accepted_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_partner_grants_owner_id_status", "owner_id", "status"),)


class AuditEvent(Base):
    """Who read or wrote whose health record, when and from where."""

    __tablename__ = "audit_events"

    id: Mapped[uuid_pk]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str16]
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str16]
    record_type: Mapped[str32]
    record_id: Mapped[uuid.UUID | None]
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[created_at]

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")

    __table_args__ = (
        Index("ix_audit_events_owner_id_at", "owner_id", "at"),
        Index("ix_audit_events_actor_id_at", "actor_id", "at"),
    )


class BureauDistrict(Base):
    """A district (GB/T 2260 code) whose aggregate indicators a health-bureau account reads."""

    __tablename__ = "bureau_districts"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    district_code: Mapped[str16] = mapped_column(primary_key=True)
