"""The real contraception and benefit files, loaded once (no database needed)."""

from __future__ import annotations

import pytest

from backend.contraception.benefits import BenefitRules, load_benefits
from backend.contraception.eligibility import EligibilityTable
from backend.contraception.loading import load_eligibility


@pytest.fixture(scope="session")
def table() -> EligibilityTable:
    return load_eligibility()


@pytest.fixture(scope="session")
def rules() -> BenefitRules:
    return load_benefits()
