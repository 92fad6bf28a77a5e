"""The one authorization policy: who may read or write which record.

Every route asks this module. Records expose whose they are through the `Guarded`
protocol, so this module needs to know nothing of pregnancies, children or schedules.

- a citizen: her own records, and her children's (as guardian);
- a partner: what the owner shared with him (scopes), read-only unless she granted more;
- a doctor: the records of citizens registered (建册) at her institution, every access audited;
- educators, admins and health bureaus: no health records at all; admins read aggregates of
  every district, a health bureau those of its own districts (`aggregate_districts`).
Anything else answers 404, so that existence is not leaked.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from flask import g, has_request_context, request
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from backend.auth.models import (
    AuditEvent,
    BureauDistrict,
    PartnerGrant,
    PartnerGrantStatus,
    Registration,
    Role,
    User,
)
from backend.db import prepare_to_write
from backend.errors import Forbidden, NotFound, Unauthorized
from backend.i18n import _l


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    EXPORT = "export"


class Guarded(Protocol):
    """A record the policy can decide on."""

    id: Any

    @property
    def access_owner_ids(self) -> Collection[uuid.UUID]:
        """The people whose record this is (a woman; a child's guardians)."""

    @property
    def access_scope(self) -> str:
        """What a partner must have been granted to see it ('pregnancies', 'children', ...)."""


def current_user() -> User | None:
    """The authenticated user of this request, if any."""
    user: User | None = g.get("current_user")
    return user


F = TypeVar("F", bound=Callable[..., Any])


def signed_in_user() -> User:
    """The signed-in user of a route marked login_required (401 if somehow there is none)."""
    user = current_user()
    if user is None:
        raise Unauthorized(_l("Log in first."), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    return user


def check_role(roles: tuple[Role, ...]) -> None:
    """401 without a valid token; 403 when the role may not use this route at all."""
    user = current_user()
    if user is None:
        raise Unauthorized(_l("Log in first."), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if roles and user.role not in roles:
        raise Forbidden(_l("Your role may not do this."))


def login_required(*roles: Role) -> Callable[[F], F]:
    """Mark a view as needing a signed-in user (of one of `roles`, when given).

    The mark (`_roles`) survives flask-smorest's decorators, so `enforce_route_roles` checks it
    before the body is parsed: a stranger gets 401, never a validation error.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_role(roles)
            return view(*args, **kwargs)

        wrapper._roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def route_roles(view_function: Any, method: str) -> tuple[Role, ...] | None:
    """The roles a route's method requires; None for a public route."""
    view_class = getattr(view_function, "view_class", None)
    target = getattr(view_class, method.lower(), None) if view_class else view_function
    return getattr(target, "_roles", None)


def enforce_route_roles(view_function: Any, method: str) -> None:
    """Check a route's mark before anything else runs (called from before_request)."""
    roles = route_roles(view_function, method)
    if roles is not None:
        check_role(roles)


def _doctor_sees(session: Session, doctor: User, owner_ids: Collection[uuid.UUID]) -> bool:
    if doctor.institution_id is None:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    Registration.user_id.in_(owner_ids),
                    Registration.institution_id == doctor.institution_id,
                    Registration.left_at.is_(None),
                )
            )
        )
    )


def _partner_grant(
    session: Session, partner: User, owner_ids: Collection[uuid.UUID]
) -> PartnerGrant | None:
    return session.scalars(
        select(PartnerGrant).where(
            PartnerGrant.owner_id.in_(owner_ids),
            PartnerGrant.partner_id == partner.id,
            PartnerGrant.status == PartnerGrantStatus.ACTIVE,
        )
    ).first()


def may(
    session: Session,
    actor: User,
    action: Action,
    owner_ids: Collection[uuid.UUID],
    scope: str,
) -> bool:
    """Decide whether `actor` may do `action` on a record of `owner_ids` in `scope`."""
    if actor.role == Role.CITIZEN:
        if actor.id in owner_ids:
            return True
        grant = _partner_grant(session, actor, owner_ids)
        if grant is None or scope not in grant.scopes:
            return False
        return action == Action.READ or grant.can_write
    if actor.role == Role.DOCTOR:
        return action != Action.EXPORT and _doctor_sees(session, actor, owner_ids)
    return False


def aggregate_districts(session: Session, actor: User) -> list[str] | None:
    """The districts whose aggregate counts `actor` may read: None means every district (admin).

    Aggregates hold counts, never people; any other role may not read them (403).
    """
    if actor.role == Role.ADMIN:
        return None
    if actor.role == Role.BUREAU:
        return list(
            session.scalars(
                select(BureauDistrict.district_code)
                .where(BureauDistrict.user_id == actor.id)
                .order_by(BureauDistrict.district_code)
            )
        )
    raise Forbidden(_l("Your role may not do this."))


def authorize(session: Session, actor: User, action: Action, record: Guarded | None) -> Any:
    """Return the record if allowed; else NotFound. Access by anyone but the owner is audited."""
    if record is None:
        raise NotFound(_l("No such record."))
    owners = record.access_owner_ids
    if not may(session, actor, action, owners, record.access_scope):
        raise NotFound(_l("No such record."))
    if actor.id not in owners:
        audit(
            session,
            actor,
            action,
            record_type=type(record).__name__,
            record_id=record.id,
            owner_id=next(iter(owners), None),
        )
    return record


def authorize_owner(
    session: Session, actor: User, action: Action, owner: User | None, scope: str = "profile"
) -> User:
    """The same rule for a person's whole handbook (a patient seen by her doctor)."""
    if owner is None or owner.role != Role.CITIZEN:
        raise NotFound(_l("No such record."))
    if not may(session, actor, action, [owner.id], scope):
        raise NotFound(_l("No such record."))
    if actor.id != owner.id:
        audit(session, actor, action, record_type="Handbook", record_id=owner.id, owner_id=owner.id)
    return owner


def audit(
    session: Session,
    actor: User,
    action: Action | str,
    *,
    record_type: str,
    record_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> None:
    """Append one audit row; the request's path and client address are taken when present."""
    prepare_to_write(session)  # an audited read writes: SQLite takes the lock first
    event = AuditEvent(
        actor_id=actor.id,
        actor_role=actor.role,
        owner_id=owner_id,
        action=str(action),
        record_type=record_type,
        record_id=record_id,
    )
    if has_request_context():
        event.method = request.method
        event.path = request.path[:300]
        event.address = (request.remote_addr or "")[:64]
    session.add(event)
