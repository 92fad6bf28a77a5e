"""Read content/contraception/*.yaml, validate every field, and build the EligibilityTable.

Each problem names the file, the entry (method, condition, service...) and the field, and all
problems of a load are reported together so an editor can fix them in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from backend.care.offsets import parse_offset
from backend.care.reading import Invalid
from backend.conditions import Source, Text
from backend.content import ContentFileError
from backend.content import check as check_content
from backend.content.common import as_source, as_text
from backend.content.mec_table import ConditionSpec, ServicesFile, TableFile
from backend.content.models import IudFile, MethodsFile
from backend.content.yamlfile import load_yaml, yaml_problem
from backend.contraception.expressions import (
    Vocabulary,
    read_cell,
    read_expr,
)
from backend.contraception.table import (
    CONTENT_DIR,
    FILE_KINDS,
    Cell,
    ConditionRow,
    EligibilityTable,
    EmergencyLimit,
    FactDefinition,
    FlagDefinition,
    FollowupCheck,
    IudRules,
    LamRequirement,
    LamRule,
    Method,
    Predicate,
    Scale,
    ScaleCategory,
    Service,
)


class ContentError(ContentFileError):
    """A contraception file is broken; each problem names the file, the entry and the field."""


def load_eligibility(directory: str | Path = CONTENT_DIR) -> EligibilityTable:
    """Load and validate every file of content/contraception; ContentError if any is broken."""
    return load_directory(Path(directory))


def load_directory(directory: Path) -> EligibilityTable:
    """Load every *.yaml file of `directory` (paths in messages are as given)."""
    if not directory.is_dir():
        raise ContentError([f"{directory}: not a directory"])
    paths = sorted(directory.glob("*.yaml"))
    return build_eligibility({str(p): p.read_text(encoding="utf-8") for p in paths})


# The sentences of methods.yaml, in the order the engine's texts were read.
_TEXTS = ("no_condition", "ask", "list_separator", "partner")
_LAM_TEXTS = ("offered", "ended", "not_met", "unknown", "no_birth")


@dataclass
class _Methods:
    """The methods file, read."""

    path: str
    scales: dict[str, Scale]
    methods: tuple[Method, ...]
    texts: dict[str, Text]
    emergency: dict[str, EmergencyLimit]
    lam: LamRule


def _methods_file(path: str, data: Mapping[str, Any], problems: list[str]) -> _Methods | None:
    """methods.yaml (model MethodsFile): scales, methods, texts, emergency time limits, LAM."""
    try:
        spec: MethodsFile = check_content("contraception.methods", path, data)
    except ContentFileError as exc:
        problems.extend(exc.lines)
        return None
    scales = {
        code: Scale(
            code=code,
            title=as_text(scale.title),
            unrestricted=scale.unrestricted,
            categories=tuple(
                ScaleCategory(
                    value=c.category,
                    offer=c.offer,
                    meaning=as_text(c.meaning),
                    explanation=as_text(c.explanation),
                )
                for c in scale.categories
            ),
        )
        for code, scale in (("mec", spec.scales.mec), ("sterilization", spec.scales.sterilization))
    }
    methods = tuple(
        Method(
            code=m.code,
            name=as_text(m.name),
            group=m.group,
            scale=m.scale,
            follows=m.follows,
            for_partner=m.for_partner,
        )
        for m in spec.methods
    )
    emergency = {
        e.method: EmergencyLimit(
            method=e.method,
            time_limit_hours=e.time_limit_hours,
            text=as_text(e.text),
            source=as_source(e.source),
            verified=e.verified,
            note=_note(e.note),
        )
        for e in spec.emergency
    }
    lam = LamRule(
        requires=tuple(
            LamRequirement(fact=r.fact, value=r.is_, failed=as_text(r.failed))
            for r in spec.lam.requires
        ),
        ends_after_birth=parse_offset(spec.lam.ends_after_birth),
        texts={name: as_text(getattr(spec.lam.texts, name)) for name in _LAM_TEXTS},
        source=as_source(spec.lam.source),
        verified=spec.lam.verified,
        note=_note(spec.lam.note),
    )
    texts = {name: as_text(getattr(spec.texts, name)) for name in _TEXTS}
    return _Methods(path, scales, methods, texts, emergency, lam)


def _note(note: str | None) -> str | None:
    return note.strip() if note else None


@dataclass
class _Table:
    """The table file, read."""

    path: str
    edition: str
    version: str
    source: Source
    facts: dict[str, FactDefinition]
    flags: dict[str, FlagDefinition]
    predicates: dict[str, Predicate]
    conditions: tuple[ConditionRow, ...]


def _table_file(
    path: str, data: Mapping[str, Any], methods: _Methods | None, problems: list[str]
) -> _Table | None:
    """The eligibility table (model TableFile): facts, flags, predicates, then the rows, whose
    `when:` and categories are read against the declared names and the methods' scales."""
    try:
        spec: TableFile = check_content("contraception.table", path, data)
    except ContentFileError as exc:
        problems.extend(exc.lines)
        return None
    facts: dict[str, FactDefinition] = {
        name: FactDefinition(name=name, title=as_text(f.title), if_unknown=f.if_unknown)
        for name, f in spec.facts.items()
    }
    flags = {
        name: FlagDefinition(name=name, title=as_text(f.title), note=_note(f.note))
        for name, f in spec.flags.items()
    }
    predicates: dict[str, Predicate] = {}
    base = Vocabulary(facts, flags)
    for name, predicate in spec.predicates.items():
        try:
            predicates[name] = Predicate(
                name=name,
                title=as_text(predicate.title),
                when=read_expr(predicate.when, base, "when"),
                source=as_source(predicate.source),
                verified=predicate.verified,
                note=_note(predicate.note),
            )
        except Invalid as exc:
            problems.append(f"{path}: predicate {name}: field {exc.field}: {exc.message}")
    vocab = Vocabulary(facts, flags, predicates)
    by_code = {m.code: m for m in methods.methods} if methods else None
    rows = []
    for row in spec.conditions:
        try:
            rows.append(_condition(row, path, vocab, by_code))
        except Invalid as exc:
            problems.append(f"{path}: condition {row.code}: field {exc.field}: {exc.message}")
    return _Table(
        path,
        spec.edition.strip(),
        spec.version.strip(),
        as_source(spec.source),
        facts,
        flags,
        predicates,
        tuple(rows),
    )


def _condition(
    row: ConditionSpec, path: str, vocab: Vocabulary, methods: Mapping[str, Method] | None
) -> ConditionRow:
    """One row: its test over facts and a category per method it restricts."""
    cells: dict[str, Cell] = {}
    for method_code, value in row.categories.items():
        where = f"categories.{method_code}"
        if methods is None:
            continue
        method = methods.get(method_code)
        if method is None:
            raise Invalid(where, f"unknown method; known: {', '.join(methods)}")
        if method.scale == "lam":
            raise Invalid(where, "LAM has no categories; its conditions are in methods.yaml")
        cells[method_code] = read_cell(value, method.scale, where)
    return ConditionRow(
        code=row.code,
        title=as_text(row.title),
        when=read_expr(row.when, vocab, "when"),
        cells=MappingProxyType(cells),
        source=as_source(row.source),
        verified=row.verified,
        path=path,
        advice=MappingProxyType({m: as_text(text) for m, text in row.advice.items()}),
        note=_note(row.note),
    )


def _services_file(
    path: str,
    data: Mapping[str, Any],
    methods: _Methods | None,
    vocab: Vocabulary | None,
    problems: list[str],
) -> tuple[Service, ...]:
    """services.yaml (model ServicesFile): free services by method or by her situation."""
    try:
        spec: ServicesFile = check_content("contraception.services", path, data)
    except ContentFileError as exc:
        problems.extend(exc.lines)
        return ()
    known = {m.code for m in methods.methods} if methods else None
    services = []
    for service in spec.services:
        try:
            for method in service.methods or ():
                if known is not None and method not in known:
                    raise Invalid("methods", f"unknown method {method!r}")
            when = None
            if service.when is not None and vocab is not None:
                when = read_expr(service.when, vocab, "when")
        except Invalid as exc:
            problems.append(f"{path}: service {service.code}: field {exc.field}: {exc.message}")
            continue
        services.append(
            Service(
                code=service.code,
                name=as_text(service.name),
                where=as_text(service.where),
                source=as_source(service.source or spec.source),
                verified=service.verified,
                methods=tuple(service.methods or ()),
                when=when,
                note=_note(service.note),
            )
        )
    return tuple(services)


def _iud_file(path: str, data: Mapping[str, Any]) -> IudRules:
    """iud.yaml (model IudFile): follow-up checks and the removal rule."""
    try:
        spec: IudFile = check_content("contraception.iud", path, data)
    except ContentFileError as exc:
        raise ContentError(exc.lines) from None
    follow, removal = spec.followup, spec.removal
    checks: list[FollowupCheck] = []
    for index, check in enumerate(follow.checks):
        opens, closes = parse_offset(check.opens), parse_offset(check.closes)
        if closes.approx_days < opens.approx_days or opens.approx_days <= 0:
            raise ContentError(
                [
                    f"{path}: field followup.checks[{index}]: must open after the insertion and "
                    "close on or after it opens"
                ]
            )
        checks.append(FollowupCheck(check.code, opens, closes))
    prompt_after = parse_offset(removal.prompt_after)
    remove_within = parse_offset(removal.remove_within)
    if remove_within.approx_days < prompt_after.approx_days:
        raise ContentError(
            [f"{path}: field removal.remove_within: must not be before prompt_after"]
        )
    return IudRules(
        protocol=spec.protocol,
        checks=tuple(checks),
        yearly_code=follow.yearly.code,
        yearly_from_years=follow.yearly.from_years,
        yearly_window=parse_offset(follow.yearly.window),
        followup_title=as_text(follow.title),
        followup_source=as_source(follow.source),
        followup_verified=follow.verified,
        followup_note=follow.note.strip() if follow.note else None,
        removal_code=removal.code,
        removal_min_age_years=removal.min_age_years,
        removal_prompt_after=prompt_after,
        removal_within=remove_within,
        removal_title=as_text(removal.title),
        removal_why=as_text(removal.why),
        removal_source=as_source(removal.source),
        removal_verified=removal.verified,
        removal_note=removal.note.strip() if removal.note else None,
        path=path,
    )


def build_eligibility(texts: Mapping[str, str]) -> EligibilityTable:
    """Parse and validate the contraception files given as {path: YAML text}."""
    problems: list[str] = []
    by_kind: dict[str, list[tuple[str, Mapping[str, Any]]]] = {k: [] for k in FILE_KINDS}
    for path, text in texts.items():
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            problems.append(yaml_problem(path, exc))
            continue
        if not isinstance(data, Mapping) or data.get("kind") not in FILE_KINDS:
            problems.append(f"{path}: field kind: must be one of {', '.join(FILE_KINDS)}")
            continue
        by_kind[data["kind"]].append((path, data))
    for kind, files in by_kind.items():
        if len(files) != 1:
            found = ", ".join(p for p, _ in files) or "none"
            problems.append(f"(contraception): exactly one {kind} file is required; found {found}")
    if problems:
        raise ContentError(problems)
    methods = _methods_file(*by_kind["methods"][0], problems)
    table = _table_file(*by_kind["eligibility_table"][0], methods, problems)
    vocab = Vocabulary(table.facts, table.flags, table.predicates) if table else None
    services = _services_file(*by_kind["services"][0], methods, vocab, problems)
    iud_path, iud_data = by_kind["iud"][0]
    iud: IudRules | None = None
    try:
        iud = _iud_file(iud_path, iud_data)
    except ContentError as exc:
        problems.extend(exc.lines)
    if table is not None and methods is not None:
        for method in methods.lam.requires:
            if table.facts[method.fact].if_unknown not in ("ask", "assume_worst"):
                problems.append(
                    f"{methods.path}: field lam.requires: {method.fact} must be a fact the app "
                    "asks about (if_unknown: ask) in the table"
                )
    if problems or methods is None or table is None or iud is None:
        raise ContentError(problems)
    return EligibilityTable(
        edition=table.edition,
        version=table.version,
        source=table.source,
        scales=MappingProxyType(methods.scales),
        methods=methods.methods,
        texts=MappingProxyType(methods.texts),
        emergency=MappingProxyType(methods.emergency),
        lam=methods.lam,
        facts=MappingProxyType(table.facts),
        flags=MappingProxyType(table.flags),
        predicates=MappingProxyType(table.predicates),
        conditions=table.conditions,
        services=services,
        iud=iud,
    )
