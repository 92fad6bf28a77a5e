"""The handbook's records as the other domains read them, and what its write modules share.

One pregnancy or child by id, all of a person's records (a doctor's view, the export), account
deletion, and the rule that says when an ended pregnancy was a birth for the mother. The writes
live in modules named for their records: `profiles`, `pregnancies`, `children`. Functions take
the session explicitly, flush and never commit, raise backend.errors domain errors, and send
backend.handbook.signals after flushing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backend.auth.models import User
from backend.errors import PreconditionFailed
from backend.handbook import dating, signals
from backend.handbook.models import Child, EndKind, Guardian, Pregnancy, PregnancyStatus
from backend.i18n import _l

# --- shared by the write modules --------------------------------------------------------------


def flush(session: Session) -> None:
    """Flush; a concurrent update of the same row (optimistic lock) answers 412."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed(
            _l("The record was changed meanwhile; reload it and try again.")
        ) from exc


def touch(record: Pregnancy | Child) -> None:
    """Bump the row version (the ETag) on every write."""
    record.version += 1


def ga_days(weeks: int, days: int | None) -> int:
    """A gestational age in days from weeks and days (days may be missing)."""
    return dating.GestationalAge(weeks, days or 0).total_days


def is_birth_for_mother(status: str, end_kind: str | None, ga_at_end: int | None) -> bool:
    """A delivery, a stillbirth, or any end at 28 weeks or more: her body had a birth.

    Her postpartum care, postpartum contraception and the 产 stage follow it (plausibility.yaml,
    end.birth_from_ga_weeks); it is not a live birth for leave (clinical audit, issue 9).
    """
    if status == PregnancyStatus.DELIVERED:
        return True
    if status != PregnancyStatus.ENDED:
        return False
    weeks = int(dating.plausibility()["end"]["birth_from_ga_weeks"])
    return end_kind == EndKind.STILLBIRTH or (ga_at_end or 0) >= weeks * 7


# --- reading ----------------------------------------------------------------------------------


def get_pregnancy(session: Session, *, pregnancy_id: uuid.UUID) -> Pregnancy | None:
    """One pregnancy with its dating history and children, or None."""
    return session.get(Pregnancy, pregnancy_id)


def get_child(session: Session, *, child_id: uuid.UUID) -> Child | None:
    """One child with its guardians, or None."""
    return session.get(Child, child_id)


# --- the whole handbook: a doctor's view, the export, account deletion ------------------------


def all_records(session: Session, *, person: User) -> tuple[list[Pregnancy], list[Child]]:
    """Every pregnancy of the person and every child she is guardian of (bounded queries)."""
    pregnancies = session.scalars(
        select(Pregnancy)
        .where(Pregnancy.woman_id == person.id)
        .order_by(Pregnancy.edd.desc(), Pregnancy.id)
    ).all()
    children = session.scalars(
        select(Child)
        .join(Guardian, Guardian.child_id == Child.id)
        .where(Guardian.user_id == person.id)
        .order_by(Child.birth_date, Child.birth_order, Child.id)
    ).all()
    return list(pregnancies), list(children)


def delete_account(session: Session, *, user: User) -> None:
    """Delete her account and her records; children with another guardian stay with them.

    Pregnancies, registrations, consents, partner grants and tokens go with the account
    (their foreign keys cascade); audit rows stay, with her id removed.
    """
    _, children = all_records(session, person=user)
    for child in children:
        others = [g for g in child.guardians if g.user_id != user.id]
        if others:
            signals.guardian_leaving.send(
                child, session=session, child=child, user=user, successor_id=others[0].user_id
            )
            child.guardians = others
        else:
            session.delete(child)
    session.flush()
    session.delete(user)
    session.flush()
