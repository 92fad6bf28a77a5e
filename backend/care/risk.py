"""Pregnancy risk grading (妊娠风险评估): the history of colours a doctor assigned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.care.models import (
    RiskAssessment,
)
from backend.care.protocols import (
    RISK_COLOURS,
    ProtocolSet,
)
from backend.care.subjects import latest_risk
from backend.care.sync import sync_pregnancy
from backend.errors import Conflict, invalid
from backend.handbook.models import Pregnancy, PregnancyStatus
from backend.i18n import _l

GRADED = tuple(c for c in RISK_COLOURS if c != "purple")


def assess_risk(
    session: Session,
    *,
    pregnancy: Pregnancy,
    actor: User,
    colours: Sequence[str],
    conditions: Sequence[str],
    assessed_on: dt.date,
    note: str | None,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
) -> RiskAssessment:
    """Record a five-colour grade: the highest colour wins, purple can co-exist."""
    if pregnancy.status != PregnancyStatus.ONGOING:
        raise Conflict(_l("This pregnancy is closed."))
    if assessed_on > today:
        raise invalid("assessed_on", _l("This date cannot be in the future."))
    graded = [c for c in colours if c in GRADED]
    highest = max(graded, key=GRADED.index) if graded else "green"
    previous = latest_risk(session, pregnancy.id)
    assessment = RiskAssessment(
        pregnancy_id=pregnancy.id,
        seq=previous.seq + 1 if previous else 1,
        colour=highest,
        purple="purple" in colours,
        conditions=list(conditions),
        note=note,
        assessed_on=assessed_on,
        assessed_by=actor.id,
    )
    session.add(assessment)
    session.flush()
    sync_pregnancy(session, pregnancy=pregnancy, protocols=protocols, default_tz=default_tz)
    return assessment


def risk_history(session: Session, *, pregnancy: Pregnancy) -> list[RiskAssessment]:
    """Every grade of the pregnancy, newest first."""
    return list(
        session.scalars(
            select(RiskAssessment)
            .where(RiskAssessment.pregnancy_id == pregnancy.id)
            .order_by(RiskAssessment.seq.desc())
        )
    )
