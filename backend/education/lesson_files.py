"""The reader of content/lessons/<stage>/<slug>/<locale>.md files for the importer.

Each file is front matter (YAML, keys written once; its keys and types: the content layer's
model LessonFrontMatter) and a Markdown body; a lesson folder is read into one content mapping
checked by backend.education.lesson_content, and every problem is reported with the file it
came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from backend.content.errors import problems as problems_of
from backend.content.lessons import LessonFrontMatter
from backend.content.yamlfile import ContentFileError, load_yaml
from backend.education.lesson_content import (
    DEFAULT_LOCALE,
    LOCALES,
    Path_,
    normalized,
    problems,
)
from backend.handbook import stages

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "lessons"

SHARED_KEYS = ("slug", "stage", "window", "topics", "audience", "reading_minutes", "sources")


@dataclass
class LessonFiles:
    """One lesson folder read from disk: its slug, stage, content and the file of each locale."""

    slug: str
    stage: str
    content: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)


class ContentFilesError(ContentFileError):
    """Lesson files are broken; each line names the file and the field."""


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
        data = load_yaml(front)
    except UnicodeDecodeError:
        lines.append(f"{path}: the file is not UTF-8 text")
        return None
    except (ValueError, yaml.YAMLError) as exc:
        lines.append(f"{path}: front matter: {exc}".replace("\n", " "))
        return None
    if not isinstance(data, Mapping):
        lines.append(f"{path}: front matter: expected `field: value` lines")
        return None
    try:
        LessonFrontMatter.model_validate(data)
    except ValidationError as exc:
        lines.extend(problems_of(str(path), exc, data))
        return None
    bad = False
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
