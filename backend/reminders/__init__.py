"""Reminders that are never lost: planning from steps and regimens, the dispatcher, channels.

Planning listens to care (a schedule changed) and regimens (a regimen changed); the dispatcher
runs as its own process (`flask --app backend dispatcher`, see backend/scheduler.py).
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Check the reminder rules, register the blueprint, listeners and readiness figures."""
    # Imported here, not at module level: backend.reminders.models is loaded (through this
    # package) by backend.model_registry before any app exists, and routes/receivers pull in
    # the API layer and other domains' services, which import those models in turn.
    from backend.reminders import exporters, receivers, routes, rules, service

    rules.load()  # a broken content/reminders.yaml stops the app at start-up
    api.register_blueprint(routes.blp)
    exporters.register(app)
    app.extensions.setdefault("readiness_probes", []).append(
        lambda session: service.lag_and_dead(session)
    )
    receivers.connect()
