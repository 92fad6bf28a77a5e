"""Family benefits: leave after a birth or loss and the national childcare subsidy, computed from
time-versioned rule tables (content/benefits) chosen by the date of birth.

Pure: no database, no clock. Where the reference leaves a case open, the result says so with the
reference's words (status `unsettled`) instead of a number.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from backend.care.offsets import Offset, add_months
from backend.contraception.reading import (
    ContentError,
    Invalid,
    Source,
    Text,
    check_keys,
    parse_yaml,
    read_choice,
    read_code,
    read_date,
    read_int,
    read_list,
    read_mapping,
    read_offset,
    read_provenance,
    read_source,
    read_text,
    yaml_problem,
)

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "benefits"

FILE_KINDS = ("leave_rules", "subsidy_rules")
JURISDICTIONS = ("national", "zhejiang")  # applied in this order: national first
HOLDERS = ("mother", "father", "each_parent")
COUNTINGS = ("calendar", "working", "unspecified")
# The mother's leave for a birth, in the order its parts follow each other from the birth.
MATERNITY_KINDS = ("maternity", "difficult_birth", "extra_baby", "extension")
LEAVE_KINDS = (*MATERNITY_KINDS, "paternity", "parental", "nursing", "pregnancy_loss")
SUBSIDY_KINDS = ("childcare_subsidy", "childcare_prorata", "childcare_application")
# Cases the calculator can recognise; the files say which are open and what to tell people.
CASES = (
    "multiple_birth",
    "child_order_not_listed",
    "caesarean_without_certificate",
    "leave_running_at_change",
    "always",
)
SETTLED = "settled"
CONDITIONAL = "conditional"
UNSETTLED = "unsettled"
NOTE = "note"
QUESTION_STATUSES = (CONDITIONAL, UNSETTLED, NOTE)
MONTH_FIRSTS = ("birth_month", "month_after_birth")
MONTH_LASTS = ("month_before_third_birthday", "month_of_third_birthday")
MONTHS_PER_YEAR = 12
RULE_ID = re.compile(r"^[A-Z][A-Z0-9_-]*$")


# --- the rules, once loaded ---


@dataclass(frozen=True)
class LeaveRule:
    """One rule of a leave table; which fields are set depends on `kind`."""

    id: str
    kind: str
    holder: str
    title: Text
    counting: str
    source: Source
    verified: bool
    days: int | None = None
    days_before_birth_allowed: int | None = None
    child_orders: tuple[int, ...] = ()
    days_per_year: int | None = None
    until_child_age: Offset | None = None
    ga_weeks_at_least: int | None = None
    ga_weeks_below: int | None = None
    hours_per_working_day: int | None = None
    extra_hours_per_extra_baby: int | None = None
    unsettled: Text | None = None
    note: str | None = None


@dataclass(frozen=True)
class SubsidyExample:
    """A published example the pro-rating rule must reproduce (checked when loading)."""

    born_on: dt.date
    months: int
    yuan: int


@dataclass(frozen=True)
class SubsidyRule:
    """One rule of the subsidy table: the amount, the pro-rating, or where to apply."""

    id: str
    kind: str
    title: Text
    source: Source
    verified: bool
    yuan_per_year: int | None = None
    until_child_age: Offset | None = None
    born_on_or_after: dt.date | None = None
    first_month: str | None = None
    last_month: str | None = None
    examples: tuple[SubsidyExample, ...] = ()
    apply: Text | None = None
    note: str | None = None


@dataclass(frozen=True)
class OpenQuestion:
    """A case the reference leaves open: which rules it touches and what to tell people."""

    case: str
    affects: tuple[str, ...]
    status: str
    text: Text
    source: Source
    title: Text | None = None  # names the part it adds when the birth has none of `affects`


@dataclass(frozen=True)
class RuleVersion:
    """One version of a rule table, in force for births from `effective_from` to `effective_to`."""

    kind: str
    table: str
    jurisdiction: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    title: Text
    source: Source
    verified: bool
    path: str
    rules: tuple[LeaveRule | SubsidyRule, ...]
    open_questions: tuple[OpenQuestion, ...] = ()
    note: str | None = None

    def in_force(self, day: dt.date) -> bool:
        """True when this version applies on `day`."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def of_kind(self, kind: str) -> tuple[Any, ...]:
        """The rules of one kind, in file order."""
        return tuple(r for r in self.rules if r.kind == kind)


@dataclass(frozen=True)
class BenefitRules:
    """Every rule table, each with its versions in date order."""

    tables: Mapping[str, tuple[RuleVersion, ...]]

    def version_on(self, table: str, day: dt.date) -> RuleVersion | None:
        """The version of `table` in force on `day`, if any."""
        return next((v for v in self.tables.get(table, ()) if v.in_force(day)), None)

    def of_kind(self, kind: str) -> tuple[RuleVersion, ...]:
        """Every version of every table of a file kind, national tables first."""
        versions = [v for vs in self.tables.values() for v in vs if v.kind == kind]
        return tuple(sorted(versions, key=lambda v: (JURISDICTIONS.index(v.jurisdiction), v.table)))


def load_benefits(directory: str | Path = CONTENT_DIR) -> BenefitRules:
    """Load and validate every file of content/benefits; ContentError if any is broken."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ContentError([f"{directory}: not a directory"])
    paths = sorted(directory.glob("*.yaml"))
    return build_benefits({str(p): p.read_text(encoding="utf-8") for p in paths})


# --- loading ---

_LEAVE_FIELDS: Mapping[str, tuple[set[str], set[str]]] = {
    # kind: (required, optional) beyond id, kind, holder, title, counting, source, verified, note
    "maternity": ({"days"}, {"days_before_birth_allowed"}),
    "difficult_birth": ({"days"}, set()),
    "extra_baby": ({"days"}, set()),
    "extension": ({"days", "child_orders"}, set()),
    "paternity": ({"days"}, set()),
    "parental": ({"days_per_year", "until_child_age"}, set()),
    "nursing": ({"hours_per_working_day", "extra_hours_per_extra_baby", "until_child_age"}, set()),
    "pregnancy_loss": ({"ga_weeks"}, {"days", "unsettled"}),
}
_COMMON_LEAVE = {"id", "kind", "holder", "title", "counting", "source", "verified", "note"}
_SUBSIDY_FIELDS: Mapping[str, set[str]] = {
    "childcare_subsidy": {"yuan_per_year", "until_child_age"},
    "childcare_prorata": {"born_on_or_after", "first_month", "last_month", "examples"},
    "childcare_application": {"apply"},
}
_COMMON_SUBSIDY = {"id", "kind", "title", "source", "verified", "note"}


def _leave_rule(raw: Mapping[str, Any], rule_id: str) -> LeaveRule:
    """One leave rule, with the fields its kind needs."""
    kind = read_choice(raw.get("kind"), LEAVE_KINDS, "kind")
    required, optional = _LEAVE_FIELDS[kind]
    check_keys(raw, _COMMON_LEAVE | required | optional, _COMMON_LEAVE - {"note"} | required, "")
    source, verified, note = read_provenance(raw, "")
    values: dict[str, Any] = {}
    for name in ("days", "days_before_birth_allowed", "days_per_year"):
        if raw.get(name) is not None:
            values[name] = read_int(raw[name], name, minimum=1)
    for name in ("hours_per_working_day", "extra_hours_per_extra_baby"):
        if name in raw:
            values[name] = read_int(raw[name], name)
    if "until_child_age" in raw:
        values["until_child_age"] = read_offset(raw["until_child_age"], "until_child_age")
        if values["until_child_age"].approx_days <= 0:
            raise Invalid("until_child_age", "must be an age such as 3y")
    if "child_orders" in raw:
        orders = read_list(raw["child_orders"], "child_orders")
        values["child_orders"] = tuple(read_int(o, "child_orders", minimum=1) for o in orders)
    if kind == "pregnancy_loss":
        band = read_mapping(raw["ga_weeks"], "ga_weeks")
        check_keys(band, {"at_least", "below"}, {"at_least"}, "ga_weeks.")
        values["ga_weeks_at_least"] = read_int(band["at_least"], "ga_weeks.at_least")
        if band.get("below") is not None:
            values["ga_weeks_below"] = read_int(band["below"], "ga_weeks.below", minimum=1)
            if values["ga_weeks_below"] <= values["ga_weeks_at_least"]:
                raise Invalid("ga_weeks.below", "must be above at_least")
        if ("days" in values) == (raw.get("unsettled") is not None):
            raise Invalid("days", "give the days, or days: null with the `unsettled` text")
        if raw.get("unsettled") is not None:
            values["unsettled"] = read_text(raw["unsettled"], "unsettled")
    if values.get("days_before_birth_allowed", 0) > values.get("days", 0):
        raise Invalid("days_before_birth_allowed", "cannot exceed days")
    return LeaveRule(
        id=rule_id,
        kind=kind,
        holder=read_choice(raw["holder"], HOLDERS, "holder"),
        title=read_text(raw["title"], "title"),
        counting=read_choice(raw["counting"], COUNTINGS, "counting"),
        source=source,
        verified=verified,
        note=note,
        **values,
    )


def _subsidy_rule(raw: Mapping[str, Any], rule_id: str) -> SubsidyRule:
    """One subsidy rule, with the fields its kind needs."""
    kind = read_choice(raw.get("kind"), SUBSIDY_KINDS, "kind")
    needed = _SUBSIDY_FIELDS[kind]
    check_keys(raw, _COMMON_SUBSIDY | needed, _COMMON_SUBSIDY - {"note"} | needed, "")
    source, verified, note = read_provenance(raw, "")
    values: dict[str, Any] = {}
    if kind == "childcare_subsidy":
        values["yuan_per_year"] = read_int(raw["yuan_per_year"], "yuan_per_year", minimum=1)
        values["until_child_age"] = read_offset(raw["until_child_age"], "until_child_age")
        if values["until_child_age"].days or values["until_child_age"].months <= 0:
            raise Invalid("until_child_age", "must be whole months or years, such as 3y")
    elif kind == "childcare_prorata":
        values["born_on_or_after"] = read_date(raw["born_on_or_after"], "born_on_or_after")
        values["first_month"] = read_choice(raw["first_month"], MONTH_FIRSTS, "first_month")
        values["last_month"] = read_choice(raw["last_month"], MONTH_LASTS, "last_month")
        examples = []
        for index, example in enumerate(read_list(raw["examples"], "examples")):
            where = f"examples[{index}]"
            example = read_mapping(example, where)
            check_keys(example, {"born_on", "months", "yuan"}, {"born_on", "months", "yuan"}, "")
            examples.append(
                SubsidyExample(
                    born_on=read_date(example["born_on"], f"{where}.born_on"),
                    months=read_int(example["months"], f"{where}.months"),
                    yuan=read_int(example["yuan"], f"{where}.yuan"),
                )
            )
        values["examples"] = tuple(examples)
    else:
        values["apply"] = read_text(raw["apply"], "apply")
    return SubsidyRule(
        id=rule_id,
        kind=kind,
        title=read_text(raw["title"], "title"),
        source=source,
        verified=verified,
        note=note,
        **values,
    )


def _open_question(raw: Any) -> OpenQuestion:
    """One open case: its detection code, the rules it touches, its status and words."""
    raw = read_mapping(raw, "(question)")
    check_keys(
        raw,
        {"case", "affects", "status", "text", "source", "title"},
        {"case", "affects", "status", "text", "source"},
        "",
    )
    affects = tuple(str(a) for a in read_list(raw["affects"], "affects"))
    for rule_id in affects:
        if not RULE_ID.match(rule_id):
            raise Invalid("affects", f"{rule_id!r} is not a rule id")
    return OpenQuestion(
        case=read_choice(raw["case"], CASES, "case"),
        affects=affects,
        status=read_choice(raw["status"], QUESTION_STATUSES, "status"),
        text=read_text(raw["text"], "text"),
        source=read_source(raw["source"], "source"),
        title=read_text(raw["title"], "title") if raw.get("title") is not None else None,
    )


def _version(path: str, data: Any, problems: list[str]) -> RuleVersion | None:
    """One rule file; problems name the file, the rule and the field."""
    try:
        data = read_mapping(data, "(file)")
        check_keys(
            data,
            {
                "kind",
                "table",
                "jurisdiction",
                "version",
                "effective_from",
                "effective_to",
                "title",
                "source",
                "verified",
                "note",
                "rules",
                "open_questions",
            },
            {
                "kind",
                "table",
                "jurisdiction",
                "version",
                "effective_from",
                "title",
                "source",
                "verified",
                "rules",
            },
            "",
        )
        kind = read_choice(data["kind"], FILE_KINDS, "kind")
        if not isinstance(data["version"], str) or not data["version"].strip():
            raise Invalid("version", 'must be text in quotes, such as "2021"')
        effective_from = read_date(data["effective_from"], "effective_from")
        effective_to = (
            read_date(data["effective_to"], "effective_to")
            if data.get("effective_to") is not None
            else None
        )
        if effective_to is not None and effective_to < effective_from:
            raise Invalid("effective_to", "is before effective_from")
        source, verified, note = read_provenance(data, "")
        raw_rules = read_list(data["rules"], "rules")
        raw_questions = read_list(data.get("open_questions") or [], "open_questions", empty=True)
    except Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        return None
    rules: dict[str, LeaveRule | SubsidyRule] = {}
    for index, raw in enumerate(raw_rules):
        label = f"#{index + 1}"
        try:
            raw = read_mapping(raw, "(rule)")
            rule_id = raw.get("id")
            if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
                raise Invalid("id", f"must be a rule id such as NAT-MAT-BASE, not {rule_id!r}")
            label = rule_id
            if rule_id in rules:
                raise Invalid("id", "used twice in this file")
            rules[rule_id] = (
                _leave_rule(raw, rule_id) if kind == "leave_rules" else _subsidy_rule(raw, rule_id)
            )
        except Invalid as exc:
            problems.append(f"{path}: rule {label}: field {exc.field}: {exc.message}")
    questions: list[OpenQuestion] = []
    for index, raw in enumerate(raw_questions):
        try:
            questions.append(_open_question(raw))
        except Invalid as exc:
            problems.append(f"{path}: open question #{index + 1}: field {exc.field}: {exc.message}")
    version = RuleVersion(
        kind=kind,
        table=read_code(data["table"], "table"),
        jurisdiction=data["jurisdiction"],
        version=data["version"].strip(),
        effective_from=effective_from,
        effective_to=effective_to,
        title=read_text(data["title"], "title"),
        source=source,
        verified=verified,
        path=path,
        rules=tuple(rules.values()),
        open_questions=tuple(questions),
        note=note,
    )
    if data["jurisdiction"] not in JURISDICTIONS:
        problems.append(
            f"{path}: field jurisdiction: must be one of {', '.join(JURISDICTIONS)}, "
            f"not {data['jurisdiction']!r}"
        )
    _check_version(version, problems)
    return version


def _check_version(version: RuleVersion, problems: list[str]) -> None:
    """Checks over a whole file: loss bands cover every week, the subsidy is complete."""
    path = version.path
    if version.kind == "leave_rules":
        bands = sorted(version.of_kind("pregnancy_loss"), key=lambda r: r.ga_weeks_at_least)
        if bands:
            edges = [(r.ga_weeks_at_least, r.ga_weeks_below) for r in bands]
            if edges[0][0] != 0 or edges[-1][1] is not None:
                problems.append(
                    f"{path}: field rules: pregnancy_loss bands must start at 0 weeks and the "
                    "last must be open-ended"
                )
            for (_, below), (at_least, _) in itertools.pairwise(edges):
                if below != at_least:
                    problems.append(
                        f"{path}: field rules: pregnancy_loss bands must meet without gap or "
                        f"overlap ({below} vs {at_least} weeks)"
                    )
        if version.of_kind("extension") and not any(
            q.case == "child_order_not_listed" for q in version.open_questions
        ):
            problems.append(
                f"{path}: field open_questions: a table with extension rules must say what "
                "happens to a child order it does not list (case child_order_not_listed)"
            )
        return
    for kind in SUBSIDY_KINDS:
        if len(version.of_kind(kind)) != 1:
            problems.append(f"{path}: field rules: needs exactly one rule of kind {kind}")
    if problems:
        return
    for example in version.of_kind("childcare_prorata")[0].examples:
        result = childcare_subsidy(example.born_on, BenefitRules({version.table: (version,)}))
        if (result.months, result.total_yuan) != (example.months, Decimal(example.yuan)):
            problems.append(
                f"{path}: rule NAT-CHILDCARE-PRORATA: field examples: a child born "
                f"{example.born_on} gets {result.months} months ({result.total_yuan} yuan) "
                f"under these rules, not {example.months} ({example.yuan})"
            )


def build_benefits(texts: Mapping[str, str]) -> BenefitRules:
    """Parse and validate benefit rule files given as {path: YAML text}."""
    problems: list[str] = []
    versions: list[RuleVersion] = []
    for path, text in texts.items():
        try:
            data = parse_yaml(text)
        except Exception as exc:  # yaml.YAMLError and its constructor errors
            problems.append(yaml_problem(path, exc))  # type: ignore[arg-type]
            continue
        version = _version(path, data, problems)
        if version is not None:
            versions.append(version)
    tables: dict[str, tuple[RuleVersion, ...]] = {}
    for table in sorted({v.table for v in versions}):
        chain = sorted((v for v in versions if v.table == table), key=lambda v: v.effective_from)
        for previous, current in itertools.pairwise(chain):
            if (current.kind, current.jurisdiction) != (previous.kind, previous.jurisdiction):
                problems.append(
                    f"{current.path}: field table: {table} is a {previous.kind} table of "
                    f"{previous.jurisdiction} in {previous.path}"
                )
            if (
                previous.effective_to is None
                or previous.effective_to + dt.timedelta(days=1) != current.effective_from
            ):
                problems.append(
                    f"{previous.path}: field effective_to: must be the day before {current.path} "
                    f"takes effect ({current.effective_from - dt.timedelta(days=1)})"
                )
        tables[table] = tuple(chain)
    known = {r.id for v in versions for r in v.rules}
    for version in versions:
        for question in version.open_questions:
            for rule_id in question.affects:
                if rule_id not in known:
                    problems.append(
                        f"{version.path}: open question {question.case}: field affects: "
                        f"unknown rule {rule_id!r}"
                    )
    if not versions and not problems:
        problems.append("(benefits): no rule files found")
    if problems:
        raise ContentError(problems)
    return BenefitRules(MappingProxyType(tables))


# --- leave ---


@dataclass(frozen=True)
class BirthFacts:
    """A birth or loss on record, or a planned birth (date and child order only).

    `child_order` is the order of this birth among the children counted by the rules (1 for a
    first child; twins born first are child order 1 with babies=2). A loss sets `loss_ga_weeks`
    (completed weeks); `difficult_birth` is None when no doctor has said either way.
    """

    date: dt.date
    child_order: int | None = None
    babies: int = 1
    difficult_birth: bool | None = None
    caesarean: bool = False
    loss_ga_weeks: int | None = None

    def __post_init__(self) -> None:
        if self.babies < 1:
            raise ValueError(f"babies must be at least 1, not {self.babies}")
        if self.child_order is not None and self.child_order < 1:
            raise ValueError(f"child_order must be at least 1, not {self.child_order}")
        if self.loss_ga_weeks is not None and self.loss_ga_weeks < 0:
            raise ValueError(f"loss_ga_weeks must be 0 or more, not {self.loss_ga_weeks}")
        if self.loss_ga_weeks is None and self.child_order is None:
            raise ValueError("a birth needs its child_order")

    @classmethod
    def planned(cls, birth_date: dt.date, child_order: int) -> BirthFacts:
        """A planned or past birth known only by its date and child order."""
        return cls(date=birth_date, child_order=child_order)


@dataclass(frozen=True)
class LeaveComponent:
    """One part of the leave: days (or hours a day), dates when counted in calendar days.

    `status` is settled (counted), conditional (counted only if a fact is certified: days shown,
    not in the total) or unsettled (the law is unclear: no days, the reference's words instead).
    `per` is "once" for leave granted once for the event and "year" for leave granted each year.
    """

    rule_id: str
    kind: str
    holder: str
    title: Text
    days: int | None
    counting: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    status: str
    table: str
    version: str
    source: Source
    verified: bool
    per: str = "once"
    hours_per_working_day: int | None = None
    open_questions: tuple[Text, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class LeaveEntitlement:
    """The leave for one birth or loss: its parts, the mother's total and what is unsettled."""

    event: str  # birth | loss
    date: dt.date
    components: tuple[LeaveComponent, ...]
    maternity_days: int | None
    maternity_starts_on: dt.date | None
    maternity_ends_on: dt.date | None
    status: str  # settled | unsettled
    open_questions: tuple[OpenQuestion, ...]
    versions: tuple[tuple[str, str], ...]  # (table, version) used

    def component(self, rule_id: str) -> LeaveComponent:
        """The part that comes from one rule."""
        return next(c for c in self.components if c.rule_id == rule_id)

    def of_kind(self, kind: str) -> tuple[LeaveComponent, ...]:
        """The parts of one kind."""
        return tuple(c for c in self.components if c.kind == kind)


def _component(
    rule: LeaveRule, version: RuleVersion, *, days: int | None, status: str = SETTLED, **more: Any
) -> LeaveComponent:
    return LeaveComponent(
        rule_id=rule.id,
        kind=rule.kind,
        holder=rule.holder,
        title=rule.title,
        days=days,
        counting=rule.counting,
        starts_on=more.pop("starts_on", None),
        ends_on=more.pop("ends_on", None),
        status=status,
        table=version.table,
        version=version.version,
        source=rule.source,
        verified=rule.verified,
        note=rule.note,
        **more,
    )


def _cases(birth: BirthFacts, version: RuleVersion) -> set[str]:
    """The open cases this birth raises under one version."""
    cases = {"always"}
    if birth.babies >= 2:
        cases.add("multiple_birth")
    if birth.caesarean and birth.difficult_birth is None:
        cases.add("caesarean_without_certificate")
    extensions = version.of_kind("extension")
    if extensions and not any(birth.child_order in r.child_orders for r in extensions):
        cases.add("child_order_not_listed")
    return cases


def _birth_components(birth: BirthFacts, version: RuleVersion) -> list[LeaveComponent]:
    """The parts one version grants for a birth (before open questions are applied)."""
    parts: list[LeaveComponent] = []
    for rule in version.rules:
        assert isinstance(rule, LeaveRule)
        granted = (
            rule.kind in ("maternity", "paternity")
            or (rule.kind == "difficult_birth" and birth.difficult_birth is True)
            or (rule.kind == "extension" and birth.child_order in rule.child_orders)
        )
        if granted:
            parts.append(_component(rule, version, days=rule.days))
        elif rule.kind == "extra_baby" and birth.babies >= 2:
            parts.append(_component(rule, version, days=(rule.days or 0) * (birth.babies - 1)))
        elif rule.kind == "nursing":
            assert rule.until_child_age is not None
            parts.append(
                _component(
                    rule,
                    version,
                    days=None,
                    starts_on=birth.date,
                    ends_on=rule.until_child_age.apply(birth.date) - dt.timedelta(days=1),
                    hours_per_working_day=(rule.hours_per_working_day or 0)
                    + (rule.extra_hours_per_extra_baby or 0) * (birth.babies - 1),
                )
            )
    return parts


def _parental(birth: BirthFacts, rules: BenefitRules) -> list[LeaveComponent]:
    """Parental leave of every version in force while the child is under the age limit."""
    parts: list[LeaveComponent] = []
    for version in rules.of_kind("leave_rules"):
        for rule in version.of_kind("parental"):
            assert rule.until_child_age is not None
            last = rule.until_child_age.apply(birth.date) - dt.timedelta(days=1)
            starts = max(birth.date, version.effective_from)
            ends = min(last, version.effective_to) if version.effective_to else last
            if starts > ends:
                continue
            parts.append(
                _component(
                    rule,
                    version,
                    days=rule.days_per_year,
                    per="year",
                    starts_on=starts,
                    ends_on=ends,
                )
            )
    return parts


def _apply(
    question: OpenQuestion,
    parts: list[LeaveComponent],
    rules_by_id: Mapping[str, tuple[LeaveRule, RuleVersion]],
) -> bool:
    """Mark the parts a question touches (adding the conditional or unsettled ones it implies)."""
    touched = False
    for rule_id in question.affects:
        index = next((i for i, p in enumerate(parts) if p.rule_id == rule_id), None)
        if index is not None:
            part = parts[index]
            parts[index] = replace(
                part,
                status=part.status if question.status == NOTE else question.status,
                days=None if question.status == UNSETTLED else part.days,
                starts_on=None if question.status == UNSETTLED else part.starts_on,
                ends_on=None if question.status == UNSETTLED else part.ends_on,
                open_questions=(*part.open_questions, question.text),
            )
            touched = True
        elif question.status != NOTE and rule_id in rules_by_id:
            if question.case == "child_order_not_listed" and any(
                p.status == UNSETTLED and p.kind == "extension" for p in parts
            ):
                continue  # one unsettled extension is enough, whichever rule it names
            rule, version = rules_by_id[rule_id]
            if question.case == "multiple_birth" and rule.kind == "extension":
                continue  # only extensions this birth gets are unsettled by twins
            part = _component(
                rule,
                version,
                days=None if question.status == UNSETTLED else rule.days,
                status=question.status,
                open_questions=(question.text,),
            )
            parts.append(replace(part, title=question.title) if question.title else part)
            touched = True
    return touched


def _date_maternity(
    parts: list[LeaveComponent], start: dt.date
) -> tuple[int | None, dt.date | None]:
    """Give the mother's settled calendar-day parts consecutive dates from the birth."""
    maternity = [p for p in parts if p.kind in MATERNITY_KINDS and p.status != CONDITIONAL]
    if any(p.status == UNSETTLED for p in maternity):
        return None, None
    order = {kind: i for i, kind in enumerate(MATERNITY_KINDS)}
    day = start
    for part in sorted(maternity, key=lambda p: order[p.kind]):
        if part.counting != "calendar" or part.days is None:
            return sum(p.days or 0 for p in maternity), None
        index = parts.index(part)
        ends = day + dt.timedelta(days=part.days - 1)
        parts[index] = replace(part, starts_on=day, ends_on=ends)
        day = ends + dt.timedelta(days=1)
    total = sum(p.days or 0 for p in maternity)
    return total, (day - dt.timedelta(days=1)) if total else None


def leave_for(birth: BirthFacts, rules: BenefitRules) -> LeaveEntitlement:
    """The leave for one birth or loss under the rules in force on its date."""
    if birth.loss_ga_weeks is not None:
        return _loss_leave(birth, rules)
    chosen = [v for v in rules.of_kind("leave_rules") if v.in_force(birth.date)]
    parts: list[LeaveComponent] = []
    for version in chosen:
        parts += _birth_components(birth, version)
    parts += _parental(birth, rules)
    rules_by_id = {r.id: (r, v) for v in chosen for r in v.rules if isinstance(r, LeaveRule)}
    asked: list[OpenQuestion] = []
    for version in chosen:
        cases = _cases(birth, version)
        for question in version.open_questions:
            if question.case in cases and _apply(question, parts, rules_by_id):
                asked.append(question)
    for version in rules.of_kind("leave_rules"):
        # A later version whose own questions concern leave already running when it started,
        # and parental leave of later versions (already in `parts`) with their notes.
        if version in chosen or version.effective_from <= birth.date:
            continue
        _, ends = _date_maternity(list(parts), birth.date)
        for question in version.open_questions:
            # Unknown when the leave ends (already unsettled): not flagged again.
            running = (
                question.case == "leave_running_at_change"
                and ends is not None
                and ends >= version.effective_from
            )
            if (running or question.case == "always") and _apply(
                question,
                parts,
                rules_by_id
                | {r.id: (r, version) for r in version.rules if isinstance(r, LeaveRule)},
            ):
                asked.append(question)
    total, ends = _date_maternity(parts, birth.date)
    if not any(p.kind in MATERNITY_KINDS for p in parts):
        total = None  # no rule table covers this date
    used = dict.fromkeys(
        [(v.table, v.version) for v in chosen] + [(p.table, p.version) for p in parts]
    )
    return LeaveEntitlement(
        event="birth",
        date=birth.date,
        components=tuple(parts),
        maternity_days=total,
        maternity_starts_on=birth.date if ends is not None else None,
        maternity_ends_on=ends,
        status=UNSETTLED if total is None else SETTLED,
        open_questions=tuple(asked),
        versions=tuple(used),
    )


def _loss_leave(birth: BirthFacts, rules: BenefitRules) -> LeaveEntitlement:
    """Leave after a miscarriage, abortion or stillbirth: one band by gestational age."""
    weeks = birth.loss_ga_weeks
    assert weeks is not None
    chosen = [v for v in rules.of_kind("leave_rules") if v.in_force(birth.date)]
    parts: list[LeaveComponent] = []
    for version in chosen:
        for rule in version.of_kind("pregnancy_loss"):
            if rule.ga_weeks_at_least <= weeks and (
                rule.ga_weeks_below is None or weeks < rule.ga_weeks_below
            ):
                if rule.days is None:
                    parts.append(
                        _component(
                            rule,
                            version,
                            days=None,
                            status=UNSETTLED,
                            open_questions=(rule.unsettled,) if rule.unsettled else (),
                        )
                    )
                    continue
                ends = (
                    birth.date + dt.timedelta(days=rule.days - 1)
                    if rule.counting == "calendar"
                    else None
                )
                parts.append(
                    _component(rule, version, days=rule.days, starts_on=birth.date, ends_on=ends)
                )
    unsettled = any(p.status == UNSETTLED for p in parts) or not parts
    settled = [p for p in parts if p.status == SETTLED]
    questions = tuple(
        OpenQuestion(
            case="pregnancy_loss",
            affects=(p.rule_id,),
            status=UNSETTLED,
            text=p.open_questions[0],
            source=p.source,
        )
        for p in parts
        if p.status == UNSETTLED and p.open_questions
    )
    total = sum(p.days or 0 for p in settled) if not unsettled else None
    ends_on = max((p.ends_on for p in settled if p.ends_on), default=None)
    return LeaveEntitlement(
        event="loss",
        date=birth.date,
        components=tuple(parts),
        maternity_days=total,
        maternity_starts_on=birth.date if total is not None else None,
        maternity_ends_on=ends_on if total is not None else None,
        status=UNSETTLED if unsettled else SETTLED,
        open_questions=questions,
        versions=tuple((v.table, v.version) for v in chosen),
    )


# --- the childcare subsidy ---


@dataclass(frozen=True)
class SubsidyInstalment:
    """The subsidy for one year of the child's age: its months (first days) and amount."""

    year_of_age: int
    first_month: dt.date
    last_month: dt.date
    months: int
    yuan: Decimal
    state: str | None = None  # past | current | future, when today is given


@dataclass(frozen=True)
class ChildcareSubsidy:
    """The childcare subsidy for one child: eligible months, amounts per year, where to apply."""

    born_on: dt.date
    status: str  # eligible | not_eligible
    months: int
    yuan_per_year: int | None
    total_yuan: Decimal
    first_month: dt.date | None
    last_month: dt.date | None
    instalments: tuple[SubsidyInstalment, ...]
    apply: Text | None
    rule_ids: tuple[str, ...]
    sources: tuple[Source, ...]
    verified: bool
    notes: tuple[str, ...] = ()
    accrued_months: int | None = None
    accrued_yuan: Decimal | None = None
    versions: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def childcare_subsidy(
    birth_date: dt.date, rules: BenefitRules, today: dt.date | None = None
) -> ChildcareSubsidy:
    """Months and amounts of the national childcare subsidy for one child, by year of age."""
    months: list[dt.date] = []
    yuan_per_month: dict[dt.date, Decimal] = {}
    used: list[RuleVersion] = []
    apply_text: Text | None = None
    rule_ids: list[str] = []
    sources: list[Source] = []
    notes: list[str] = []
    verified = True
    per_year: int | None = None
    birth_month = _month(birth_date)
    first_of_life: dt.date | None = None  # the child's first subsidised month, before any cut-off
    for version in rules.of_kind("subsidy_rules"):
        (amount,) = version.of_kind("childcare_subsidy")
        (prorata,) = version.of_kind("childcare_prorata")
        (application,) = version.of_kind("childcare_application")
        if birth_date < prorata.born_on_or_after:
            continue
        age_limit = amount.until_child_age.apply(birth_date)
        first = add_months(birth_month, 1 if prorata.first_month == MONTH_FIRSTS[1] else 0)
        first_of_life = first if first_of_life is None else min(first_of_life, first)
        last = _month(age_limit)
        if prorata.last_month == MONTH_LASTS[0]:
            last = add_months(last, -1)
        start = max(first, _month(version.effective_from))
        end = min(last, _month(version.effective_to)) if version.effective_to else last
        month = start
        found = False
        while month <= end:
            months.append(month)
            yuan_per_month[month] = Decimal(amount.yuan_per_year) / MONTHS_PER_YEAR
            month = add_months(month, 1)
            found = True
        if not found:
            continue
        used.append(version)
        per_year = amount.yuan_per_year
        apply_text = application.apply
        for rule in (amount, prorata, application):
            rule_ids.append(rule.id)
            sources.append(rule.source)
            verified = verified and rule.verified
            if rule.note:
                notes.append(rule.note)
    if not months:
        return ChildcareSubsidy(
            born_on=birth_date,
            status="not_eligible",
            months=0,
            yuan_per_year=None,
            total_yuan=Decimal(0),
            first_month=None,
            last_month=None,
            instalments=(),
            apply=None,
            rule_ids=(),
            sources=(),
            verified=True,
        )
    months.sort()
    assert first_of_life is not None
    origin = first_of_life
    instalments: list[SubsidyInstalment] = []
    for year, group in itertools.groupby(
        months, key=lambda m: _months_between(origin, m) // MONTHS_PER_YEAR + 1
    ):
        chunk = list(group)
        state = None
        if today is not None:
            now = _month(today)
            state = "past" if chunk[-1] < now else "future" if chunk[0] > now else "current"
        instalments.append(
            SubsidyInstalment(
                year_of_age=year,
                first_month=chunk[0],
                last_month=chunk[-1],
                months=len(chunk),
                yuan=_yuan(sum(yuan_per_month[m] for m in chunk)),
                state=state,
            )
        )
    accrued_months = accrued_yuan = None
    if today is not None:
        done = [m for m in months if m <= _month(today)]
        accrued_months = len(done)
        accrued_yuan = _yuan(sum((yuan_per_month[m] for m in done), Decimal(0)))
    return ChildcareSubsidy(
        born_on=birth_date,
        status="eligible",
        months=len(months),
        yuan_per_year=per_year,
        total_yuan=_yuan(sum(yuan_per_month.values(), Decimal(0))),
        first_month=months[0],
        last_month=months[-1],
        instalments=tuple(instalments),
        apply=apply_text,
        rule_ids=tuple(rule_ids),
        sources=tuple(sources),
        verified=verified,
        notes=tuple(notes),
        accrued_months=accrued_months,
        accrued_yuan=accrued_yuan,
        versions=tuple((v.table, v.version) for v in used),
    )


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * MONTHS_PER_YEAR + end.month - start.month


def _yuan(amount: Decimal) -> Decimal:
    """Yuan to the fen, as payments are made."""
    return amount.quantize(Decimal("0.01"))
