"""Family benefits: leave by the rules in force at the birth, the childcare subsidy, the cases the
reference leaves open, and broken rule files reported by file, rule and field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from backend.benefits.leave import BirthFacts, leave_for
from backend.benefits.loading import ContentError, build_benefits
from backend.benefits.rules import CONDITIONAL, CONTENT_DIR, SETTLED, UNSETTLED, BenefitRules
from backend.benefits.subsidy import childcare_subsidy
from tests import content


def test_the_real_tables_and_their_versions(rules: BenefitRules):
    assert {t: [v.version for v in vs] for t, vs in rules.tables.items()} == {
        "national_leave": ["2012"],
        "zhejiang_leave": ["2016", "2021"],
        "national_childcare_subsidy": ["2025"],
    }
    for versions in rules.tables.values():
        for version in versions:
            assert version.source.ids and version.title["zh_CN"] and version.title["en"]
            for rule in version.rules:
                assert rule.source.ids, rule.id
                if rule.source.from_memory:
                    assert not rule.verified, rule.id
                if not rule.verified:
                    assert rule.note, rule.id


def test_the_version_is_chosen_by_the_date_of_birth(rules: BenefitRules):
    day_before = rules.version_on("zhejiang_leave", dt.date(2021, 11, 24))
    assert day_before is not None and day_before.version == "2016"
    day_of = rules.version_on("zhejiang_leave", dt.date(2021, 11, 25))
    assert day_of is not None and day_of.version == "2021"
    assert rules.version_on("zhejiang_leave", dt.date(2015, 12, 31)) is None


# --- leave after a birth ---


def test_a_first_child_born_the_day_before_the_2021_amendment(rules: BenefitRules):
    leave = leave_for(BirthFacts.planned(dt.date(2021, 11, 24), 1), rules)
    assert leave.maternity_days == 128
    assert (leave.maternity_starts_on, leave.maternity_ends_on) == (
        dt.date(2021, 11, 24),
        dt.date(2022, 3, 31),
    )
    assert leave.component("ZJ_EXT_2016").days == 30
    assert ("zhejiang_leave", "2016") in leave.versions
    # She was still on leave when the amendment took effect: flagged, not guessed.
    assert "leave_running_at_change" in [q.case for q in leave.open_questions]
    assert leave.component("ZJ_EXT_2016").open_questions
    assert leave.status == SETTLED
    # Parental leave exists from the amendment's first day until the third birthday.
    parental = leave.component("ZJ_PARENTAL")
    assert (parental.days, parental.per) == (10, "year")
    assert (parental.starts_on, parental.ends_on) == (dt.date(2021, 11, 25), dt.date(2024, 11, 23))


def test_a_first_child_born_the_day_the_2021_amendment_took_effect(rules: BenefitRules):
    leave = leave_for(BirthFacts.planned(dt.date(2021, 11, 25), 1), rules)
    assert leave.maternity_days == 158
    assert leave.maternity_ends_on == dt.date(2022, 5, 1)
    base, extension = leave.component("NAT-MAT-BASE"), leave.component("ZJ_EXT_2021_C1")
    assert (base.days, base.starts_on, base.ends_on) == (
        98,
        dt.date(2021, 11, 25),
        dt.date(2022, 3, 2),
    )
    assert (extension.days, extension.starts_on) == (60, dt.date(2022, 3, 3))
    assert base.counting == extension.counting == "calendar"
    assert "leave_running_at_change" not in [q.case for q in leave.open_questions]
    paternity = leave.component("ZJ_PATERNITY")
    assert (paternity.days, paternity.holder, paternity.counting) == (15, "father", "unspecified")
    assert paternity.ends_on is None  # no date range without knowing how the days are counted
    parental = leave.component("ZJ_PARENTAL")
    assert (parental.holder, parental.starts_on, parental.ends_on) == (
        "each_parent",
        dt.date(2021, 11, 25),
        dt.date(2024, 11, 24),
    )
    nursing = leave.component("NAT-NURSING-HOUR")
    assert (nursing.hours_per_working_day, nursing.counting) == (1, "working")
    assert nursing.ends_on == dt.date(2022, 11, 24)


def test_a_second_child_in_2023(rules: BenefitRules):
    leave = leave_for(BirthFacts.planned(dt.date(2023, 6, 1), 2), rules)
    assert leave.maternity_days == 188
    assert leave.component("ZJ_EXT_2021_C2C3").days == 90
    assert leave.maternity_ends_on == dt.date(2023, 12, 5)


def test_a_difficult_birth_adds_15_days(rules: BenefitRules):
    leave = leave_for(BirthFacts(dt.date(2023, 6, 1), child_order=1, difficult_birth=True), rules)
    assert leave.maternity_days == 173
    assert leave.component("NAT-MAT-DYSTOCIA").status == SETTLED


def test_a_caesarean_without_a_certificate_is_conditional(rules: BenefitRules):
    leave = leave_for(BirthFacts(dt.date(2023, 6, 1), child_order=1, caesarean=True), rules)
    assert leave.maternity_days == 158
    dystocia = leave.component("NAT-MAT-DYSTOCIA")
    assert (dystocia.status, dystocia.days) == (CONDITIONAL, 15)
    assert "caesarean" in dystocia.open_questions[0]["en"]
    certified_not = BirthFacts(
        dt.date(2023, 6, 1), child_order=1, caesarean=True, difficult_birth=False
    )
    assert not leave_for(certified_not, rules).of_kind("difficult_birth")


def test_twins_under_the_2021_rules_are_unsettled(rules: BenefitRules):
    leave = leave_for(BirthFacts(dt.date(2023, 6, 1), child_order=1, babies=2), rules)
    assert leave.status == UNSETTLED
    assert leave.maternity_days is None and leave.maternity_ends_on is None
    assert leave.component("NAT-MAT-MULTI").status == UNSETTLED
    assert leave.component("ZJ_EXT_2021_C1").days is None
    assert "188" in leave.component("ZJ_EXT_2021_C1").open_questions[0]["en"]
    assert leave.component("NAT-NURSING-HOUR").hours_per_working_day == 2


def test_twins_under_the_2016_rules_add_15_days(rules: BenefitRules):
    leave = leave_for(BirthFacts(dt.date(2019, 5, 10), child_order=1, babies=2), rules)
    assert leave.maternity_days == 98 + 15 + 30
    assert leave.status == SETTLED


def test_a_child_order_the_rules_do_not_list_is_unsettled(rules: BenefitRules):
    leave = leave_for(BirthFacts.planned(dt.date(2023, 6, 1), 4), rules)
    assert leave.status == UNSETTLED and leave.maternity_days is None
    (extension,) = leave.of_kind("extension")
    assert extension.title["en"] == "Extended maternity leave"
    third_in_2019 = leave_for(BirthFacts.planned(dt.date(2019, 6, 1), 3), rules)
    assert third_in_2019.status == UNSETTLED


def test_a_birth_before_any_table_has_no_numbers(rules: BenefitRules):
    leave = leave_for(BirthFacts.planned(dt.date(2010, 1, 1), 1), rules)
    assert (leave.maternity_days, leave.status, leave.versions) == (None, UNSETTLED, ())


# --- leave after a loss ---


@pytest.mark.parametrize(
    ("weeks", "days", "rule"),
    [
        (10, 15, "NAT-MISC-LT4M"),
        (15, 15, "NAT-MISC-LT4M"),
        (16, 42, "NAT-MISC-GE4M"),
        (18, 42, "NAT-MISC-GE4M"),
    ],
)
def test_a_miscarriage_by_gestational_age(rules: BenefitRules, weeks: int, days: int, rule: str):
    leave = leave_for(BirthFacts(dt.date(2024, 3, 1), loss_ga_weeks=weeks), rules)
    assert (leave.event, leave.maternity_days, leave.status) == ("loss", days, SETTLED)
    (part,) = leave.components
    assert part.rule_id == rule
    assert part.ends_on == dt.date(2024, 3, 1) + dt.timedelta(days=days - 1)


def test_a_loss_at_28_weeks_or_later_is_routed_to_a_person(rules: BenefitRules):
    leave = leave_for(BirthFacts(dt.date(2024, 3, 1), loss_ga_weeks=30), rules)
    assert (leave.maternity_days, leave.status) == (None, UNSETTLED)
    assert "28 weeks" in leave.components[0].open_questions[0]["en"]
    assert [q.affects for q in leave.open_questions] == [("NAT-LOSS-GE28W",)]


def test_birth_facts_are_checked():
    with pytest.raises(ValueError, match="child_order"):
        BirthFacts(dt.date(2024, 1, 1))
    with pytest.raises(ValueError, match="babies"):
        BirthFacts(dt.date(2024, 1, 1), child_order=1, babies=0)


# --- the childcare subsidy ---


def test_a_child_born_in_december_2023_gets_24_months(rules: BenefitRules):
    subsidy = childcare_subsidy(dt.date(2023, 12, 15), rules, today=dt.date(2026, 3, 1))
    assert (subsidy.status, subsidy.months, subsidy.total_yuan) == ("eligible", 24, Decimal(7200))
    assert (subsidy.first_month, subsidy.last_month) == (dt.date(2025, 1, 1), dt.date(2026, 12, 1))
    assert [(i.year_of_age, i.months, i.yuan, i.state) for i in subsidy.instalments] == [
        (2, 12, Decimal(3600), "past"),
        (3, 12, Decimal(3600), "current"),
    ]
    assert (subsidy.accrued_months, subsidy.accrued_yuan) == (15, Decimal(4500))
    assert subsidy.yuan_per_year == 3600
    assert subsidy.apply and "WeChat" in subsidy.apply["en"]
    assert not subsidy.verified  # the month convention is inferred (see the file's note)


def test_a_child_born_in_march_2025_gets_36_months(rules: BenefitRules):
    subsidy = childcare_subsidy(dt.date(2025, 3, 10), rules)
    assert (subsidy.months, subsidy.total_yuan) == (36, Decimal(10800))
    assert [(i.year_of_age, i.first_month, i.yuan) for i in subsidy.instalments] == [
        (1, dt.date(2025, 4, 1), Decimal(3600)),
        (2, dt.date(2026, 4, 1), Decimal(3600)),
        (3, dt.date(2027, 4, 1), Decimal(3600)),
    ]
    assert subsidy.instalments[0].state is None
    assert subsidy.rule_ids == (
        "NAT-CHILDCARE-SUBSIDY",
        "NAT-CHILDCARE-PRORATA",
        "NAT-CHILDCARE-APPLY",
    )


@pytest.mark.parametrize(
    ("born", "months"),
    [
        (dt.date(2021, 12, 31), 0),
        (dt.date(2022, 1, 1), 1),
        (dt.date(2022, 12, 20), 12),
        (dt.date(2024, 12, 31), 36),
        (dt.date(2026, 2, 1), 36),
    ],
)
def test_months_at_the_edges(rules: BenefitRules, born: dt.date, months: int):
    subsidy = childcare_subsidy(born, rules)
    assert subsidy.months == months
    assert subsidy.total_yuan == Decimal(300 * months)
    assert subsidy.status == ("eligible" if months else "not_eligible")


# --- broken files ---


def real_texts() -> dict[str, str]:
    return content.real_texts(CONTENT_DIR)


def broken(file: str, old: str, new: str) -> str:
    return content.broken(build_benefits, CONTENT_DIR, file, old, new, ContentError)


def test_the_real_texts_build(rules: BenefitRules):
    assert build_benefits(real_texts()).tables.keys() == rules.tables.keys()


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "national_2012.yaml",
            "    days: 98\n",
            "    days: ninety-eight\n",
            "national_2012.yaml: rule NAT-MAT-BASE: field days: must be a whole number",
        ),
        (
            "national_2012.yaml",
            "    kind: maternity\n",
            "    kind: maternal\n",
            "national_2012.yaml: rule NAT-MAT-BASE: field kind: must be one of",
        ),
        (
            "zhejiang_2021.yaml",
            "    counting: calendar\n    title: {zh_CN: 延长产假（第一个孩子）",
            "    counting: weekdays\n    title: {zh_CN: 延长产假（第一个孩子）",
            "zhejiang_2021.yaml: rule ZJ_EXT_2021_C1: field counting: must be one of calendar",
        ),
        (
            "zhejiang_2016.yaml",
            "effective_to: 2021-11-24",
            "effective_to: 2021-11-20",
            "zhejiang_2016.yaml: field effective_to: must be the day before",
        ),
        (
            "zhejiang_2021.yaml",
            "affects: [ZJ_EXT_2016]",
            "affects: [ZJ_EXT_2015]",
            "zhejiang_2021.yaml: open question leave_running_at_change: field affects: unknown "
            "rule 'ZJ_EXT_2015'",
        ),
        (
            "national_2012.yaml",
            "ga_weeks: {at_least: 16, below: 28}",
            "ga_weeks: {at_least: 17, below: 28}",
            "national_2012.yaml: field rules: pregnancy_loss bands must meet without gap",
        ),
        (
            "national_2025.yaml",
            "{born_on: 2023-12-15, months: 24, yuan: 7200}",
            "{born_on: 2023-12-15, months: 23, yuan: 6900}",
            "rule NAT-CHILDCARE-PRORATA: field examples: a child born 2023-12-15 gets 24 months",
        ),
        (
            "national_2025.yaml",
            "    last_month: month_of_third_birthday\n",
            "    last_month: month_before_third_birthday\n",
            "gets 23 months (6900.00 yuan) under these rules, not 24 (7200)",
        ),
        (
            "national_2012.yaml",
            "    verified: false\n    note: The app counts",
            "    verified: maybe\n    note: The app counts",
            "rule NAT-MAT-BASE: field verified: must be true or false",
        ),
        (
            "zhejiang_2021.yaml",
            "  - case: always\n",
            "  - case: sometimes\n",
            "zhejiang_2021.yaml: open question #4: field case: must be one of",
        ),
    ],
)
def test_a_broken_rule_file_names_the_file_the_rule_and_the_field(
    file: str, old: str, new: str, message: str
):
    assert message in broken(file, old, new)
