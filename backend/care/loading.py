"""Read content/protocols/*.yaml, validate every field, and build the ProtocolSet.

Every problem is reported as "<file>: item <code>: field <field>: <message>" so that an editor
can find it; one problem per item is reported, for every broken item of every file, at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backend.care.offsets import Offset
from backend.care.protocols import (
    CONTENT_DIR,
    ChoiceGroup,
    Definitions,
    FieldTest,
    FlagDefinition,
    Item,
    ProtocolError,
    ProtocolSet,
    ProtocolVersion,
)
from backend.care.reading import (
    DEFAULT_KEYS,
    FileCtx,
    Invalid,
    Ref,
    check_keys,
    check_test_fits,
    read_bool,
    read_choice,
    read_code,
    read_codes,
    read_date,
    read_item,
    read_mapping,
    read_note,
    read_offset,
    read_source,
    read_string,
    read_text,
)
from backend.conditions import Source, Text
from backend.content.yamlfile import load_yaml

FILE_KEYS = {
    "programme",
    "version",
    "effective_from",
    "effective_to",
    "title",
    "source",
    "note",
    "extends",
    "removes",
    "defaults",
    "choices",
    "items",
}


# --- files ---


@dataclass
class _ParsedFile:
    """One protocol file, read but not yet joined to the other versions of its programme."""

    path: str
    programme: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    title: Text
    source: Source
    note: str | None
    extends: str | None
    removes: tuple[str, ...]
    choices: dict[str, ChoiceGroup]
    items: dict[str, Item]


def _choices(value: Any) -> dict[str, ChoiceGroup]:
    """Alternative groups (JE-L or JE-I), each with its default."""
    groups: dict[str, ChoiceGroup] = {}
    for group, spec in read_mapping(value, "choices").items():
        name = f"choices.{group}"
        data = read_mapping(spec, name)
        check_keys(data, {"options", "default", "note"}, {"options", "default"}, f"{name}.")
        options = data["options"]
        if not isinstance(options, list) or len(options) < 2 or len(set(options)) != len(options):
            raise Invalid(f"{name}.options", "must list two or more distinct options")
        options = tuple(read_string(o, f"{name}.options") for o in options)
        groups[str(group)] = ChoiceGroup(
            name=str(group),
            options=options,
            default=read_choice(data["default"], options, f"{name}.default"),
            note=read_note(data.get("note"), f"{name}.note"),
        )
    return groups


def _file(
    path: str, data: Any, definitions: Definitions | None, refs: list[Ref], problems: list[str]
) -> _ParsedFile | None:
    """Read one protocol file; append problems and return None when its header is broken."""
    try:
        data = read_mapping(data, "(file)")
        check_keys(
            data,
            FILE_KEYS,
            {"programme", "version", "effective_from", "title", "source", "items"},
            "",
        )
        programme = read_code(data["programme"], "programme")
        if not isinstance(data["version"], str) or not data["version"].strip():
            raise Invalid("version", 'must be text in quotes, such as "2021.1"')
        effective_from = read_date(data["effective_from"], "effective_from")
        effective_to = (
            read_date(data["effective_to"], "effective_to")
            if data.get("effective_to") is not None
            else None
        )
        if effective_to is not None and effective_to < effective_from:
            raise Invalid("effective_to", "is before effective_from")
        extends = data.get("extends")
        if extends is not None and (not isinstance(extends, str) or not extends.strip()):
            raise Invalid("extends", 'must be the version text of an earlier file, such as "2021"')
        removes = read_codes(data["removes"], "removes") if data.get("removes") is not None else ()
        if removes and extends is None:
            raise Invalid("removes", "only a file that extends another version can remove items")
        defaults = dict(read_mapping(data.get("defaults") or {}, "defaults"))
        check_keys(defaults, DEFAULT_KEYS, set(), "defaults.")
        if not isinstance(data["items"], list) or (not data["items"] and extends is None):
            raise Invalid("items", "must be a non-empty list")
        parsed = _ParsedFile(
            path=path,
            programme=programme,
            version=data["version"].strip(),
            effective_from=effective_from,
            effective_to=effective_to,
            title=read_text(data["title"], "title"),
            source=read_source(data["source"], "source"),
            note=read_note(data.get("note"), "note"),
            extends=extends.strip() if extends else None,
            removes=removes,
            choices=_choices(data["choices"]) if data.get("choices") is not None else {},
            items={},
        )
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        return None
    file_source = parsed.source
    if "source" in defaults:
        try:
            file_source = read_source(defaults.pop("source"), "defaults.source")
        except Invalid as exc:
            problems.append(f"{path}: field {exc.field}: {exc.message}")
            return None
    ctx = FileCtx(path=path, programme=programme, definitions=definitions)
    for index, raw in enumerate(data["items"]):
        label = f"#{index + 1}"
        try:
            raw = read_mapping(raw, "(item)")
            code = read_code(raw.get("code"), "code")
            label = code
            if code in parsed.items:
                raise Invalid("code", "used twice in this file")
            parsed.items[code] = read_item({**defaults, **raw}, ctx, file_source, code)
        except Invalid as exc:
            problems.append(f"{path}: item {label}: field {exc.field}: {exc.message}")
    refs.extend(ctx.refs)
    return parsed


def _definitions(path: str, data: Mapping[str, Any]) -> Definitions:
    """The definitions file: term, preterm limit, and the flags conditions may test."""
    check_keys(data, {"version", "definitions", "note"}, {"version", "definitions"}, "")
    if not isinstance(data["version"], str):
        raise Invalid("version", 'must be text in quotes, such as "2026.1"')
    body = read_mapping(data["definitions"], "definitions")
    check_keys(
        body,
        {"term_gestation", "preterm_below", "flags"},
        {"term_gestation", "preterm_below", "flags"},
        "definitions.",
    )
    offsets: dict[str, Offset] = {}
    for key in ("term_gestation", "preterm_below"):
        name = f"definitions.{key}"
        entry = read_mapping(body[key], name)
        check_keys(
            entry,
            {"value", "source", "verified", "note"},
            {"value", "source", "verified"},
            f"{name}.",
        )
        read_source(entry["source"], f"{name}.source")
        if not read_bool(entry["verified"], f"{name}.verified") and entry.get("note") is None:
            raise Invalid(f"{name}.note", "required when verified is false")
        offset = read_offset(entry["value"], f"{name}.value")
        if offset.months or offset.days <= 0:
            raise Invalid(
                f"{name}.value", "must be a gestational age in weeks and days, such as 40w"
            )
        offsets[key] = offset
    flags: dict[str, FlagDefinition] = {}
    for flag, spec in read_mapping(body["flags"], "definitions.flags").items():
        name = f"definitions.flags.{flag}"
        entry = read_mapping(spec, name)
        check_keys(entry, {"values", "title", "note"}, {"values"}, f"{name}.")
        if not isinstance(entry["values"], list) or not entry["values"]:
            raise Invalid(f"{name}.values", "must list the values the flag can take")
        flags[read_code(flag, name)] = FlagDefinition(
            name=str(flag),
            values=tuple(entry["values"]),
            title=read_text(entry["title"], f"{name}.title") if "title" in entry else None,
        )
    return Definitions(
        version=data["version"],
        term_gestation=offsets["term_gestation"],
        preterm_below=offsets["preterm_below"],
        flags=flags,
        path=path,
    )


# --- joining files into programmes, and cross-file checks ---


def _versions(files: list[_ParsedFile], problems: list[str]) -> tuple[ProtocolVersion, ...]:
    """Order the versions of one programme, check they follow each other, resolve `extends`."""
    files = sorted(files, key=lambda f: f.effective_from)
    resolved: dict[str, ProtocolVersion] = {}
    for previous, current in itertools.pairwise(files):
        if current.version == previous.version:
            problems.append(
                f"{current.path}: field version: {current.version!r} "
                f"is also the version of {previous.path}"
            )
        if (
            previous.effective_to is None
            or previous.effective_to + dt.timedelta(days=1) != current.effective_from
        ):
            problems.append(
                f"{previous.path}: field effective_to: must be the day before {current.path} "
                f"takes effect ({current.effective_from - dt.timedelta(days=1)})"
            )
    for parsed in files:
        items: dict[str, Item] = {}
        choices: dict[str, ChoiceGroup] = {}
        if parsed.extends is not None:
            base = resolved.get(parsed.extends)
            if base is None:
                problems.append(
                    f"{parsed.path}: field extends: no earlier version {parsed.extends!r} "
                    f"of programme {parsed.programme}"
                )
                continue
            items = dict(base.items)
            choices = dict(base.choices)
            for code in parsed.removes:
                if code not in items:
                    problems.append(
                        f"{parsed.path}: field removes: {code!r} "
                        f"is not an item of version {base.version}"
                    )
                items.pop(code, None)
        items.update(parsed.items)
        choices.update(parsed.choices)
        resolved[parsed.version] = ProtocolVersion(
            programme=parsed.programme,
            version=parsed.version,
            effective_from=parsed.effective_from,
            effective_to=parsed.effective_to,
            title=parsed.title,
            source=parsed.source,
            path=parsed.path,
            items=items,
            choices=choices,
            extends=parsed.extends,
            note=parsed.note,
        )
    return tuple(resolved[f.version] for f in files if f.version in resolved)


def _check_refs(
    programmes: Mapping[str, tuple[ProtocolVersion, ...]], refs: list[Ref], problems: list[str]
) -> None:
    """Steps, fields and choice groups named by items must exist once all files are read."""
    owner: dict[str, str] = {}
    items: dict[str, list[Item]] = {}
    for name, versions in programmes.items():
        for version in versions:
            for code, item in version.items.items():
                owner.setdefault(code, name)
                items.setdefault(code, []).append(item)
    for ref in refs:
        where = f"{ref.path}: item {ref.code}: field {ref.field}"
        if ref.what in ("step", "interval", "field") and ref.target not in owner:
            problems.append(f"{where}: unknown step {ref.target!r}")
        elif ref.what == "interval" and owner[ref.target] != owner.get(ref.code):
            problems.append(f"{where}: {ref.target!r} belongs to another programme")
        elif ref.what == "field":
            test: FieldTest = ref.detail
            specs = [i.result_field(test.field) for i in items[ref.target]]
            spec = next((s for s in specs if s is not None), None)
            if spec is None:
                problems.append(
                    f"{where}: step {ref.target!r} declares no result field {test.field!r}"
                )
                continue
            try:
                check_test_fits(test, spec, ref.field)
            except Invalid as exc:
                problems.append(f"{where}: {exc.message}")
        elif ref.what == "choice":
            groups = {
                g.name: g
                for v in programmes.get(owner.get(ref.code, ""), ())
                for g in v.choices.values()
            }
            group = groups.get(ref.target)
            if group is None:
                problems.append(
                    f"{where}: unknown choice group {ref.target!r}; declare it under `choices:`"
                )
            elif ref.detail not in group.options:
                problems.append(
                    f"{where}: {ref.detail!r} is not an option of {ref.target} "
                    f"{list(group.options)}"
                )


def _check_codes(
    programmes: Mapping[str, tuple[ProtocolVersion, ...]], problems: list[str]
) -> None:
    """A code belongs to one programme and keeps its subject kind across versions."""
    seen: dict[str, Item] = {}
    for name in sorted(programmes):
        for version in programmes[name]:
            for code, item in version.items.items():
                first = seen.setdefault(code, item)
                if first.programme != item.programme:
                    problems.append(
                        f"{item.path}: item {code}: field code: already used in {first.path}"
                    )
                elif first.kind != item.kind:
                    problems.append(
                        f"{item.path}: item {code}: field kind: is {first.kind} in {first.path}"
                    )


def build_protocols(texts: Mapping[str, str]) -> ProtocolSet:
    """Parse and validate protocol documents given as {path: YAML text}."""
    problems: list[str] = []
    documents: dict[str, Any] = {}
    for path, text in texts.items():
        try:
            documents[path] = load_yaml(text)
        except yaml.YAMLError as exc:
            problems.append(f"{path}: YAML syntax error: {' '.join(str(exc).split())}")
    definition_paths = [
        p for p, d in documents.items() if isinstance(d, Mapping) and "definitions" in d
    ]
    definitions = None
    if len(definition_paths) != 1:
        problems.append(
            "(protocols): exactly one definitions file is required, "
            f"found {len(definition_paths)}: " + ", ".join(definition_paths)
        )
    else:
        try:
            definitions = _definitions(definition_paths[0], documents[definition_paths[0]])
        except Invalid as exc:
            problems.append(f"{definition_paths[0]}: field {exc.field}: {exc.message}")
    refs: list[Ref] = []
    by_programme: dict[str, list[_ParsedFile]] = {}
    for path, data in documents.items():
        if path in definition_paths:
            continue
        parsed = _file(path, data, definitions, refs, problems)
        if parsed is not None:
            by_programme.setdefault(parsed.programme, []).append(parsed)
    if not by_programme and not problems:
        problems.append("(protocols): no protocol files found")
    programmes = {name: _versions(files, problems) for name, files in sorted(by_programme.items())}
    _check_codes(programmes, problems)
    _check_refs(programmes, refs, problems)
    if problems or definitions is None:
        raise ProtocolError(problems)
    return ProtocolSet(definitions=definitions, programmes=programmes)


def load_protocols(directory: str | Path = CONTENT_DIR) -> ProtocolSet:
    """Load and validate every protocol file of `directory`; ProtocolError if any is broken."""
    return load_directory(Path(directory))


def load_directory(directory: Path) -> ProtocolSet:
    """Load every *.yaml file of `directory` (paths in messages are as given)."""
    if not directory.is_dir():
        raise ProtocolError([f"{directory}: not a directory"])
    paths = sorted(directory.glob("*.yaml"))
    return build_protocols({str(p): p.read_text(encoding="utf-8") for p in paths})
