"""Her profile, pregnancies and children, as sections of her data export."""

from __future__ import annotations

from flask import Flask, current_app

from backend import exports
from backend.auth.security import FieldCipher
from backend.handbook import profiles, service
from backend.handbook.schemas import ChildSchema, PregnancySchema, ProfileSchema


def register(app: Flask) -> None:
    """The handbook itself belongs in her data export, as the API shows it."""
    exports.register(
        app,
        "profile",
        lambda s, u: [
            profiles.profile(
                s,
                user=u,
                default_tz=current_app.config["DEFAULT_TIMEZONE"],
                cipher=FieldCipher.from_config(current_app.config),
            )
        ],
        dump=ProfileSchema().dump,
        one=True,
    )
    exports.register(
        app,
        "pregnancies",
        lambda s, u: service.all_records(s, person=u)[0],
        dump=PregnancySchema().dump,
    )
    exports.register(
        app,
        "children",
        lambda s, u: service.all_records(s, person=u)[1],
        dump=ChildSchema().dump,
    )
