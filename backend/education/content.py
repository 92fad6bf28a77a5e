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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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


def _is_int(value: Any) -> bool:
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


# --- files --------------------------------------------------------------------------------------

SHARED_KEYS = ("slug", "stage", "window", "topics", "audience", "reading_minutes", "sources")
VARIANT_KEYS = ("title", "summary")
REQUIRED_KEYS = (*SHARED_KEYS, *VARIANT_KEYS)
KNOWN_KEYS = (*REQUIRED_KEYS, "quiz")


@dataclass
class LessonFiles:
    """One lesson folder read from disk: its slug, stage, content and the file of each locale."""

    slug: str
    stage: str
    content: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)


class ContentFilesError(ValueError):
    """Lesson files are broken; each line names the file and the field."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (YAML keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body) of a file that starts with a `---` line; ValueError otherwise."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ValueError("the file must start with a line of three dashes (---)")
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    raise ValueError("the front matter is not closed by a line of three dashes (---)")


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _read_file(path: Path, stage: str, slug: str, lines: list[str]) -> dict[str, Any] | None:
    """One locale file's front matter and body, or None after adding its problems to `lines`."""
    try:
        front, body = split_front_matter(path.read_text(encoding="utf-8"))
        data = yaml.load(front, Loader=_UniqueKeyLoader)
    except UnicodeDecodeError:
        lines.append(f"{path}: the file is not UTF-8 text")
        return None
    except (ValueError, yaml.YAMLError) as exc:
        lines.append(f"{path}: front matter: {exc}".replace("\n", " "))
        return None
    if not isinstance(data, Mapping):
        lines.append(f"{path}: front matter: expected `field: value` lines")
        return None
    bad = False
    for key in data:
        if key not in KNOWN_KEYS:
            lines.append(f"{path}: field {key}: unknown field")
            bad = True
    for key in REQUIRED_KEYS:
        if key not in data:
            lines.append(f"{path}: field {key}: required")
            bad = True
    if data.get("slug") != slug:
        lines.append(f"{path}: field slug: must be the folder name {slug!r}")
        bad = True
    if data.get("stage") != stage:
        lines.append(f"{path}: field stage: must be the stage folder {stage!r}")
        bad = True
    if bad:
        return None
    return {**data, "body": body}


def read_tree(root: Path | str = CONTENT_DIR) -> list[LessonFiles]:
    """Read and check every lesson under `root`; ContentFilesError lists every problem."""
    root = Path(root)
    lines: list[str] = []
    found: list[LessonFiles] = []
    seen: dict[str, Path] = {}
    if not root.is_dir():
        raise ContentFilesError([f"{root}: no such folder"])
    for stage_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        stage = stage_dir.name
        if stage not in stages.STAGE_NAMES:
            lines.append(f"{stage_dir}: not a life stage ({', '.join(stages.STAGE_NAMES)})")
            continue
        for lesson_dir in sorted(p for p in stage_dir.iterdir() if p.is_dir()):
            lesson = _read_lesson(lesson_dir, stage, lines)
            if lesson is None:
                continue
            if lesson.slug in seen:
                lines.append(f"{lesson_dir}: the slug {lesson.slug!r} is also {seen[lesson.slug]}")
                continue
            seen[lesson.slug] = lesson_dir
            found.append(lesson)
    if lines:
        raise ContentFilesError(lines)
    return found


def _read_lesson(lesson_dir: Path, stage: str, lines: list[str]) -> LessonFiles | None:
    slug = lesson_dir.name
    files: dict[str, Path] = {}
    for path in sorted(lesson_dir.iterdir()):
        locale = path.name.removesuffix(".md")
        if path.suffix != ".md" or locale not in LOCALES:
            lines.append(f"{path}: not a lesson file: name it {' or '.join(LOCALES)} + .md")
        else:
            files[locale] = path
    if DEFAULT_LOCALE not in files:
        lines.append(f"{lesson_dir / (DEFAULT_LOCALE + '.md')}: missing (zh_CN is required)")
        return None
    before = len(lines)
    read = {locale: _read_file(path, stage, slug, lines) for locale, path in files.items()}
    reference = read[DEFAULT_LOCALE]
    if reference is None or len(lines) > before:
        return None
    for locale, data in read.items():
        if locale == DEFAULT_LOCALE or data is None:
            continue
        for key in SHARED_KEYS:
            if data[key] != reference[key]:
                lines.append(
                    f"{files[locale]}: field {key}: differs from {DEFAULT_LOCALE}.md "
                    "(the same in every language)"
                )
    content = {
        **{key: reference[key] for key in SHARED_KEYS if key not in ("slug", "stage")},
        "variants": {
            locale: {
                "title": data["title"],
                "summary": data["summary"],
                "body": data["body"],
                "quiz": data.get("quiz") or [],
            }
            for locale, data in read.items()
            if data is not None
        },
    }
    for path_, message in problems(stage, content):
        if path_[0] == "variants" and len(path_) >= 2 and str(path_[1]) in files:
            where, name = files[str(path_[1])], _dotted(path_[2:]) or "front matter"
        else:
            where, name = files[DEFAULT_LOCALE], _dotted(path_)
        if name == "body":
            lines.append(f"{where}: body: {message}")
        else:
            lines.append(f"{where}: field {name}: {message}")
    if len(lines) > before:
        return None
    return LessonFiles(
        slug=slug,
        stage=stage,
        content=normalized(content),
        files={locale: str(path) for locale, path in files.items()},
    )
