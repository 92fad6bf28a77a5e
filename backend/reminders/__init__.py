"""Reminders that are never lost: planning from steps and regimens, the dispatcher, channels.

Planning listens to care (a schedule changed) and regimens (a regimen changed); the dispatcher
runs as its own process (`flask --app backend dispatcher`, see backend/scheduler.py).
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Check the reminder rules, register the blueprint, listeners and readiness figures."""
    from backend.reminders import exporters, receivers, routes, rules, service

    rules.load()  # a broken content/reminders.yaml stops the app at start-up
    api.register_blueprint(routes.blp)
    exporters.register(app)
    app.extensions.setdefault("readiness_probes", []).append(
        lambda session: service.lag_and_dead(session)
    )
    receivers.connect()
