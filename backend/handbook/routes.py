"""Handbook routes."""

from __future__ import annotations

from backend.api import Blueprint

blp = Blueprint("handbook", __name__, url_prefix="/api/v1", description="The family handbook")
