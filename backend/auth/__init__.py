"""Accounts, roles, tokens, institutions, and the one authorization policy."""

from __future__ import annotations

from flask import Flask, g, request

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprints, the bearer-token loader and the CLI."""
    from backend.auth import cli, policy, routes, security, service
    from backend.db import Session

    security.configure_hasher(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost_kib=app.config["PASSWORD_HASH_MEMORY_KIB"],
        parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
    )

    api.register_blueprint(routes.blp)
    api.register_blueprint(routes.admin_blp)
    app.cli.add_command(cli.create_admin)
    app.cli.add_command(cli.keys)

    @app.before_request
    def load_current_user() -> None:
        token = routes.bearer_token()
        g.current_user = service.authenticate(Session(), token=token) if token else None
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and request.method != "OPTIONS":
            policy.enforce_route_roles(view, request.method)
