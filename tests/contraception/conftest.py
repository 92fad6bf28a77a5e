"""The real contraception files, loaded once (no database needed)."""

from __future__ import annotations

import pytest

from backend.contraception.eligibility import EligibilityTable
from backend.contraception.loading import load_eligibility


@pytest.fixture(scope="session")
def table() -> EligibilityTable:
    return load_eligibility()
