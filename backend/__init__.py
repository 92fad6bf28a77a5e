"""The maternal-child health companion backend: the application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from sqlalchemy.exc import IntegrityError

from backend import config as settings
from backend import db, errors
from backend.extensions import api, babel
from backend.i18n import _l


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, then every domain's init_app."""
    app = Flask(__name__, instance_path=str(settings.INSTANCE_DIR))
    app.config.update(settings.API_SETTINGS)
    app.config.update(settings.from_env())
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from backend.i18n import select_locale

    db.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_locale=app.config["DEFAULT_LOCALE"],
        default_timezone="UTC",
        default_translation_directories=str(settings.INSTANCE_DIR.parent / "locales"),
    )
    api.init_app(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    errors.init_app(app)
    # Registered first so that it runs last: after-request hooks run in reverse order.
    app.after_request(_commit_unit_of_work)

    from backend.domains import DOMAINS

    for domain in DOMAINS:
        domain.init_app(app, api)

    from backend import cli, webui

    cli.init_app(app)
    webui.init_app(app)
    return app


def _commit_unit_of_work(response: Response) -> Response:
    """A request is one unit of work: commit once when it succeeded, else roll back."""
    session = db.Session()
    if response.status_code >= 400:
        session.rollback()
        return response
    try:
        session.commit()
    except IntegrityError:
        # A concurrent twin (same Idempotency-Key, same unique value) committed first.
        session.rollback()
        return errors.problem(409, _l("This record conflicts with an existing one."))
    return response
