"""Her regimens with every daily check-in, as a section of her data export."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import exports
from backend.regimens.models import CheckIn, Regimen


def _regimens(session: Session, user: Any) -> list[dict[str, Any]]:
    """Her regimens with every daily check-in (two queries)."""
    regimens = session.scalars(
        select(Regimen).where(Regimen.user_id == user.id).order_by(Regimen.created_at)
    ).all()
    check_ins: dict[Any, list[dict[str, Any]]] = {r.id: [] for r in regimens}
    if regimens:
        for c in session.scalars(
            select(CheckIn).where(CheckIn.regimen_id.in_(list(check_ins))).order_by(CheckIn.on)
        ):
            check_ins[c.regimen_id].append({"on": c.on.isoformat(), "taken": c.taken})
    return [
        {
            "id": str(r.id),
            "kind": r.kind,
            "tier": r.tier,
            "status": r.status,
            "starts_on": r.starts_on.isoformat(),
            "ends_on": r.ends_on.isoformat() if r.ends_on else None,
            "check_ins": check_ins[r.id],
        }
        for r in regimens
    ]


def register(app: Flask) -> None:
    """Folic acid and its check-ins belong in her data export."""
    exports.register(app, "regimens", _regimens, dump=lambda row: row)
