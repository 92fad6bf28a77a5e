"""The monitored birth-defect categories (content/surveillance/categories.yaml) and the rule
that places an ICD-10 Q code in one of them (the most specific code prefix wins)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context

from backend import content

ICD10_Q = re.compile(r"^Q\d{2}(\.\d{1,2})?$")


@dataclass(frozen=True)
class Category:
    code: str
    number: int | None
    icd10: tuple[str, ...]
    title: dict[str, str]
    plain: dict[str, str]


@dataclass(frozen=True)
class Categories:
    version: int
    source: str
    verified: bool
    items: tuple[Category, ...]
    other: Category
    # code prefix (Q17, Q17.2, Q39.0...) → category code
    prefixes: dict[str, str]

    def by_code(self, code: str) -> Category | None:
        """The category with this code ('other' included)."""
        if code == self.other.code:
            return self.other
        return next((c for c in self.items if c.code == code), None)

    def classify(self, icd10: str) -> str:
        """The category of an ICD-10 Q code: its longest matching prefix, else 'other'."""
        code = normalize(icd10)
        for length in range(len(code), 2, -1):
            hit = self.prefixes.get(code[:length])
            if hit:
                return hit
        return self.other.code


def normalize(icd10: str) -> str:
    """Q05.9 as written, whatever the case and spaces."""
    return icd10.strip().upper()


def _expand(spec: str) -> list[str]:
    """'Q20-Q26' → Q20..Q26; 'Q39.0-Q39.3' → Q39.0..Q39.3; 'Q00' → Q00."""
    if "-" not in spec:
        return [spec]
    low, high = spec.split("-")
    if "." in low:
        stem, a = low.split(".")
        b = high.split(".")[1]
        return [f"{stem}.{n}" for n in range(int(a), int(b) + 1)]
    return [f"Q{n:02d}" for n in range(int(low[1:]), int(high[1:]) + 1)]


def _category(raw: dict[str, Any]) -> Category:
    return Category(
        code=raw["code"],
        number=raw.get("number"),
        icd10=tuple(raw.get("icd10", ())),
        title=dict(raw["title"]),
        plain=dict(raw["plain"]),
    )


def parse(data: dict[str, Any], *, where: str = "categories.yaml") -> Categories:
    """Validate the file: every category has zh_CN and en words and valid, unshared codes."""
    items = tuple(_category(raw) for raw in data["categories"])
    prefixes: dict[str, str] = {}
    for category in items:
        for locale in ("zh_CN", "en"):
            if not category.title.get(locale) or not category.plain.get(locale):
                raise ValueError(f"{where}: {category.code}: title and plain need {locale}")
        for spec in category.icd10:
            for prefix in _expand(spec):
                if not ICD10_Q.match(prefix) and not re.match(r"^Q\d{2}$", prefix):
                    raise ValueError(f"{where}: {category.code}: bad ICD-10 code {prefix}")
                if prefix in prefixes:
                    raise ValueError(
                        f"{where}: {prefix} is in {prefixes[prefix]} and {category.code}"
                    )
                prefixes[prefix] = category.code
    return Categories(
        version=int(data["version"]),
        source=str(data["source"]),
        verified=bool(data.get("verified", False)),
        items=items,
        other=_category(data["other"]),
        prefixes=prefixes,
    )


_parsed: tuple[content.LoadedContent, Categories] | None = None


def init_app(app: Flask) -> Categories:
    """Parse the categories at start-up from the content create_app validated, into the app;
    a broken category stops the app here, naming it."""
    found = _of(content.loaded())
    app.extensions["surveillance.categories"] = found
    return found


def _of(loaded: content.LoadedContent) -> Categories:
    global _parsed
    if _parsed is None or _parsed[0] is not loaded:
        _parsed = (loaded, parse(loaded.data["surveillance.categories"]))
    return _parsed[1]


def categories() -> Categories:
    """The categories: the app's in a request, else those of the content create_app loaded."""
    if has_app_context() and "surveillance.categories" in current_app.extensions:
        found: Categories = current_app.extensions["surveillance.categories"]
        return found
    return _of(content.loaded())
