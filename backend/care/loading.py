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
from pydantic import ValidationError

from backend.care.item_checks import FileCtx, Ref, build_item, care_text, check_test_fits
from backend.care.offsets import parse_offset
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
from backend.care.reading import Invalid
from backend.conditions import Source, Text
from backend.content import ContentFileError
from backend.content import check as check_content
from backend.content.common import as_source
from backend.content.protocols import DefinitionsFile, ProtocolFile
from backend.content.versions import chain
from backend.content.yamlfile import load_yaml, yaml_problem

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


def _file(
    path: str, data: Any, definitions: Definitions | None, refs: list[Ref], problems: list[str]
) -> _ParsedFile | None:
    """One protocol file (model ProtocolFile, each item an ItemSpec), its items then checked in
    their context (care/item_checks.py); append problems and return None when its header is
    broken (a broken item is reported and left out, the others still checked and joined)."""
    try:
        spec = check_content("protocols", path, data)
    except ContentFileError as exc:
        problems.extend(exc.lines)
        spec = _sound_items(data)
        if spec is None:
            return None
    if not isinstance(spec, ProtocolFile):
        problems.append(f"{path}: field definitions: a second definitions file")
        return None
    parsed = _ParsedFile(
        path=path,
        programme=spec.programme,
        version=spec.version,
        effective_from=spec.effective_from,
        effective_to=spec.effective_to,
        title=care_text(spec.title),
        source=as_source(spec.source),
        note=spec.note,
        extends=spec.extends,
        removes=tuple(spec.removes or ()),
        choices={
            name: ChoiceGroup(
                name=name, options=tuple(group.options), default=group.default, note=group.note
            )
            for name, group in spec.choices.items()
        },
        items={},
    )
    ctx = FileCtx(path=path, programme=spec.programme, definitions=definitions)
    for item in spec.items:
        try:
            if item.code in parsed.items:
                raise Invalid("code", "used twice in this file")
            parsed.items[item.code] = build_item(item, as_source(spec.source_of(item)), ctx)
        except Invalid as exc:
            problems.append(f"{path}: item {item.code}: field {exc.field}: {exc.message}")
    refs.extend(ctx.refs)
    return parsed


def _sound_items(data: Any) -> ProtocolFile | None:
    """The file without its broken items (already reported), or None if its header is broken."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None
    sound = []
    for item in data["items"]:
        try:
            ProtocolFile.model_validate({**data, "items": [item]})
        except ValidationError:
            continue
        sound.append(item)
    try:
        return ProtocolFile.model_validate({**data, "items": sound})
    except ValidationError:
        return None


def _definitions(path: str, data: Any) -> Definitions:
    """The definitions file (model DefinitionsFile): term, preterm limit, the flags."""
    spec = check_content("protocols", path, data)
    if not isinstance(spec, DefinitionsFile):
        raise ContentFileError([f"{path}: field definitions: required"])
    body = spec.definitions
    return Definitions(
        version=spec.version,
        term_gestation=parse_offset(body.term_gestation.value),
        preterm_below=parse_offset(body.preterm_below.value),
        flags={
            name: FlagDefinition(
                name=name,
                values=tuple(flag.values),
                title=care_text(flag.title) if flag.title else None,
            )
            for name, flag in body.flags.items()
        },
        path=path,
    )


# --- joining files into programmes, and cross-file checks ---


def _versions(files: list[_ParsedFile], problems: list[str]) -> tuple[ProtocolVersion, ...]:
    """Order the versions of one programme, check they follow each other, resolve `extends`."""
    files = chain(files, problems)
    resolved: dict[str, ProtocolVersion] = {}
    for previous, current in itertools.pairwise(files):
        if current.version == previous.version:
            problems.append(
                f"{current.path}: field version: {current.version!r} "
                f"is also the version of {previous.path}"
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
            problems.append(yaml_problem(path, exc))
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
        except ContentFileError as exc:
            problems.extend(exc.lines)
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
