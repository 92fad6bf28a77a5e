"""建册 registrations, partner sharing, consent, and the access and audit logs."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from backend.access.models import Consent
from backend.auth.models import (
    AuditEvent,
    Institution,
    PartnerGrant,
    PartnerGrantStatus,
    Registration,
    Role,
    User,
)
from backend.db import LIKE_ESCAPE, escape_like, utcnow
from backend.errors import Conflict, NotFound, invalid
from backend.i18n import _l
from backend.paging import AnySelect, paginate_rows

# --- 建册: registrations at an institution ----------------------------------------------------


def list_registrations(session: Session, *, user: User) -> list[Registration]:
    """Her registrations, current first."""
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.user_id == user.id)
            .order_by(Registration.left_at.is_not(None), Registration.registered_at.desc())
        )
    )


def register_at(session: Session, *, user: User, institution_id: uuid.UUID) -> Registration:
    """Register (建册) at an institution, whose doctors then see her handbook."""
    if session.get(Institution, institution_id) is None:
        raise invalid("institution_id", _l("No such institution."))
    active = session.scalars(
        select(Registration).where(
            Registration.user_id == user.id,
            Registration.institution_id == institution_id,
            Registration.left_at.is_(None),
        )
    ).first()
    if active is not None:
        raise Conflict(_l("You are already registered at this institution."))
    reg = Registration(user_id=user.id, institution_id=institution_id)
    session.add(reg)
    session.flush()
    return reg


def leave(session: Session, *, user: User, registration_id: uuid.UUID) -> Registration:
    """Leave an institution: its doctors lose access at once."""
    reg = session.get(Registration, registration_id)
    if reg is None or reg.user_id != user.id:
        raise NotFound(_l("No such record."))
    if reg.left_at is None:
        reg.left_at = utcnow()
        session.flush()
    return reg


# --- partner sharing --------------------------------------------------------------------------


def invite_partner(
    session: Session, *, owner: User, phone: str, scopes: Sequence[str], can_write: bool
) -> PartnerGrant:
    """Invite a partner by phone to see what she chooses to share."""
    if owner.phone == phone:
        raise invalid("phone", _l("You cannot invite yourself."))
    open_grant = session.scalars(
        select(PartnerGrant).where(
            PartnerGrant.owner_id == owner.id,
            PartnerGrant.partner_phone == phone,
            PartnerGrant.status.in_([PartnerGrantStatus.PENDING, PartnerGrantStatus.ACTIVE]),
        )
    ).first()
    if open_grant is not None:
        raise Conflict(_l("This person is already invited."))
    grant = PartnerGrant(
        owner_id=owner.id,
        partner_phone=phone,
        status=PartnerGrantStatus.PENDING,
        scopes=sorted(set(scopes)),
        can_write=can_write,
    )
    session.add(grant)
    session.flush()
    return grant


def list_partner_grants(session: Session, *, user: User) -> list[PartnerGrant]:
    """Grants she gave and invitations addressed to him (by phone or accepted)."""
    conds = [PartnerGrant.owner_id == user.id, PartnerGrant.partner_id == user.id]
    if user.phone:
        conds.append(
            (PartnerGrant.partner_phone == user.phone)
            & (PartnerGrant.status == PartnerGrantStatus.PENDING)
        )
    return list(
        session.scalars(select(PartnerGrant).where(or_(*conds)).order_by(PartnerGrant.created_at))
    )


def accept_invitation(session: Session, *, user: User, grant_id: uuid.UUID) -> PartnerGrant:
    """The invited partner accepts; only the phone the invitation named can."""
    grant = session.get(PartnerGrant, grant_id)
    if (
        grant is None
        or grant.status != PartnerGrantStatus.PENDING
        or user.phone is None
        or grant.partner_phone != user.phone
        or user.role != Role.CITIZEN
    ):
        raise NotFound(_l("No such invitation."))
    grant.partner_id = user.id
    grant.status = PartnerGrantStatus.ACTIVE
    grant.accepted_at = utcnow()
    session.flush()
    return grant


def update_grant(
    session: Session,
    *,
    owner: User,
    grant_id: uuid.UUID,
    scopes: Sequence[str] | None = None,
    can_write: bool | None = None,
) -> PartnerGrant:
    """She changes what a partner may see or edit."""
    grant = _own_grant(session, owner, grant_id)
    if scopes is not None:
        grant.scopes = sorted(set(scopes))
    if can_write is not None:
        grant.can_write = can_write
    session.flush()
    return grant


def revoke_grant(session: Session, *, owner: User, grant_id: uuid.UUID) -> PartnerGrant:
    """She revokes a partner's access (or withdraws an invitation); effective at once."""
    grant = _own_grant(session, owner, grant_id)
    if grant.status != PartnerGrantStatus.REVOKED:
        grant.status = PartnerGrantStatus.REVOKED
        grant.revoked_at = utcnow()
        session.flush()
    return grant


def _own_grant(session: Session, owner: User, grant_id: uuid.UUID) -> PartnerGrant:
    grant = session.get(PartnerGrant, grant_id)
    if grant is None or grant.owner_id != owner.id:
        raise NotFound(_l("No such record."))
    return grant


# --- consent ----------------------------------------------------------------------------------


def record_consent(
    session: Session,
    *,
    user: User,
    purpose: str,
    granted: bool,
    channel: str | None,
    text_version: str,
) -> Consent:
    """Record a consent decision (granting or withdrawing); history is kept."""
    consent = Consent(
        user_id=user.id,
        purpose=purpose,
        channel=channel,
        granted=granted,
        text_version=text_version,
    )
    session.add(consent)
    session.flush()
    return consent


def consent_history(session: Session, *, user: User) -> list[Consent]:
    """Every consent decision, oldest first."""
    return list(
        session.scalars(
            select(Consent).where(Consent.user_id == user.id).order_by(Consent.at, Consent.id)
        )
    )


def consents_in_force(history: Sequence[Consent]) -> list[Consent]:
    """The latest decision per (purpose, channel)."""
    latest: dict[tuple[str, str | None], Consent] = {}
    for c in history:
        latest[(c.purpose, c.channel)] = c
    return list(latest.values())


def has_consent(
    session: Session, *, user_id: uuid.UUID, purpose: str, channel: str | None = None
) -> bool:
    """True when the latest decision for this purpose (and channel) is a grant."""
    row = session.scalars(
        select(Consent)
        .where(
            Consent.user_id == user_id,
            Consent.purpose == purpose,
            Consent.channel == channel if channel is not None else Consent.channel.is_(None),
        )
        .order_by(Consent.at.desc(), Consent.id.desc())
    ).first()
    return bool(row and row.granted)


# --- access log and audit log -----------------------------------------------------------------


def access_log(
    session: Session, *, user: User, page: int, page_size: int
) -> tuple[list[tuple[AuditEvent, User | None, Institution | None]], int]:
    """Who accessed her records: newest first, with the reader's name, role and institution."""
    stmt = _audit_select().where(AuditEvent.owner_id == user.id)
    return _audit_page(session, stmt, page=page, page_size=page_size)


def audit_log(
    session: Session,
    *,
    page: int,
    page_size: int,
    actor_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[list[tuple[AuditEvent, User | None, Institution | None]], int]:
    """The audit log for admins, filterable by actor, owner and period."""
    stmt = _audit_select()
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if owner_id:
        stmt = stmt.where(AuditEvent.owner_id == owner_id)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return _audit_page(session, stmt, page=page, page_size=page_size)


def _audit_select() -> AnySelect:
    actor = aliased(User)
    return (
        select(AuditEvent, actor, Institution)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(Institution, Institution.id == actor.institution_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id)
    )


def _audit_page(
    session: Session, stmt: AnySelect, *, page: int, page_size: int
) -> tuple[list[tuple[AuditEvent, User | None, Institution | None]], int]:
    return paginate_rows(session, stmt, page=page, page_size=page_size)


# --- the doctor's patients ----------------------------------------------------------------------


def list_patients(
    session: Session, *, doctor: User, page: int, page_size: int, q: str | None = None
) -> tuple[list[tuple[User, Registration]], int]:
    """Citizens registered at the doctor's institution, searchable by name or phone."""
    stmt = (
        select(User, Registration)
        .join(Registration, Registration.user_id == User.id)
        .where(
            Registration.institution_id == doctor.institution_id,
            Registration.left_at.is_(None),
            User.role == Role.CITIZEN,
        )
        .order_by(Registration.registered_at.desc(), User.id)
    )
    if q:
        text = escape_like(q.strip())
        stmt = stmt.where(
            or_(
                User.name.ilike(f"%{text}%", escape=LIKE_ESCAPE),
                User.phone.like(f"{text}%", escape=LIKE_ESCAPE),
            )
        )
    rows, total = paginate_rows(session, stmt, page=page, page_size=page_size)
    return [(u, r) for u, r in rows], total


def event_view(
    row: tuple[AuditEvent, User | None, Institution | None], *, full: bool
) -> dict[str, Any]:
    """An audit row as the access log shows it (`full`: with the owner, method, path, address)."""
    event, actor, inst = row
    body: dict[str, Any] = {
        "id": event.id,
        "at": event.at,
        "action": event.action,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "actor_id": event.actor_id,
        "actor_name": actor.name if actor else None,
        "actor_role": event.actor_role,
        "institution_name": inst.name if inst else None,
    }
    if full:
        body |= {
            "owner_id": event.owner_id,
            "method": event.method,
            "path": event.path,
            "address": event.address,
        }
    return body


def access_events(
    session: Session, *, user: User
) -> Iterator[tuple[AuditEvent, User | None, Institution | None]]:
    """Every access to her records, newest first, read in batches (her export)."""
    stmt = _audit_select().where(AuditEvent.owner_id == user.id).execution_options(yield_per=500)
    for row in session.execute(stmt):
        yield tuple(row)
