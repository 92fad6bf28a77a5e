"""Accounts, roles, tokens, institutions, and the one authorization policy."""

from __future__ import annotations

from flask import Flask, g, request
from sqlalchemy.exc import DBAPIError

from backend.api import Api
from backend.auth import cli, policy, routes, security, service
from backend.auth.models import User
from backend.db import Session


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprints, the bearer-token loader and the CLI."""
    security.configure_hasher(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost_kib=app.config["PASSWORD_HASH_MEMORY_KIB"],
        parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
    )

    api.register_blueprint(routes.blp)
    api.register_blueprint(routes.admin_blp)
    app.cli.add_command(cli.create_admin)
    app.cli.add_command(cli.keys)

    def _authenticate(token: str) -> User | None:
        try:
            return service.authenticate(Session(), token=token)
        except DBAPIError as exc:
            # The request's first statement found its pooled connection dead (the server
            # restarted; no pre-ping, backend/db.py): SQLAlchemy has invalidated the pool, so
            # one retry runs on a new connection. Still down: the error handler answers 503.
            if not exc.connection_invalidated:
                raise
            Session.remove()
            return service.authenticate(Session(), token=token)

    @app.before_request
    def load_current_user() -> None:
        token = routes.bearer_token()
        g.current_user = _authenticate(token) if token else None
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and request.method != "OPTIONS":
            policy.enforce_route_roles(view, request.method)
