"""Locale selection and the gettext helpers every module uses for user-visible text."""

from __future__ import annotations

import functools
from functools import cached_property

from babel import Locale, support
from flask import current_app, g, request
from flask_babel import Babel, Domain, get_locale, gettext, lazy_gettext, ngettext
from sqlalchemy import inspect as sa_inspect
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

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


def select_locale() -> Locale:
    """The user's own setting, else the best Accept-Language match, else the default."""
    user = g.get("current_user")
    # Read what is loaded, never the database: on the error path the session may be broken.
    own = sa_inspect(user).dict.get("locale") if user is not None else None
    if own in SUPPORTED_LOCALES:
        return babel_locale(str(own))
    return babel_locale(_accepted(request.headers.get("Accept-Language", "")) or _default_locale())


@functools.cache
def babel_locale(name: str) -> Locale:
    """The Babel locale of a supported name, parsed once: flask-babel parses what the selector
    answers on every request unless it is a Locale already (2 % of a hot GET)."""
    return Locale.parse(name)


@functools.lru_cache(maxsize=256)
def _accepted(header: str) -> str | None:
    """The best supported locale an Accept-Language header asks for (apps send a handful of
    different headers; parsing it was a share of every request), else None."""
    for value, _quality in parse_accept_header(header, LanguageAccept):  # best first
        locale = normalize_locale(value)
        if locale is not None:
            return locale
    return None


@functools.lru_cache(maxsize=64)
def catalog_name(locale: object) -> str:
    """Our catalog directory for a Babel locale (Babel calls zh_CN 'zh_Hans_CN')."""
    return normalize_locale(str(locale)) or str(locale)


class CatalogDomain(Domain):
    """Loads locales/<zh_CN|en>/LC_MESSAGES/messages.mo under the product's locale codes."""

    def get_translations(self) -> support.NullTranslations:
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        name = catalog_name(locale)
        cached = self.cache.get(name)
        if cached is None:
            cached = support.Translations()
            for dirname in self.translation_directories:
                loaded = support.Translations.load(dirname, [name], self.domain[0])
                if isinstance(loaded, support.Translations):  # not a NullTranslations: found
                    cached.merge(loaded)
            self.cache[name] = cached
        translations: support.NullTranslations = cached
        return translations


class CatalogBabel(Babel):
    """flask-babel, with catalogs found by CatalogDomain."""

    @cached_property
    def domain_instance(self) -> Domain:
        return CatalogDomain(domain=self.domain)


def _default_locale() -> str:
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
