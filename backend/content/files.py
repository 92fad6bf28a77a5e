"""Which content files exist, the model of each, and loading them all at start-up."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from flask import Flask
from pydantic import BaseModel, ValidationError

from backend.content import models
from backend.content.yamlfile import ContentFileError, load_yaml

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FileKind:
    """One kind of content file: its path under content/ and the model it must match."""

    name: str
    path: str
    model: type[BaseModel]
    by_code: bool = False  # name list items by their code in errors ('tiers[2] (high)')
    # A directory of files (path a glob; names starting with "_" left out), read as one
    # mapping of file name → content.
    many: bool = False


FILE_KINDS: tuple[FileKind, ...] = (
    FileKind("measurements", "measurements.yaml", models.Measurements),
    FileKind("life_stages", "life_stages.yaml", models.LifeStages),
    FileKind("dating.naegele", "dating/naegele.yaml", models.Naegele),
    FileKind("dating.redating", "dating/acog-co700.yaml", models.Redating),
    FileKind("dating.plausibility", "dating/plausibility.yaml", models.Plausibility),
    FileKind("reminders", "reminders.yaml", models.ReminderRules),
    FileKind("indicators.education", "indicators/education.yaml", models.EducationIndicator),
    FileKind("contraception.iud", "contraception/iud.yaml", models.IudFile),
    FileKind("regimens.folic_acid", "regimens/folic_acid.yaml", models.FolicAcidFile, by_code=True),
    FileKind("indicators.policy", "indicators/_policy.yaml", models.IndicatorPolicy),
    FileKind("indicators.definitions", "indicators/*.yaml", models.IndicatorDefinitions, many=True),
    FileKind(
        "surveillance.categories", "surveillance/categories.yaml", models.BirthDefectCategoriesFile
    ),
)
_BY_NAME = {kind.name: kind for kind in FILE_KINDS}
_BY_MODEL = {kind.model: kind for kind in FILE_KINDS}


@dataclass(frozen=True)
class LoadedContent:
    """Every validated file: the typed model and the data as written (for dict readers)."""

    directory: Path
    models: dict[str, BaseModel]
    data: dict[str, Any]


VALUE_ERROR = "Value error, "
_AT = re.compile(r"^(?:Value error, )?@([^@]+)@ (.*)$", re.S)


def _path(loc: list[int | str], data: Any, by_code: bool) -> str:
    """'tiers[2].lead_days', or 'tiers[2] (high).lead_days' naming list items by their code."""
    text, node = "", data
    for part in loc:
        if isinstance(node, list) and (isinstance(part, int) or str(part).isdigit()):
            index = int(part)
            node = node[index] if index < len(node) else None
            code = node.get("code") if isinstance(node, dict) else None
            named = by_code and isinstance(code, str)
            text += f"[{index}]" + (f" ({code})" if named else "")
        else:
            node = node.get(part) if isinstance(node, dict) else None
            text += f".{part}" if text else str(part)
    return text or "(file)"


def problems(label: str, exc: ValidationError, data: Any, *, by_code: bool = False) -> list[str]:
    """One line per problem: '<file>: field <path>: <message>'."""
    lines = []
    for error in exc.errors():
        loc, message = list(error["loc"]), str(error["msg"])
        found = _AT.match(message)
        if found:  # a check of a whole item, reported against one of its fields
            loc += found.group(1).split(".")
            message = found.group(2)
        lines.append(
            f"{label}: field {_path(loc, data, by_code)}: {message.removeprefix(VALUE_ERROR)}"
        )
    return lines


def _load(path: Path) -> Any:
    label = str(path)
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContentFileError([f"{label}: cannot be read ({exc.strerror})"]) from exc
    except yaml.YAMLError as exc:
        raise ContentFileError([f"{label}: {exc}".replace("\n", " ")]) from exc


def _read(directory: Path, kind: FileKind) -> tuple[BaseModel, Any]:
    """One file, validated; ContentFileError naming the file, the item and the field."""
    path = directory / kind.path
    label = str(path)
    if kind.many:
        found = sorted(p for p in directory.glob(kind.path) if not p.name.startswith("_"))
        data = {p.name: _load(p) for p in found}
        label = str(path.parent)
    else:
        data = _load(path)
    try:
        return kind.model.model_validate(data), data
    except ValidationError as exc:
        raise ContentFileError(problems(label, exc, data, by_code=kind.by_code)) from exc


def load_all(directory: str | Path = CONTENT_DIR) -> LoadedContent:
    """Read and validate every file kind; one ContentFileError listing every broken file."""
    directory = Path(directory)
    found: dict[str, BaseModel] = {}
    data: dict[str, Any] = {}
    problems: list[str] = []
    for kind in FILE_KINDS:
        try:
            found[kind.name], data[kind.name] = _read(directory, kind)
        except ContentFileError as exc:
            problems.extend(exc.lines)
    if problems:
        raise ContentFileError(problems)
    return LoadedContent(directory=directory, models=found, data=data)


_loaded: LoadedContent | None = None


def init_app(app: Flask) -> LoadedContent:
    """Load every file at start-up into the app; a broken file stops it here."""
    content = load_all(content_dir(app))
    app.extensions["content"] = content
    activate(content)
    return content


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
        schema = kind.model.model_json_schema(by_alias=True)
        schema["$id"] = f"{kind.name}.schema.json"
        schema.setdefault("description", f"content/{kind.path}")
        path = target / f"{kind.name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
