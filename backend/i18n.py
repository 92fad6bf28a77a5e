"""Locale selection and the gettext helpers every module uses for user-visible text."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext, lazy_gettext, ngettext

__all__ = ["N_", "SUPPORTED_LOCALES", "_", "_l", "ngettext", "normalize_locale", "select_locale"]

SUPPORTED_LOCALES = ("zh_CN", "en")

_ = gettext
_l = lazy_gettext


def normalize_locale(value: str | None) -> str | None:
    """Map 'zh-CN', 'zh', 'en-US' and friends onto a supported locale, or None."""
    if not value:
        return None
    v = value.replace("-", "_").lower()
    if v.startswith("zh"):
        return "zh_CN"
    if v.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """The user's own setting, else the best Accept-Language match, else the default."""
    user = g.get("current_user")
    if user is not None and user.locale in SUPPORTED_LOCALES:
        return str(user.locale)
    best = request.accept_languages.best_match(["zh_CN", "zh", "zh-CN", "en"]) if request else None
    return normalize_locale(best) or _default_locale()


def _default_locale() -> str:
    from flask import current_app

    return str(current_app.config.get("DEFAULT_LOCALE", "zh_CN"))


def N_(message: str) -> str:
    """Mark a string for extraction only; it is translated where it is rendered."""
    return message


# marshmallow's and webargs' built-in messages, rendered through gettext by backend.errors.
LIBRARY_MESSAGES = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Invalid input type."),
    N_("Invalid value."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid time."),
    N_("Not a valid UUID."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Invalid JSON body."),
    N_("Must be one of the allowed values."),
)
