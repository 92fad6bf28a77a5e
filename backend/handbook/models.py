"""Handbook records."""
