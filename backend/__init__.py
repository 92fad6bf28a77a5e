"""The maternal-child health companion backend: the application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from flask.sessions import SessionInterface
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import config as settings
from backend import content, db, errors, guards, review, webui
from backend.api import HttpConventionsPlugin, serve_swagger_ui_assets
from backend.extensions import api, babel
from backend.i18n import select_locale


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, then every domain's init_app."""
    app = Flask(__name__, instance_path=str(settings.INSTANCE_DIR))
    app.config.update(settings.API_SETTINGS)
    app.config.update(settings.from_env())
    if config:
        app.config.update(config)
    settings.check_secrets(app.config)
    _trust_proxies(app)
    app.session_interface = NoCookieSessions()
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

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
            "extra_plugins": [HttpConventionsPlugin()],
        },
    )
    serve_swagger_ui_assets(app)
    errors.init_app(app)
    # Before any other hook touches the database: does this request write (SQLite locking)?
    app.before_request(_declare_write_intent)
    app.teardown_request(lambda _exc: db.set_write_intent(True))
    # Registered first so that it runs last: after-request hooks run in reverse order.
    app.after_request(_commit_unit_of_work)

    # Imported here, not with the package: `import backend.<module>` (Alembic, a test) runs
    # this file first, and some domains' routes read content files at import, which
    # content.init_app loads just below; cli imports the domains too.
    from backend import cli
    from backend.domains import DOMAINS

    # Every content file is validated here, before any domain reads it: a broken file stops
    # the app at start-up with the file, the item and the field, never a request later.
    content.init_app(app)
    for domain in DOMAINS:
        domain.init_app(app, api)
    guards.init_app(app)  # after auth's hook: a wrong role is 403 before a body is judged

    # A `verified: true` without its sign-off, or from memory, stops the app (issue 9).
    review.validate(app.extensions["content"])

    cli.init_app(app)
    webui.init_app(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies, take the client address (throttling, audit) from them."""
    hops = {k: int(app.config.get(f"PROXY_FIX_X_{k.upper()}", 0)) for k in ("for", "proto", "host")}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops["for"], x_proto=hops["proto"], x_host=hops["host"]
        )


class NoCookieSessions(SessionInterface):
    """No cookie sessions: every route signs in with a bearer token (DESIGN.md), so a cookie
    carries no authority here and writing to `flask.session` fails (NullSession). Flask's
    default read the cookie and built its signing serializer on every request, 3 % of a GET."""

    def open_session(self, app: Flask, request: Any) -> Any:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _declare_write_intent() -> None:
    """Writing requests take SQLite's write lock up front; reads begin deferred."""
    db.set_write_intent(request.method not in SAFE_METHODS)


def _commit_unit_of_work(response: Response) -> Response:
    """A request is one unit of work: commit once when it succeeded, else roll back."""
    session = db.Session()
    if response.status_code >= 400:
        errors.rollback_quietly()
        return response
    if db.only_reads(session):
        return response  # nothing to commit; the app context's teardown closes the session
    try:
        session.commit()
    except IntegrityError as exc:
        # A concurrent twin committed first: with the same Idempotency-Key, answer what it
        # answered (the key's row is committed now); otherwise a 409.
        errors.rollback_quietly()
        from backend.ops import idempotency  # a domain: imported with the domains, above

        try:
            replayed = idempotency.replay()
        except Exception:
            replayed = None
        if replayed is not None:
            return replayed
        return errors.database_problem(exc)
    except SQLAlchemyError as exc:
        return errors.database_problem(exc)
    return response
