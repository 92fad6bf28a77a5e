"""The real benefit files, loaded once (no database needed)."""

from __future__ import annotations

import pytest

from backend.benefits.loading import load_benefits
from backend.benefits.rules import BenefitRules


@pytest.fixture(scope="session")
def rules() -> BenefitRules:
    return load_benefits()
