"""Read content/contraception/*.yaml, validate every field, and build the EligibilityTable.

Each problem names the file, the entry (method, condition, service...) and the field, and all
problems of a load are reported together so an editor can fix them in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import ValidationError

from backend.care.offsets import parse_offset
from backend.conditions import AllOf, AnyOf, Not
from backend.content.files import problems as model_problems
from backend.content.models import IudFile, MecSourceRef, MecText
from backend.contraception.eligibility import (
    BOOLEAN_FACTS,
    COMPARATORS,
    CONTENT_DIR,
    FACTS,
    FILE_KINDS,
    GROUPS,
    IF_UNKNOWN,
    NOT_OFFERED,
    NUMBER_FACTS,
    OFFERED,
    OFFERS,
    SCALE_VALUES,
    SCALES,
    Category,
    Cell,
    Compare,
    ConditionRow,
    EligibilityTable,
    EmergencyLimit,
    Expr,
    FactDefinition,
    FlagDefinition,
    FollowupCheck,
    Is,
    IudRules,
    LamRequirement,
    LamRule,
    Method,
    Predicate,
    Scale,
    ScaleCategory,
    Service,
)
from backend.contraception.reading import (
    ContentError,
    Invalid,
    Source,
    Text,
    check_keys,
    parse_yaml,
    read_bool,
    read_choice,
    read_code,
    read_int,
    read_list,
    read_mapping,
    read_note,
    read_number,
    read_offset,
    read_provenance,
    read_source,
    read_string,
    read_text,
    yaml_problem,
)

T = TypeVar("T")


def _read_coded(
    entries: list[Any],
    *,
    noun: str,
    path: str,
    problems: list[str],
    build: Callable[[Mapping[str, Any], str], T],
) -> dict[str, T]:
    """Build each `code:`-keyed entry of a list; a broken entry is reported by file, entry and
    field (`<file>: <noun> <code>: field <field>: ...`) and left out, the others still read."""
    built: dict[str, T] = {}
    for index, raw in enumerate(entries):
        label = f"#{index + 1}"
        try:
            raw = read_mapping(raw, f"({noun})")
            code = read_code(raw.get("code"), "code")
            label = code
            if code in built:
                raise Invalid("code", "used twice in this file")
            built[code] = build(raw, code)
        except Invalid as exc:
            problems.append(f"{path}: {noun} {label}: field {exc.field}: {exc.message}")
    return built


def load_eligibility(directory: str | Path = CONTENT_DIR) -> EligibilityTable:
    """Load and validate every file of content/contraception; ContentError if any is broken."""
    return load_directory(Path(directory))


def load_directory(directory: Path) -> EligibilityTable:
    """Load every *.yaml file of `directory` (paths in messages are as given)."""
    if not directory.is_dir():
        raise ContentError([f"{directory}: not a directory"])
    paths = sorted(directory.glob("*.yaml"))
    return build_eligibility({str(p): p.read_text(encoding="utf-8") for p in paths})


class _Vocabulary:
    """The names a `when:` may use, known once the table file's header has been read."""

    def __init__(
        self,
        facts: Mapping[str, FactDefinition],
        flags: Mapping[str, FlagDefinition],
        predicates: Iterable[str] = (),
    ) -> None:
        self.facts = facts
        self.flags = flags
        self.predicates = set(predicates)

    def names(self) -> str:
        """Every name, for 'unknown fact' messages."""
        return ", ".join(sorted({*self.facts, *self.flags, *self.predicates}))


def _read_category(value: Any, scale: str, name: str) -> Category:
    """One category value of a scale."""
    allowed = SCALE_VALUES[scale]
    if isinstance(value, bool) or value not in allowed:
        raise Invalid(name, f"must be one of {', '.join(map(str, allowed))}, not {value!r}")
    return value  # type: ignore[no-any-return]


def _read_cell(value: Any, scale: str, name: str) -> Cell:
    """'2', '2/3' (initiation/continuation) or {initiation: 2, continuation: 3}."""
    if isinstance(value, Mapping):
        check_keys(
            value, {"initiation", "continuation"}, {"initiation", "continuation"}, name + "."
        )
        first, then = value["initiation"], value["continuation"]
    elif isinstance(value, str) and re.fullmatch(r"\s*\d\s*/\s*\d\s*", value):
        first, then = (int(part) for part in value.split("/"))
    else:
        first = then = value
    if scale != "mec" and first != then:
        raise Invalid(name, "initiation/continuation splits exist only on the WHO 1-4 scale")
    return Cell(_read_category(first, scale, name), _read_category(then, scale, name))


def _read_expr(value: Any, vocab: _Vocabulary, name: str) -> Expr:
    """A condition: a mapping of fact tests (all must hold), any_of/all_of lists, not."""
    data = read_mapping(value, name)
    if not data:
        raise Invalid(name, "must test at least one fact")
    terms: list[Expr] = []
    for key, spec in data.items():
        where = f"{name}.{key}"
        if key in ("any_of", "all_of"):
            items = read_list(spec, where)
            parts = tuple(_read_expr(item, vocab, f"{where}[{i}]") for i, item in enumerate(items))
            terms.append(AnyOf(parts) if key == "any_of" else AllOf(parts))
        elif key == "not":
            terms.append(Not(_read_expr(spec, vocab, where)))
        elif key in vocab.flags:
            terms.append(Is(key, read_bool(spec, where), "flag"))
        elif key in vocab.predicates:
            terms.append(Is(key, read_bool(spec, where), "predicate"))
        elif key in BOOLEAN_FACTS and key in vocab.facts:
            if isinstance(spec, Mapping):
                check_keys(spec, {"known"}, {"known"}, where + ".")
                terms.append(Compare(key, known=read_bool(spec["known"], where + ".known")))
            else:
                terms.append(Is(key, read_bool(spec, where), "fact"))
        elif key in NUMBER_FACTS and key in vocab.facts:
            terms.append(_read_compare(key, spec, where))
        else:
            raise Invalid(where, f"unknown fact; known: {vocab.names()}, any_of, all_of, not")
    return terms[0] if len(terms) == 1 else AllOf(tuple(terms))


def _read_compare(fact: str, spec: Any, where: str) -> Compare:
    """`18` (equals) or {at_least: 18, below: 20} or {known: false}."""
    if not isinstance(spec, Mapping):
        return Compare(fact, (("equals", read_number(spec, where)),))
    check_keys(spec, {*COMPARATORS, "known"}, set(), where + ".")
    if not spec:
        raise Invalid(where, f"must compare: {', '.join(COMPARATORS)} or known")
    tests = tuple((op, read_number(spec[op], f"{where}.{op}")) for op in COMPARATORS if op in spec)
    known = read_bool(spec["known"], f"{where}.known") if "known" in spec else None
    if known is False and tests:
        raise Invalid(where, "cannot compare a value that must be unknown")
    return Compare(fact, tests, known)


def _scales(value: Any) -> dict[str, Scale]:
    """The category scales with what each category lets the app do."""
    scales: dict[str, Scale] = {}
    data = read_mapping(value, "scales")
    for code in SCALE_VALUES:
        if code not in data:
            raise Invalid(f"scales.{code}", "required")
    for code, spec in data.items():
        name = f"scales.{code}"
        if code not in SCALE_VALUES:
            raise Invalid(name, f"unknown scale; use {', '.join(SCALE_VALUES)}")
        spec = read_mapping(spec, name)
        check_keys(
            spec,
            {"title", "unrestricted", "categories"},
            {"title", "unrestricted", "categories"},
            name + ".",
        )
        entries: list[ScaleCategory] = []
        for index, raw in enumerate(read_list(spec["categories"], f"{name}.categories")):
            where = f"{name}.categories[{index}]"
            raw = read_mapping(raw, where)
            check_keys(
                raw,
                {"category", "offer", "meaning", "explanation"},
                {"category", "offer", "meaning", "explanation"},
                where + ".",
            )
            value_ = _read_category(raw["category"], code, f"{where}.category")
            offer = read_choice(raw["offer"], OFFERS, f"{where}.offer")
            if code == "mec" and value_ == 4 and offer != NOT_OFFERED:
                raise Invalid(f"{where}.offer", "category 4 is never offered: use not_offered")
            if code == "mec" and value_ == 3 and offer == OFFERED:
                raise Invalid(f"{where}.offer", "category 3 is offered only as talk_to_doctor")
            entries.append(
                ScaleCategory(
                    value=value_,
                    offer=offer,
                    meaning=read_text(raw["meaning"], f"{where}.meaning"),
                    explanation=read_text(
                        raw["explanation"], f"{where}.explanation", fields=("condition",)
                    ),
                )
            )
        values = [e.value for e in entries]
        if sorted(map(str, values)) != sorted(map(str, SCALE_VALUES[code])):
            raise Invalid(
                f"{name}.categories",
                f"must list each of {', '.join(map(str, SCALE_VALUES[code]))} exactly once",
            )
        ranks = [OFFERS.index(e.offer) for e in entries]
        if ranks != sorted(ranks):
            raise Invalid(
                f"{name}.categories", "a more restrictive category cannot be offered more freely"
            )
        unrestricted = _read_category(spec["unrestricted"], code, f"{name}.unrestricted")
        if entries[0].value != unrestricted:
            raise Invalid(f"{name}.unrestricted", "must be the first (least restrictive) category")
        scales[code] = Scale(
            code=code,
            title=read_text(spec["title"], f"{name}.title"),
            unrestricted=unrestricted,
            categories=tuple(entries),
        )
    return scales


_TEXT_FIELDS = {
    "no_condition": (),
    "ask": ("facts",),
    "list_separator": (),
    "partner": (),
}
_LAM_TEXTS = {
    "offered": ("stops_on",),
    "ended": (),
    "not_met": ("failed",),
    "unknown": ("facts",),
    "no_birth": (),
}


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
    """methods.yaml: scales, methods, texts, emergency time limits, LAM."""
    try:
        check_keys(
            data,
            {"kind", "version", "source", "note", "scales", "texts", "methods", "emergency", "lam"},
            {"kind", "version", "source", "scales", "texts", "methods", "emergency", "lam"},
            "",
        )
        read_source(data["source"], "source")
        scales = _scales(data["scales"])
        texts_data = read_mapping(data["texts"], "texts")
        check_keys(texts_data, set(_TEXT_FIELDS), set(_TEXT_FIELDS), "texts.")
        texts = {
            key: read_text(texts_data[key], f"texts.{key}", fields=fields)
            for key, fields in _TEXT_FIELDS.items()
        }
        methods_raw = read_list(data["methods"], "methods")
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        return None

    def method(raw: Mapping[str, Any], code: str) -> Method:
        check_keys(
            raw,
            {"code", "name", "group", "scale", "follows", "for_partner"},
            {"code", "name", "group", "scale"},
            "",
        )
        return Method(
            code=code,
            name=read_text(raw["name"], "name"),
            group=read_choice(raw["group"], GROUPS, "group"),
            scale=read_choice(raw["scale"], SCALES, "scale"),
            follows=read_code(raw["follows"], "follows") if raw.get("follows") else None,
            for_partner=read_bool(raw.get("for_partner", False), "for_partner"),
        )

    methods = _read_coded(methods_raw, noun="method", path=path, problems=problems, build=method)
    for each in methods.values():
        if each.follows is None:
            continue
        followed = methods.get(each.follows)
        if followed is None or followed.follows is not None or followed.scale != each.scale:
            problems.append(
                f"{path}: method {each.code}: field follows: must name another method of the "
                f"{each.scale} scale that follows none, not {each.follows!r}"
            )
    lam_methods = [m for m in methods.values() if m.scale == "lam"]
    if len(lam_methods) != 1:
        problems.append(f"{path}: field methods: exactly one method must use the lam scale")
    emergency: dict[str, EmergencyLimit] = {}
    try:
        entries = read_list(data["emergency"], "emergency")
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        entries = []
    for index, raw in enumerate(entries):
        label = f"#{index + 1}"
        try:
            raw = read_mapping(raw, "(entry)")
            check_keys(
                raw,
                {"method", "time_limit_hours", "text", "source", "verified", "note"},
                {"method", "time_limit_hours", "text", "source", "verified"},
                "",
            )
            code = read_code(raw["method"], "method")
            label = code
            if methods.get(code) is None or methods[code].group != "emergency":
                raise Invalid("method", f"{code!r} is not an emergency method of this file")
            if code in emergency:
                raise Invalid("method", "listed twice")
            source, verified, note = read_provenance(raw, "")
            emergency[code] = EmergencyLimit(
                method=code,
                time_limit_hours=read_int(raw["time_limit_hours"], "time_limit_hours", minimum=1),
                text=read_text(raw["text"], "text"),
                source=source,
                verified=verified,
                note=note,
            )
        except Invalid as exc:
            problems.append(f"{path}: emergency {label}: field {exc.field}: {exc.message}")
    for each in methods.values():
        if each.group == "emergency" and each.code not in emergency:
            problems.append(
                f"{path}: method {each.code}: field group: an emergency method needs its "
                "time limit under `emergency:`"
            )
    try:
        lam = _lam(data["lam"])
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        return None
    return _Methods(path, scales, tuple(methods.values()), texts, emergency, lam)


def _lam(value: Any) -> LamRule:
    """LAM's three conditions: the two yes/no facts and the baby's age limit."""
    data = read_mapping(value, "lam")
    check_keys(
        data,
        {"requires", "ends_after_birth", "texts", "source", "verified", "note"},
        {"requires", "ends_after_birth", "texts", "source", "verified"},
        "lam.",
    )
    requires: list[LamRequirement] = []
    for index, raw in enumerate(read_list(data["requires"], "lam.requires")):
        where = f"lam.requires[{index}]"
        raw = read_mapping(raw, where)
        check_keys(raw, {"fact", "is", "failed"}, {"fact", "is", "failed"}, where + ".")
        requires.append(
            LamRequirement(
                fact=read_choice(raw["fact"], BOOLEAN_FACTS, f"{where}.fact"),
                value=read_bool(raw["is"], f"{where}.is"),
                failed=read_text(raw["failed"], f"{where}.failed"),
            )
        )
    ends = read_offset(data["ends_after_birth"], "lam.ends_after_birth")
    if ends.approx_days <= 0:
        raise Invalid("lam.ends_after_birth", "must be after the birth")
    texts_data = read_mapping(data["texts"], "lam.texts")
    check_keys(texts_data, set(_LAM_TEXTS), set(_LAM_TEXTS), "lam.texts.")
    source, verified, note = read_provenance(data, "lam")
    return LamRule(
        requires=tuple(requires),
        ends_after_birth=ends,
        texts={
            key: read_text(texts_data[key], f"lam.texts.{key}", fields=fields)
            for key, fields in _LAM_TEXTS.items()
        },
        source=source,
        verified=verified,
        note=note,
    )


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


def _table_header(
    path: str, data: Mapping[str, Any]
) -> tuple[str, str, Source, dict[str, FactDefinition], dict[str, FlagDefinition]]:
    """Edition, version, source, and the vocabulary of facts and flags."""
    check_keys(
        data,
        {
            "kind",
            "table",
            "version",
            "edition",
            "source",
            "note",
            "facts",
            "flags",
            "predicates",
            "conditions",
        },
        {"kind", "table", "version", "edition", "source", "facts", "flags", "conditions"},
        "",
    )
    read_code(data["table"], "table")
    if not isinstance(data["version"], str) or not data["version"].strip():
        raise Invalid("version", 'must be text in quotes, such as "2015.1"')
    facts: dict[str, FactDefinition] = {}
    for name, spec in read_mapping(data["facts"], "facts").items():
        where = f"facts.{name}"
        if name not in FACTS:
            raise Invalid(where, f"not a fact the engine derives; known: {', '.join(FACTS)}")
        spec = read_mapping(spec, where)
        check_keys(spec, {"title", "if_unknown", "note"}, {"title", "if_unknown"}, where + ".")
        facts[name] = FactDefinition(
            name=name,
            title=read_text(spec["title"], f"{where}.title"),
            if_unknown=read_choice(spec["if_unknown"], IF_UNKNOWN, f"{where}.if_unknown"),
        )
    missing = [f for f in FACTS if f not in facts]
    if missing:
        raise Invalid("facts", f"must declare every fact the engine derives; missing: {missing}")
    flags: dict[str, FlagDefinition] = {}
    for name, spec in read_mapping(data["flags"], "flags").items():
        where = f"flags.{name}"
        read_code(name, where)
        if name in FACTS:
            raise Invalid(where, "is already a fact; a flag needs its own name")
        spec = read_mapping(spec, where)
        check_keys(spec, {"title", "note"}, {"title"}, where + ".")
        flags[name] = FlagDefinition(
            name=name,
            title=read_text(spec["title"], f"{where}.title"),
            note=read_note(spec.get("note"), f"{where}.note"),
        )
    return (
        read_string(data["edition"], "edition"),
        data["version"].strip(),
        read_source(data["source"], "source"),
        facts,
        flags,
    )


def _table_file(
    path: str, data: Mapping[str, Any], methods: _Methods | None, problems: list[str]
) -> _Table | None:
    """The eligibility table: facts, flags, predicates, then the condition rows."""
    try:
        edition, version, source, facts, flags = _table_header(path, data)
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        return None
    predicates: dict[str, Predicate] = {}
    base = _Vocabulary(facts, flags)
    for name, spec in read_mapping(data.get("predicates") or {}, "predicates").items():
        try:
            read_code(name, "name")
            if name in facts or name in flags:
                raise Invalid("name", "is already a fact or flag")
            spec = read_mapping(spec, "(predicate)")
            check_keys(
                spec,
                {"title", "when", "source", "verified", "note"},
                {"title", "when", "source", "verified"},
                "",
            )
            prov_source, verified, note = read_provenance(spec, "")
            predicates[name] = Predicate(
                name=name,
                title=read_text(spec["title"], "title"),
                when=_read_expr(spec["when"], base, "when"),
                source=prov_source,
                verified=verified,
                note=note,
            )
        except Invalid as exc:
            problems.append(f"{path}: predicate {name}: field {exc.field}: {exc.message}")
    vocab = _Vocabulary(facts, flags, predicates)
    by_code = {m.code: m for m in methods.methods} if methods else None
    try:
        raw_rows = read_list(data["conditions"], "conditions")
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        raw_rows = []
    rows = _read_coded(
        raw_rows,
        noun="condition",
        path=path,
        problems=problems,
        build=lambda raw, code: _condition(raw, code, path, vocab, by_code),
    )
    return _Table(path, edition, version, source, facts, flags, predicates, tuple(rows.values()))


def _condition(
    raw: Mapping[str, Any],
    code: str,
    path: str,
    vocab: _Vocabulary,
    methods: Mapping[str, Method] | None,
) -> ConditionRow:
    """One row: its test over facts and a category per method it restricts."""
    check_keys(
        raw,
        {"code", "title", "when", "categories", "advice", "source", "verified", "note"},
        {"code", "title", "when", "categories", "source", "verified"},
        "",
    )
    cells: dict[str, Cell] = {}
    categories = read_mapping(raw["categories"], "categories")
    if not categories:
        raise Invalid("categories", "must give at least one method a category")
    for method_code, value in categories.items():
        where = f"categories.{method_code}"
        if methods is None:
            continue
        method = methods.get(method_code)
        if method is None:
            raise Invalid(where, f"unknown method; known: {', '.join(methods)}")
        if method.scale == "lam":
            raise Invalid(where, "LAM has no categories; its conditions are in methods.yaml")
        cells[method_code] = _read_cell(value, method.scale, where)
    advice: dict[str, Text] = {}
    for method_code, text in read_mapping(raw.get("advice") or {}, "advice").items():
        where = f"advice.{method_code}"
        if method_code not in cells:
            raise Invalid(where, "advice is only for a method this row gives a category")
        advice[method_code] = read_text(text, where)
    source, verified, note = read_provenance(raw, "")
    return ConditionRow(
        code=code,
        title=read_text(raw["title"], "title"),
        when=_read_expr(raw["when"], vocab, "when"),
        cells=MappingProxyType(cells),
        source=source,
        verified=verified,
        path=path,
        advice=MappingProxyType(advice),
        note=note,
    )


def _services_file(
    path: str,
    data: Mapping[str, Any],
    methods: _Methods | None,
    vocab: _Vocabulary | None,
    problems: list[str],
) -> tuple[Service, ...]:
    """services.yaml: free services by method or by her situation."""
    try:
        check_keys(
            data,
            {"kind", "version", "source", "note", "services"},
            {"kind", "version", "source", "services"},
            "",
        )
        file_source = read_source(data["source"], "source")
        raw_services = read_list(data["services"], "services")
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        return ()
    known = {m.code for m in methods.methods} if methods else None

    def service(raw: Mapping[str, Any], code: str) -> Service:
        check_keys(
            raw,
            {"code", "name", "where", "methods", "when", "source", "verified", "note"},
            {"code", "name", "where", "verified"},
            "",
        )
        if ("methods" in raw) == ("when" in raw):
            raise Invalid("methods", "give either `methods` or `when`, exactly one")
        service_methods: tuple[str, ...] = ()
        if "methods" in raw:
            service_methods = tuple(
                read_code(m, "methods") for m in read_list(raw["methods"], "methods")
            )
            for method in service_methods:
                if known is not None and method not in known:
                    raise Invalid("methods", f"unknown method {method!r}")
        when = None
        if "when" in raw and vocab is not None:
            when = _read_expr(raw["when"], vocab, "when")
        source, verified, note = read_provenance(raw, "", fallback=file_source)
        return Service(
            code=code,
            name=read_text(raw["name"], "name"),
            where=read_text(raw["where"], "where"),
            source=source,
            verified=verified,
            methods=service_methods,
            when=when,
            note=note,
        )

    services = _read_coded(
        raw_services, noun="service", path=path, problems=problems, build=service
    )
    return tuple(services.values())


def _text(spec: MecText) -> Text:
    return {"zh_CN": " ".join(spec.zh_CN.split()), "en": " ".join(spec.en.split())}


def _source(spec: MecSourceRef) -> Source:
    return Source(ids=tuple(spec.ids), title=spec.title)


def _iud_file(path: str, data: Mapping[str, Any]) -> IudRules:
    """iud.yaml (model IudFile): follow-up checks and the removal rule."""
    try:
        spec = IudFile.model_validate(data)
    except ValidationError as exc:
        raise ContentError(model_problems(path, exc, data)) from None
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
        followup_title=_text(follow.title),
        followup_source=_source(follow.source),
        followup_verified=follow.verified,
        followup_note=follow.note.strip() if follow.note else None,
        removal_code=removal.code,
        removal_min_age_years=removal.min_age_years,
        removal_prompt_after=prompt_after,
        removal_within=remove_within,
        removal_title=_text(removal.title),
        removal_why=_text(removal.why),
        removal_source=_source(removal.source),
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
            data = parse_yaml(text)
        except Exception as exc:  # yaml.YAMLError and its constructor errors
            problems.append(yaml_problem(path, exc))  # type: ignore[arg-type]
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
    vocab = _Vocabulary(table.facts, table.flags, table.predicates) if table else None
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
