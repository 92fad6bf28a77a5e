"""Reading and checking content/benefits at start-up; a broken file names file, item and field."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from backend.benefits.rules import (
    CASES,
    CONTENT_DIR,
    COUNTINGS,
    FILE_KINDS,
    HOLDERS,
    JURISDICTIONS,
    LEAVE_KINDS,
    MONTH_FIRSTS,
    MONTH_LASTS,
    QUESTION_STATUSES,
    RULE_ID,
    SUBSIDY_KINDS,
    BenefitRules,
    LeaveRule,
    OpenQuestion,
    RuleVersion,
    SubsidyExample,
    SubsidyRule,
)
from backend.benefits.subsidy import childcare_subsidy
from backend.contraception.reading import (
    ContentError,
    Invalid,
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
