"""The real protocol files, loaded once for the care tests (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.care.protocols import ProtocolSet, load_protocols

PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "content" / "protocols"


@pytest.fixture(scope="session")
def protocols() -> ProtocolSet:
    return load_protocols(PROTOCOL_DIR)
