"""The export's own stamp, her national ID, registrations, consents, partner grants and who
read her records, as sections of her data export."""

from __future__ import annotations

from flask import Flask, current_app

from backend import exports
from backend.access import service
from backend.access.schemas import (
    AccessEventSchema,
    ConsentSchema,
    PartnerGrantSchema,
    RegistrationSchema,
)
from backend.auth.security import FieldCipher
from backend.db import utcnow


def _national_id(_session: object, user: object) -> list[str | None]:
    """In full: this is her own copy."""
    cipher_text = getattr(user, "national_id_cipher", None)
    if not cipher_text:
        return [None]
    return [FieldCipher.from_config(current_app.config).decrypt(cipher_text)]


def register(app: Flask) -> None:
    """What access holds about her belongs in her data export."""
    exports.register(
        app, "exported_at", lambda s, u: [utcnow()], dump=lambda t: t.isoformat(), one=True
    )
    exports.register(app, "national_id", _national_id, dump=lambda v: v, one=True)
    exports.register(
        app,
        "registrations",
        lambda s, u: service.list_registrations(s, user=u),
        dump=RegistrationSchema().dump,
    )
    exports.register(
        app, "consents", lambda s, u: service.consent_history(s, user=u), dump=ConsentSchema().dump
    )
    exports.register(
        app,
        "partner_grants",
        lambda s, u: service.list_partner_grants(s, user=u),
        dump=PartnerGrantSchema().dump,
    )
    access_event = AccessEventSchema()
    exports.register(
        app,
        "access_log",
        lambda s, u: service.access_events(s, user=u),
        dump=lambda row: access_event.dump(service.event_view(row, full=False)),
    )
