"""Import every domain's models so that Base.metadata is complete (Alembic, tests)."""

from __future__ import annotations

import importlib

from backend.domains import DOMAINS


def load_all() -> None:
    """Import backend.<domain>.models for every registered domain that has one."""
    for domain in DOMAINS:
        try:
            importlib.import_module(f"{domain.__name__}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{domain.__name__}.models":
                raise
