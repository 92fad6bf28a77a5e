"""The benefit rule tables (content/benefits) from their validated files (backend.content.benefits).

The content layer validates each file at start-up (file, rule and field named); here the files
become the calculator's types, and the checks that need every file or the calculator run: the
version chain of each table, the rules an open question affects, the published subsidy examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from backend.benefits.rules import (
    CONTENT_DIR,
    BenefitRules,
    LeaveRule,
    OpenQuestion,
    RuleVersion,
    SubsidyExample,
    SubsidyRule,
)
from backend.benefits.subsidy import childcare_subsidy
from backend.care.offsets import parse_offset
from backend.content import ContentFileError, parse
from backend.content import benefits as spec
from backend.content.common import as_source, as_text
from backend.content.versions import chain

# The kind's own fields, copied as they are; the others are converted below.
_PLAIN = (
    "days",
    "days_before_birth_allowed",
    "days_per_year",
    "hours_per_working_day",
    "extra_hours_per_extra_baby",
    "yuan_per_year",
    "born_on_or_after",
    "first_month",
    "last_month",
)


class ContentError(ContentFileError):
    """A benefits file is broken; each problem names the file, the rule and the field."""


def load_benefits(directory: str | Path = CONTENT_DIR) -> BenefitRules:
    """Load and validate every file of content/benefits; ContentError if any is broken."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ContentError([f"{directory}: not a directory"])
    paths = sorted(directory.glob("*.yaml"))
    return build_benefits({str(p): p.read_text(encoding="utf-8") for p in paths})


def build_benefits(texts: Mapping[str, str]) -> BenefitRules:
    """Parse and validate benefit rule files given as {path: YAML text}."""
    files: dict[str, Any] = {}
    problems: list[str] = []
    for path, text in texts.items():
        try:
            files[path] = parse("benefits", path, text)[0]
        except ContentFileError as exc:
            problems.extend(exc.lines)
    if problems:
        raise ContentError(problems)
    return from_files(files)


def from_files(files: Mapping[str, spec.LeaveRulesFile | spec.SubsidyRulesFile]) -> BenefitRules:
    """The rule tables of validated files ({path: model}); ContentError naming what is wrong."""
    problems: list[str] = []
    versions = [_version(path, file) for path, file in files.items()]
    tables: dict[str, tuple[RuleVersion, ...]] = {}
    for table in sorted({v.table for v in versions}):
        ordered = chain((v for v in versions if v.table == table), problems)
        first = ordered[0]
        for current in ordered[1:]:
            if (current.kind, current.jurisdiction) != (first.kind, first.jurisdiction):
                problems.append(
                    f"{current.path}: field table: {table} is a {first.kind} table of "
                    f"{first.jurisdiction} in {first.path}"
                )
        tables[table] = tuple(ordered)
    known = {r.id for v in versions for r in v.rules}
    for version in versions:
        for question in version.open_questions:
            problems.extend(
                f"{version.path}: open question {question.case}: field affects: "
                f"unknown rule {rule_id!r}"
                for rule_id in question.affects
                if rule_id not in known
            )
        if version.kind == "subsidy_rules":
            problems.extend(_examples(version))
    if not versions:
        problems.append("(benefits): no rule files found")
    if problems:
        raise ContentError(problems)
    return BenefitRules(MappingProxyType(tables))


def _rule(rule: Any) -> LeaveRule | SubsidyRule:
    """A validated rule as the calculator's type."""
    values: dict[str, Any] = {name: getattr(rule, name) for name in _PLAIN if hasattr(rule, name)}
    if getattr(rule, "until_child_age", None) is not None:
        values["until_child_age"] = parse_offset(rule.until_child_age)
    if isinstance(rule, spec.Extension):
        values["child_orders"] = tuple(rule.child_orders)
    if isinstance(rule, spec.PregnancyLoss):
        values["ga_weeks_at_least"] = rule.ga_weeks.at_least
        values["ga_weeks_below"] = rule.ga_weeks.below
        values["unsettled"] = as_text(rule.unsettled) if rule.unsettled else None
    if isinstance(rule, spec.ChildcareProrata):
        values["examples"] = tuple(
            SubsidyExample(e.born_on, e.months, e.yuan) for e in rule.examples
        )
    if isinstance(rule, spec.ChildcareApplication):
        values["apply"] = as_text(rule.apply)
    common = {
        "id": rule.id,
        "kind": rule.kind,
        "title": as_text(rule.title),
        "source": as_source(rule.source),
        "verified": rule.verified,
        "note": rule.note.strip() if rule.note else None,
    }
    if isinstance(rule, spec.LeaveRule):
        return LeaveRule(**common, holder=rule.holder, counting=rule.counting, **values)
    return SubsidyRule(**common, **values)


def _version(path: str, file: spec.LeaveRulesFile | spec.SubsidyRulesFile) -> RuleVersion:
    """One validated file as a version of its table."""
    questions = tuple(
        OpenQuestion(
            case=q.case,
            affects=tuple(q.affects),
            status=q.status,
            text=as_text(q.text),
            source=as_source(q.source),
            title=as_text(q.title) if q.title else None,
        )
        for q in file.open_questions
    )
    return RuleVersion(
        kind=file.kind,
        table=file.table,
        jurisdiction=file.jurisdiction,
        version=file.version.strip(),
        effective_from=file.effective_from,
        effective_to=file.effective_to,
        title=as_text(file.title),
        source=as_source(file.source),
        verified=file.verified,
        path=path,
        rules=tuple(_rule(r) for r in file.rules),
        open_questions=questions,
        note=file.note.strip() if file.note else None,
    )


def _examples(version: RuleVersion) -> list[str]:
    """The published examples of the pro-rating rule, reproduced by the calculator."""
    problems = []
    prorata = version.of_kind("childcare_prorata")[0]
    alone = BenefitRules({version.table: (version,)})
    for example in prorata.examples:
        result = childcare_subsidy(example.born_on, alone)
        if (result.months, result.total_yuan) != (example.months, Decimal(example.yuan)):
            problems.append(
                f"{version.path}: rule {prorata.id}: field examples: a child born "
                f"{example.born_on} gets {result.months} months ({result.total_yuan} yuan) "
                f"under these rules, not {example.months} ({example.yuan})"
            )
    return problems
