"""Accounts, log-in, tokens, throttling, the mini-program exchange, institutions and staff."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from backend.auth.models import (
    AccessToken,
    BureauDistrict,
    Institution,
    LoginFailure,
    Role,
    User,
)
from backend.auth.security import hash_password, new_token, token_digest, verify_password
from backend.db import begin_reading, prepare_to_write, utcnow
from backend.errors import (
    Conflict,
    InvalidInput,
    TooManyRequests,
    UpstreamFailed,
    invalid,
)
from backend.i18n import _l


class InvalidCredentials(Exception):
    """Wrong phone or password (the failure has been recorded)."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User
    recent_failed_logins: int = 0


def get_by_phone(session: Session, *, phone: str) -> User | None:
    """The account with this phone number."""
    return session.scalars(select(User).where(User.phone == phone)).first()


def register_citizen(
    session: Session,
    *,
    phone: str,
    password: str,
    name: str | None = None,
    locale: str | None = None,
) -> User:
    """Sign a citizen up with phone + password."""
    password_hash = hash_password(password)  # slow: before the first statement takes a lock
    if get_by_phone(session, phone=phone) is not None:
        raise InvalidInput(
            _l("Some fields are invalid."),
            errors={"phone": [_l("This phone number is already registered.")]},
        )
    user = User(
        role=Role.CITIZEN,
        phone=phone,
        password_hash=password_hash,
        name=name,
        locale=locale,
    )
    session.add(user)
    session.flush()
    return user


def create_user(
    session: Session,
    *,
    role: Role,
    phone: str,
    password: str,
    name: str | None,
    institution_id: uuid.UUID | None = None,
    district_codes: list[str] | None = None,
) -> User:
    """Create an account of any role (admins via the CLI; staff and bureaus via the API).

    A health-bureau account belongs to no institution and reads the indicators of the
    districts given here.
    """
    password_hash = hash_password(password)  # slow: before the first statement takes a lock
    if get_by_phone(session, phone=phone) is not None:
        raise invalid("phone", _l("This phone number is already registered."))
    needs_institution = role in (Role.DOCTOR, Role.EDUCATOR)
    if needs_institution and (
        institution_id is None or session.get(Institution, institution_id) is None
    ):
        raise invalid("institution_id", _l("No such institution."))
    if role == Role.BUREAU and not district_codes:
        raise invalid("district_codes", _l("Name the districts this bureau reads."))
    user = User(
        role=role,
        phone=phone,
        password_hash=password_hash,
        name=name,
        institution_id=institution_id if needs_institution else None,
    )
    session.add(user)
    session.flush()
    if role == Role.BUREAU:
        codes = sorted(set(district_codes or ()))
        session.add_all(BureauDistrict(user_id=user.id, district_code=c) for c in codes)
        session.flush()
        user.district_codes = codes  # type: ignore[attr-defined]
    return user


def bureau_districts(session: Session, *, user: User) -> list[str]:
    """The districts a health-bureau account reads (empty for any other role)."""
    return list(
        session.scalars(
            select(BureauDistrict.district_code)
            .where(BureauDistrict.user_id == user.id)
            .order_by(BureauDistrict.district_code)
        )
    )


def issue_token(session: Session, *, user: User, ttl_seconds: int) -> IssuedToken:
    """Create a bearer token; only its digest is stored."""
    token = new_token()
    expires_at = utcnow() + dt.timedelta(seconds=ttl_seconds)
    session.add(AccessToken(user_id=user.id, token_hash=token_digest(token), expires_at=expires_at))
    session.flush()
    return IssuedToken(token, expires_at, user)


@dataclass(frozen=True)
class ThrottleKeys:
    """The counters one log-in attempt touches (LoginFailure.key values)."""

    pair: str  # this phone from this address: blocks after a few failures
    phone: str  # this phone from anywhere: slows (spaces attempts) past a higher ceiling
    address: str  # this address, any phone: blocks a sweep over many phones

    @classmethod
    def of(cls, *, phone: str, address: str) -> ThrottleKeys:
        address = address[:45]  # an IPv6 text fits; the column holds 80 characters
        return cls(f"pair:{phone}|{address}", f"phone:{phone}", f"addr:{address}")


def _too_many(retry_after: float) -> TooManyRequests:
    return TooManyRequests(
        _l("Too many failed log-ins. Try again later."),
        headers={"Retry-After": str(max(1, int(retry_after) + 1))},
    )


def _throttle_check(
    session: Session, *, keys: ThrottleKeys, settings: Mapping[str, Any]
) -> dict[str, int]:
    """Raise 429 when this attempt must wait; return the failure counts per key.

    Someone who types another person's phone from elsewhere blocks only herself (the pair),
    never the owner: past LOGIN_MAX_FAILURES_PER_PHONE failures from anywhere, attempts on the
    phone are only spaced LOGIN_PHONE_SLOWDOWN_SECONDS apart.
    """
    window = settings["LOGIN_WINDOW_SECONDS"]
    now = utcnow()
    rows = session.execute(
        select(LoginFailure.key, func.count(), func.min(LoginFailure.at), func.max(LoginFailure.at))
        .where(
            LoginFailure.key.in_([keys.pair, keys.phone, keys.address]),
            LoginFailure.at >= now - dt.timedelta(seconds=window),
        )
        .group_by(LoginFailure.key)
    ).all()
    seen = {key: (count, oldest, newest) for key, count, oldest, newest in rows}
    for key, limit in (
        (keys.pair, settings["LOGIN_MAX_FAILURES_PER_PHONE_ADDRESS"]),
        (keys.address, settings["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ):
        count, oldest, _newest = seen.get(key, (0, now, now))
        if count >= limit:
            raise _too_many(window - (now - oldest).total_seconds())
    count, _oldest, newest = seen.get(keys.phone, (0, now, now))
    if count >= settings["LOGIN_MAX_FAILURES_PER_PHONE"]:
        wait = settings["LOGIN_PHONE_SLOWDOWN_SECONDS"] - (now - newest).total_seconds()
        if wait > 0:
            raise _too_many(wait)
    return {key: value[0] for key, value in seen.items()}


def login(
    session: Session, *, phone: str, password: str, address: str, settings: Mapping[str, Any]
) -> IssuedToken:
    """Check the password under throttling; record a failure or issue a token."""
    keys = ThrottleKeys.of(phone=phone, address=address)
    begin_reading(session)  # no write lock held while the password is checked (slow)
    counts = _throttle_check(session, keys=keys, settings=settings)
    user = get_by_phone(session, phone=phone)
    ok = verify_password(user.password_hash if user else None, password)
    prepare_to_write(session)
    if user is None or not ok or not user.is_active:
        session.add_all([LoginFailure(key=k) for k in (keys.pair, keys.phone, keys.address)])
        session.flush()
        raise InvalidCredentials()
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys.pair))
    issued = issue_token(session, user=user, ttl_seconds=settings["TOKEN_TTL_SECONDS"])
    # What the owner is told: failed attempts on her phone in the window, from anywhere.
    return dataclasses.replace(issued, recent_failed_logins=counts.get(keys.phone, 0))


@functools.cache
def _by_token() -> Any:
    """Built once: every request runs it, and building the statement (and its cache key) cost
    as much as running it. Plain columns (the user's and the token's), run on the session's
    connection: the ORM's set-up for one row cost more than the row."""
    return (
        select(*User.__table__.columns, AccessToken.expires_at, AccessToken.revoked_at)
        .join(AccessToken, AccessToken.user_id == User.id)
        .where(AccessToken.token_hash == bindparam("digest"))
    )


@functools.cache
def _user_keys() -> tuple[str, ...]:
    """User's attribute names, in the order of its table's columns."""
    mapper = User.__mapper__
    return tuple(mapper.get_property_by_column(c).key for c in User.__table__.columns)


def _as_loaded(session: Session, values: tuple[Any, ...]) -> User:
    """The User whose columns are `values`, in the session as if a query had loaded it (no
    pending changes; the one already in the session, if any)."""
    fields = dict(zip(_user_keys(), values, strict=True))
    present = session.identity_map.get(inspect(User).identity_key_from_primary_key((fields["id"],)))
    if present is not None:
        return present
    # Filled as the ORM's loader fills an instance: no attribute events, nothing pending (a
    # User(**fields) set each column through the change tracking, half of this function).
    user: User = User.__mapper__.class_manager.new_instance()
    user.__dict__.update(fields)
    make_transient_to_detached(user)  # an identity; the columns count as loaded
    session.add(user)
    return user


def authenticate(session: Session, *, token: str) -> User | None:
    """The active user owning this unexpired, unrevoked token."""
    row = session.connection().execute(_by_token(), {"digest": token_digest(token)}).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = _as_loaded(session, tuple(row)[: len(_user_keys())])
    return user if user.is_active else None


def revoke(session: Session, *, token: str) -> None:
    """Log out: the token stops working at once."""
    row = session.scalars(
        select(AccessToken).where(AccessToken.token_hash == token_digest(token))
    ).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()


# --- mini-program log-in ----------------------------------------------------------------------


def exchange_miniprogram_code(*, code: str, settings: Mapping[str, Any]) -> str:
    """Call the code-to-session endpoint and return the user's openid."""
    query = urllib.parse.urlencode(
        {
            "appid": settings["MINIPROGRAM_APPID"],
            "secret": settings["MINIPROGRAM_SECRET"],
            "js_code": code,
            "grant_type": "authorization_code",
        }
    )
    url = f"{settings['MINIPROGRAM_CODE2SESSION_URL']}?{query}"
    try:
        with urllib.request.urlopen(url, timeout=settings["MINIPROGRAM_TIMEOUT_SECONDS"]) as resp:
            data = json.loads(resp.read().decode() or "{}")
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise UpstreamFailed(_l("The mini-program log-in service did not answer.")) from exc
    if data.get("errcode"):
        raise invalid("code", _l("The mini-program log-in code was refused."))
    openid = data.get("openid")
    if not isinstance(openid, str) or not openid:
        raise UpstreamFailed(_l("The mini-program log-in service gave no identity."))
    return openid


def miniprogram_login(
    session: Session, *, openid: str, current: User | None, settings: Mapping[str, Any]
) -> tuple[IssuedToken, bool]:
    """Link the openid to the logged-in citizen, or find or create its citizen.

    Returns the token and whether a new account was created.
    """
    owner = session.scalars(select(User).where(User.miniprogram_openid == openid)).first()
    created = False
    if current is not None:
        if owner is not None and owner.id != current.id:
            raise Conflict(_l("This mini-program identity belongs to another account."))
        if current.role != Role.CITIZEN:
            raise invalid("code", _l("Only citizens can log in with the mini-program."))
        current.miniprogram_openid = openid
        user = current
    elif owner is not None:
        user = owner
    else:
        user = User(role=Role.CITIZEN, miniprogram_openid=openid)
        session.add(user)
        created = True
    session.flush()
    return issue_token(session, user=user, ttl_seconds=settings["TOKEN_TTL_SECONDS"]), created


# --- institutions and staff -------------------------------------------------------------------


def create_institution(session: Session, *, data: Mapping[str, Any]) -> Institution:
    """Add an institution."""
    inst = Institution(**data)
    session.add(inst)
    session.flush()
    return inst


def list_institutions(session: Session, *, district_code: str | None = None) -> list[Institution]:
    """Institutions, optionally in one district, by name."""
    stmt = select(Institution).order_by(Institution.name)
    if district_code:
        stmt = stmt.where(Institution.district_code == district_code)
    return list(session.scalars(stmt))


def list_staff(session: Session, *, institution_id: uuid.UUID | None = None) -> list[User]:
    """Doctors, educators and health-bureau accounts, optionally of one institution."""
    stmt = (
        select(User)
        .where(User.role.in_([Role.DOCTOR, Role.EDUCATOR, Role.BUREAU]))
        .order_by(User.name)
    )
    if institution_id:
        stmt = stmt.where(User.institution_id == institution_id)
    return list(session.scalars(stmt))


# --- keys -------------------------------------------------------------------------------------


def reencrypt_national_ids(session: Session, *, cipher: Any, batch_size: int = 500) -> int:
    """Re-encrypt every national ID with the first key and re-hash it with the look-up key.

    Run after putting a new key first in FIELD_ENCRYPTION_KEY (or setting FIELD_LOOKUP_KEY);
    the older keys can be removed once it has run. Each batch is one UPDATE (executemany).
    Raises when a value opens with no key listed (nothing is changed then).
    """
    done = 0
    last: uuid.UUID | None = None
    while True:
        stmt = select(User.id, User.national_id_cipher).where(User.national_id_cipher.is_not(None))
        if last is not None:
            stmt = stmt.where(User.id > last)
        rows = session.execute(stmt.order_by(User.id).limit(batch_size)).all()
        if not rows:
            return done
        changes = []
        for user_id, token in rows:
            value = cipher.decrypt(token)
            if value is None:
                raise ValueError(f"user {user_id}: no key in FIELD_ENCRYPTION_KEY opens it")
            changes.append(
                {"uid": user_id, "c": cipher.rotate(token), "h": cipher.lookup_hash(value)}
            )
        session.connection().execute(
            update(User)
            .where(User.id == bindparam("uid"))
            .values(national_id_cipher=bindparam("c"), national_id_hash=bindparam("h")),
            changes,
        )
        done += len(rows)
        last = rows[-1][0]
