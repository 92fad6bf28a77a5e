"""Which content files exist, the model of each, and loading them all at start-up."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from flask import Flask
from pydantic import BaseModel, TypeAdapter, ValidationError

from backend.content import models
from backend.content.errors import Items
from backend.content.errors import problems as problems  # regimens/folic_acid.py reads it here
from backend.content.lessons import LessonFrontMatter
from backend.content.yamlfile import ContentFileError, load_yaml, yaml_problem

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FileKind:
    """One kind of content file: its path under content/ (a glob for a kind of many files,
    such as benefits/*.yaml) and the model it must match (a class or a tagged union)."""

    name: str
    path: str
    model: Any
    by_code: bool = False  # name list items by their code in errors ('tiers[2] (high)')
    items: Mapping[str, Items] = field(default_factory=dict)  # 'rule NAT-MAT-BASE: field ...'
    tags: tuple[str, ...] = ()  # the tags of a union chosen by a function (not in the data)
    one_per_item: bool = False  # report only the first problem of each named item

    @property
    def many(self) -> bool:
        """Several files (a dict of path → model once loaded), not one."""
        return "*" in self.path

    @functools.cached_property
    def adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self.model)


BENEFIT_ITEMS = {"rules": Items("rule", "id"), "open_questions": Items("open question")}

FILE_KINDS: tuple[FileKind, ...] = (
    FileKind("measurements", "measurements.yaml", models.Measurements),
    FileKind("life_stages", "life_stages.yaml", models.LifeStages),
    FileKind("dating.naegele", "dating/naegele.yaml", models.Naegele),
    FileKind("dating.redating", "dating/acog-co700.yaml", models.Redating),
    FileKind("dating.plausibility", "dating/plausibility.yaml", models.Plausibility),
    FileKind("reminders", "reminders.yaml", models.ReminderRules),
    FileKind("indicators.education", "indicators/education.yaml", models.EducationIndicator),
    FileKind("contraception.iud", "contraception/iud.yaml", models.IudFile),
    FileKind(
        "contraception.methods",
        "contraception/methods.yaml",
        models.MethodsFile,
        items={"methods": Items("method", "code"), "emergency": Items("emergency", "method")},
    ),
    FileKind(
        "contraception.table",
        "contraception/who_mec_2015.yaml",
        models.TableFile,
        items={"conditions": Items("condition", "code")},
    ),
    FileKind(
        "contraception.services",
        "contraception/services.yaml",
        models.ServicesFile,
        items={"services": Items("service", "code")},
    ),
    FileKind("regimens.folic_acid", "regimens/folic_acid.yaml", models.FolicAcidFile, by_code=True),
    FileKind("benefits", "benefits/*.yaml", models.BenefitRulesFile, items=BENEFIT_ITEMS),
    FileKind(
        "protocols",
        "protocols/*.yaml",
        models.ProtocolsFile,
        items={"items": Items("item", "code")},
        tags=("protocol", "definitions"),
        one_per_item=True,
    ),
    FileKind("indicators.policy", "indicators/_policy.yaml", models.IndicatorPolicy),
    # Every definition (a file whose name starts with "_" is not one: _policy.yaml).
    FileKind("indicators.definitions", "indicators/*.yaml", models.IndicatorDefinitionFile),
    FileKind(
        "surveillance.categories", "surveillance/categories.yaml", models.BirthDefectCategoriesFile
    ),
)
# Files read by a command rather than at start-up (`flask education import`): their schema only.
FRONT_MATTER = {"lessons.front_matter": (LessonFrontMatter, "lessons/<stage>/<slug>/<locale>.md")}
_BY_NAME = {kind.name: kind for kind in FILE_KINDS}
_BY_MODEL = {kind.model: kind for kind in FILE_KINDS}


@dataclass(frozen=True)
class LoadedContent:
    """Every validated file: the typed model and the data as written (for dict readers);
    a kind of many files holds {path: model} and {path: data}."""

    directory: Path
    models: dict[str, Any]
    data: dict[str, Any]


def parse(kind: FileKind | str, label: str, text: str) -> tuple[Any, Any]:
    """One file's text, validated: (model, data as written); ContentFileError naming the file,
    the item and the field."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ContentFileError([yaml_problem(label, exc)]) from exc
    return check(kind, label, data), data


def check(kind: FileKind | str, label: str, data: Any) -> Any:
    """Data read from a file of this kind, validated into its model."""
    kind = _BY_NAME[kind] if isinstance(kind, str) else kind
    try:
        return kind.adapter.validate_python(data)
    except ValidationError as exc:
        lines = problems(
            label,
            exc,
            data,
            by_code=kind.by_code,
            items=kind.items,
            tags=kind.tags,
            one_per_item=kind.one_per_item,
        )
        raise ContentFileError(lines) from exc


def _read(path: Path, kind: FileKind) -> tuple[Any, Any]:
    """One file, validated."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentFileError([f"{path}: cannot be read ({exc.strerror})"]) from exc
    return parse(kind, str(path), text)


def _read_kind(directory: Path, kind: FileKind) -> tuple[Any, Any]:
    """A kind's file, or {path: ...} of its files; every problem of every file at once."""
    if not kind.many:
        return _read(directory / kind.path, kind)
    found, data, lines = {}, {}, []
    paths = sorted(p for p in directory.glob(kind.path) if not p.name.startswith("_"))
    if not paths:
        lines.append(f"{directory / kind.path}: no such files")
    for path in paths:
        try:
            found[str(path)], data[str(path)] = _read(path, kind)
        except ContentFileError as exc:
            lines.extend(exc.lines)
    if lines:
        raise ContentFileError(lines)
    return found, data


def load_all(directory: str | Path = CONTENT_DIR) -> LoadedContent:
    """Read and validate every file kind; one ContentFileError listing every broken file."""
    return load_kinds(directory, [kind.name for kind in FILE_KINDS])


def load_kinds(directory: str | Path, names: list[str]) -> LoadedContent:
    """Read and validate these kinds only (a tool that needs part of content/, such as the
    clinical review of a folder of clinical files); every broken file at once."""
    directory = Path(directory)
    found: dict[str, Any] = {}
    data: dict[str, Any] = {}
    lines: list[str] = []
    for name in names:
        kind = _BY_NAME[name]
        try:
            found[kind.name], data[kind.name] = _read_kind(directory, kind)
        except ContentFileError as exc:
            lines.extend(exc.lines)
    if lines:
        raise ContentFileError(lines)
    return LoadedContent(directory=directory, models=found, data=data)


_loaded: LoadedContent | None = None


def init_app(app: Flask) -> LoadedContent:
    """Load every file at start-up into the app; a broken file stops it here."""
    content = load_all(content_dir(app))
    app.extensions["content"] = content
    activate(content)
    return content


def validated(app: Flask, name: str) -> Any:
    """The validated file (or {path: model} of files) of kind `name` that create_app loaded."""
    content: LoadedContent = app.extensions["content"]
    return content.models[name]


def content_dir(app: Flask) -> Path:
    """The content directory create_app validated (config CONTENT_DIR, else content/)."""
    return Path(app.config.get("CONTENT_DIR") or CONTENT_DIR)


def activate(content: LoadedContent) -> None:
    """Make `content` what the engines read (create_app does it; so does the test session)."""
    global _loaded
    _loaded = content


def loaded() -> LoadedContent:
    """What create_app loaded (engines and jobs run outside a request, so not current_app)."""
    if _loaded is None:
        raise RuntimeError("content is loaded by create_app (backend.content.init_app) first")
    return _loaded


def typed(model: type[M]) -> M:
    """The validated file of this model's kind."""
    found = loaded().models[_BY_MODEL[model].name]
    assert isinstance(found, model)
    return found


def raw(name: str) -> Any:
    """The validated file `name` as written (mappings and lists)."""
    return loaded().data[_BY_NAME[name].name]


PLACEHOLDER = re.compile(r"\{([a-z_.]+):([a-z0-9_.]+)\}")


def value(name: str, dotted: str) -> Any:
    """One value of a validated file: value("reminders", "steps.defaults.escalation.days")."""
    found = raw(name)
    for key in dotted.split("."):
        found = found[key]
    return found


def fill(text: str) -> str:
    """Text with each {kind:dotted.path} replaced by that value of content/ (API descriptions
    state a clinical or policy number without a copy of it in the code)."""
    return PLACEHOLDER.sub(lambda m: str(value(m.group(1), m.group(2))), text)


def write_schemas(target: str | Path) -> list[Path]:
    """One JSON Schema per file kind (<kind>.schema.json) into `target`; the paths written."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in FILE_KINDS:
        schema = kind.adapter.json_schema(by_alias=True)
        schema["$id"] = f"{kind.name}.schema.json"
        schema.setdefault("description", f"content/{kind.path}")
        path = target / f"{kind.name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    for name, (model, where) in FRONT_MATTER.items():
        schema = TypeAdapter(model).json_schema(by_alias=True)
        schema["$id"] = f"{name}.schema.json"
        schema.setdefault("description", f"the front matter of content/{where}")
        path = target / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
