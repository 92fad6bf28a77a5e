"""Records the API cannot write yet, written straight into the database for a test's setup."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from backend.handbook.models import Child, Guardian


def add_guardian(session: Session, *, child_id: str, user_id: str, relation: str) -> None:
    """Make another person (a father, a grandparent) guardian of the child, and commit."""
    child = session.get(Child, uuid.UUID(child_id))
    assert child is not None
    child.guardians.append(Guardian(user_id=uuid.UUID(user_id), relation=relation))
    session.commit()
