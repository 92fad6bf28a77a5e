"""The real protocol files, loaded once for the care tests (no database needed)."""

from __future__ import annotations

import pytest

from backend.care.loading import load_protocols
from backend.care.protocols import ProtocolSet


@pytest.fixture(scope="session")
def protocols() -> ProtocolSet:
    return load_protocols()
