"""What a lesson's content is and when it is valid: the one check shared by the API and the
importer, and the reader of content/lessons/<stage>/<slug>/<locale>.md files.

A lesson's content is a plain mapping:

    {"window": {"clock", "from", "to"}, "topics", "audience", "reading_minutes", "sources",
     "variants": {locale: {"title", "summary", "body", "quiz": [{question, options, answer}]}}}

`problems(stage, content)` lists every problem as (field path, localized message); the API
answers them as a 422, the importer prints them with the file they came from. Nothing here
touches the database.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeGuard

from backend.handbook import dating, stages
from backend.i18n import SUPPORTED_LOCALES, _l

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "lessons"
DEFAULT_LOCALE = "zh_CN"
LOCALES = SUPPORTED_LOCALES
CLOCKS = (
    "woman_age_years",
    "plan_months_before",
    "pregnancy_week",
    "postpartum_day",
    "loss_day",
    "child_age_month",
    "child_age_year",
)
# A clock that counts down to its anchor (months before the planned pregnancy): from > to.
COUNTDOWN_CLOCKS = ("plan_months_before",)
LOSS_TOPIC = "pregnancy-loss"
LOSS_CLOCK = "loss_day"
LOSS_STAGE = "birth"
AUDIENCES = ("mother", "partner", "grandparent")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TOPIC = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Sanity bounds of windows whose stage has no upper end in content/life_stages.yaml (format
# limits, not clinical numbers).
PLAN_MONTHS_MAX = 24
LOSS_DAYS_MAX = 365
AGE_MAX = 120
MAX_TITLE, MAX_SUMMARY, MAX_BODY, MAX_COMMENT = 200, 500, 50_000, 2000
MAX_QUESTIONS, MIN_OPTIONS, MAX_OPTIONS = 3, 2, 6
MAX_READING_MINUTES = 60

Path_ = tuple[str | int, ...]
Problem = tuple[Path_, Any]


@functools.cache
def stage_clocks() -> dict[str, dict[str, tuple[int, int]]]:
    """Each stage's clocks and the bounds (lowest from, highest to) of a window on them.

    The bands come from content/life_stages.yaml and content/dating/naegele.yaml; a rearing
    window may reach month 36 included (to: 37), as content/lessons/README.md says.
    """
    spec = stages.rules()
    care, later = spec["care"]["own_age_years"], spec["enjoyment"]["own_age_years"]
    rearing, school = spec["rearing"]["child_age_years"], spec["education"]["child_age_years"]
    postpartum = int(spec["birth"]["days_after_delivery"])
    return {
        "marriage": {
            "plan_months_before": (0, PLAN_MONTHS_MAX),
            "woman_age_years": (0, int(care["from"])),
        },
        "pregnancy": {"pregnancy_week": (0, int(dating.naegele()["max_ongoing_weeks"]))},
        "birth": {"postpartum_day": (0, postpartum + 1), LOSS_CLOCK: (0, LOSS_DAYS_MAX)},
        "rearing": {"child_age_month": (int(rearing["from"]) * 12, int(rearing["until"]) * 12 + 1)},
        "education": {"child_age_year": (int(school["from"]), int(school["until"]))},
        "care": {"woman_age_years": (int(care["from"]), int(care["until"]))},
        "enjoyment": {"woman_age_years": (int(later["from"]), AGE_MAX)},
    }


def is_loss(topics: Sequence[str], clock: str) -> bool:
    """A lesson about pregnancy loss: shown only to people who recorded one."""
    return LOSS_TOPIC in topics or clock == LOSS_CLOCK


# --- the check ----------------------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, path: Path_, limit: int, out: list[Problem]) -> None:
    if not isinstance(value, str):
        out.append((path, _l("Must be text.")))
    elif not value.strip():
        out.append((path, _l("Must not be empty.")))
    elif len(value) > limit:
        out.append((path, _l("At most %(max)s characters.", max=limit)))


def _labels(value: Any, name: str, out: list[Problem]) -> list[str]:
    if not isinstance(value, list) or not value:
        out.append(((name,), _l("Give a list of at least one.")))
        return []
    seen: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            out.append(((name, i), _l("Must be text.")))
        elif item in seen:
            out.append(((name, i), _l("Listed twice: %(value)s.", value=item)))
        else:
            seen.append(item)
    return seen


def _check_window(stage: str, window: Any, topics: list[str], out: list[Problem]) -> None:
    if not isinstance(window, Mapping):
        out.append((("window",), _l("Give the clock, from and to.")))
        return
    clocks = stage_clocks().get(stage, {})
    clock = window.get("clock")
    if clock not in CLOCKS:
        out.append((("window", "clock"), _l("Use one of: %(choices)s.", choices=", ".join(CLOCKS))))
        return
    if clock not in clocks:
        out.append(
            (
                ("window", "clock"),
                _l(
                    "The stage %(stage)s uses the clock %(clocks)s.",
                    stage=stage,
                    clocks=" / ".join(clocks),
                ),
            )
        )
        return
    low, high = clocks[clock]
    bounds_ok = True
    for end in ("from", "to"):
        value = window.get(end)
        if not _is_int(value):
            out.append((("window", end), _l("Must be a whole number.")))
            bounds_ok = False
        elif not low <= value <= high:
            out.append(
                (("window", end), _l("Must be between %(low)s and %(high)s.", low=low, high=high))
            )
            bounds_ok = False
    if bounds_ok:
        if clock in COUNTDOWN_CLOCKS and not window["from"] > window["to"]:
            out.append(
                (
                    ("window", "to"),
                    _l("This clock counts down: 'to' must be smaller than 'from'."),
                )
            )
        elif clock not in COUNTDOWN_CLOCKS and not window["from"] < window["to"]:
            out.append((("window", "to"), _l("The window must end after it starts.")))
    if clock == LOSS_CLOCK and LOSS_TOPIC not in topics:
        out.append(
            (
                ("topics",),
                _l("A lesson on the loss_day clock is about loss: add the topic pregnancy-loss."),
            )
        )
    if LOSS_TOPIC in topics and clock != LOSS_CLOCK:
        out.append(
            (
                ("window", "clock"),
                _l("Lessons about pregnancy loss belong to the birth stage and use loss_day."),
            )
        )


def _check_quiz(quiz: Any, path: Path_, out: list[Problem]) -> None:
    if quiz is None or quiz == []:
        return
    if not isinstance(quiz, list) or len(quiz) > MAX_QUESTIONS:
        out.append((path, _l("Give at most %(max)s questions.", max=MAX_QUESTIONS)))
        return
    for i, item in enumerate(quiz):
        here = (*path, i)
        if not isinstance(item, Mapping):
            out.append((here, _l("Give a question, its options and the answer.")))
            continue
        _text(item.get("question"), (*here, "question"), MAX_TITLE, out)
        options = item.get("options")
        if not isinstance(options, list) or not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            out.append(
                (
                    (*here, "options"),
                    _l("Give %(min)s to %(max)s options.", min=MIN_OPTIONS, max=MAX_OPTIONS),
                )
            )
            continue
        for j, option in enumerate(options):
            _text(option, (*here, "options", j), MAX_TITLE, out)
        answer = item.get("answer")
        if not _is_int(answer) or not 0 <= answer < len(options):
            out.append(
                (
                    (*here, "answer"),
                    _l("The answer is the position of the right option, counting from 0."),
                )
            )


def _quiz_key(quiz: Any) -> list[tuple[int, Any]]:
    """What every language of a quiz must share: the number of options and the answer."""
    if not isinstance(quiz, list):
        return []
    return [
        (len(q.get("options") or []), q.get("answer")) if isinstance(q, Mapping) else (0, None)
        for q in quiz
    ]


def _check_variants(variants: Any, out: list[Problem]) -> None:
    if not isinstance(variants, Mapping) or DEFAULT_LOCALE not in variants:
        out.append((("variants",), _l("The zh_CN version is required.")))
        return
    for locale, variant in variants.items():
        path: Path_ = ("variants", str(locale))
        if locale not in LOCALES:
            out.append((path, _l("Use one of: %(choices)s.", choices=", ".join(LOCALES))))
            continue
        if not isinstance(variant, Mapping):
            out.append((path, _l("Give the title, summary and body.")))
            continue
        _text(variant.get("title"), (*path, "title"), MAX_TITLE, out)
        _text(variant.get("summary"), (*path, "summary"), MAX_SUMMARY, out)
        _text(variant.get("body"), (*path, "body"), MAX_BODY, out)
        _check_quiz(variant.get("quiz"), (*path, "quiz"), out)
    reference = _quiz_key(variants[DEFAULT_LOCALE].get("quiz"))
    for locale, variant in variants.items():
        if (
            locale != DEFAULT_LOCALE
            and isinstance(variant, Mapping)
            and _quiz_key(variant.get("quiz")) != reference
        ):
            out.append(
                (
                    ("variants", str(locale), "quiz"),
                    _l("The quiz must have the same questions, options and answers in zh_CN."),
                )
            )


def problems(stage: str, content: Mapping[str, Any]) -> list[Problem]:
    """Every problem of a lesson's content for its stage, as (field path, message)."""
    out: list[Problem] = []
    topics = _labels(content.get("topics"), "topics", out)
    for i, topic in enumerate(topics):
        if not TOPIC.match(topic):
            out.append(
                (
                    ("topics", i),
                    _l("Use short lowercase labels with hyphens, such as folic-acid."),
                )
            )
    if LOSS_TOPIC in topics and stage != LOSS_STAGE:
        out.append(
            (
                ("topics",),
                _l("Lessons about pregnancy loss belong to the birth stage and use loss_day."),
            )
        )
    _check_window(stage, content.get("window"), topics, out)
    audience = _labels(content.get("audience"), "audience", out)
    for i, who in enumerate(audience):
        if who not in AUDIENCES:
            out.append(
                (("audience", i), _l("Use one of: %(choices)s.", choices=", ".join(AUDIENCES)))
            )
    minutes = content.get("reading_minutes")
    if not _is_int(minutes) or not 1 <= minutes <= MAX_READING_MINUTES:
        out.append(
            (
                ("reading_minutes",),
                _l("Must be between %(low)s and %(high)s.", low=1, high=MAX_READING_MINUTES),
            )
        )
    sources = content.get("sources")
    if not isinstance(sources, list) or not sources:
        out.append((("sources",), _l("Name at least one source of the lesson's clinical facts.")))
    else:
        for i, source in enumerate(sources):
            if not isinstance(source, Mapping) or set(source) != {"title", "ref"}:
                out.append((("sources", i), _l("Each source has a title and a ref.")))
                continue
            _text(source["title"], ("sources", i, "title"), MAX_SUMMARY, out)
            _text(source["ref"], ("sources", i, "ref"), MAX_TITLE, out)
    _check_variants(content.get("variants"), out)
    return out


def slug_problems(slug: Any, stage: Any) -> list[Problem]:
    """Problems of a new lesson's slug and stage."""
    out: list[Problem] = []
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > 100:
        out.append((("slug",), _l("Use lowercase letters, digits and hyphens.")))
    if stage not in stages.STAGE_NAMES:
        out.append(
            (("stage",), _l("Use one of: %(choices)s.", choices=", ".join(stages.STAGE_NAMES)))
        )
    return out


def nested_errors(found: Sequence[Problem]) -> dict[str, Any]:
    """Problems as a marshmallow-shaped errors map: {"window": {"from": [message]}}."""
    errors: dict[str, Any] = {}
    for path, message in found:
        node = errors
        keys = [str(k) for k in path]
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):  # a message at a parent level: keep both
                child = node[key] = {"_schema": child}
            node = child
        leaf = node.setdefault(keys[-1], [])
        if isinstance(leaf, dict):
            leaf.setdefault("_schema", []).append(message)
        else:
            leaf.append(message)
    return errors


# --- normal form and hash -----------------------------------------------------------------------


def normalized(content: Mapping[str, Any]) -> dict[str, Any]:
    """The content as stored: bodies stripped, zh_CN first, only known keys."""
    window = content["window"]
    return {
        "window": {"clock": window["clock"], "from": window["from"], "to": window["to"]},
        "topics": list(content["topics"]),
        "audience": list(content["audience"]),
        "reading_minutes": content["reading_minutes"],
        "sources": [{"title": s["title"], "ref": s["ref"]} for s in content["sources"]],
        "variants": {
            locale: {
                "title": v["title"].strip(),
                "summary": v["summary"].strip(),
                "body": v["body"].strip() + "\n",
                "quiz": [
                    {
                        "question": q["question"],
                        "options": list(q["options"]),
                        "answer": q["answer"],
                    }
                    for q in (v.get("quiz") or [])
                ],
            }
            for locale, v in sorted(
                content["variants"].items(), key=lambda item: (item[0] != DEFAULT_LOCALE, item[0])
            )
        },
    }


def content_hash(content: Mapping[str, Any]) -> str:
    """sha256 of the normalized content: the same lesson text always gives the same hash."""
    canonical = json.dumps(normalized(content), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
