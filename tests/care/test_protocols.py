"""Protocol files: the real ones validate; each mistake is reported by file, item and field."""

from __future__ import annotations

import datetime as dt
import textwrap
import typing
from pathlib import Path

import pytest

from backend.care.loading import build_protocols, load_protocols
from backend.care.offsets import parse_offset
from backend.care.protocols import (
    ANCHORS,
    CONTENT_DIR,
    INTERPRETATIONS,
    LOCALES,
    ProtocolError,
    ProtocolSet,
    check_result,
    interpret,
    parse_ratio,
)
from backend.content.protocol_items import AnchorName

# --- the real files ---


def test_every_real_file_loads_and_validates(protocols: ProtocolSet):
    expected = {
        "child_health",
        "contraception_counselling",
        "eye_care",
        "immunization",
        "iud_followup",
        "newborn_screening",
        "postpartum",
        "pre_pregnancy",
        "prenatal_cma2018",
        "prenatal_public_health",
        "prenatal_screening",
        "risk_management",
    }
    assert set(protocols.programmes) == expected
    assert len(protocols.codes()) > 100


def test_every_item_is_cited_bilingual_and_honest(protocols: ProtocolSet):
    for versions in protocols.programmes.values():
        for version in versions:
            assert version.source.ids and version.source.title
            for item in version.items.values():
                assert item.source.ids and item.source.title, item.code
                assert set(item.title) == set(LOCALES) == set(item.why), item.code
                assert isinstance(item.verified, bool)
                if not item.verified:
                    assert item.note, f"{item.code}: verified false needs a note"
                for rule in item.interpretation:
                    assert rule.then in INTERPRETATIONS


def test_items_resting_on_memory_alone_are_not_verified(protocols: ProtocolSet):
    for versions in protocols.programmes.values():
        for version in versions:
            for item in version.items.values():
                if set(item.source.ids) <= {"M", "M!"}:
                    assert not item.verified, item.code


def test_immunization_is_effective_dated(protocols: ProtocolSet):
    versions = protocols.versions("immunization")
    assert [(v.version, v.effective_from, v.effective_to) for v in versions] == [
        ("2021", dt.date(2021, 1, 1), dt.date(2024, 12, 31)),
        ("2025.01", dt.date(2025, 1, 1), dt.date(2025, 11, 9)),
        ("2025.11", dt.date(2025, 11, 10), None),
    ]
    assert versions[0].items["dtap_1"].window.opens == parse_offset("3m")
    assert versions[1].items["dtap_1"].window.opens == parse_offset("2m")
    assert "hpv_1" not in versions[1].items and "hpv_1" in versions[2].items
    assert versions[2].items["mmr_1"] is versions[0].items["mmr_1"]  # inherited unchanged
    assert {g: c.default for g, c in versions[2].choices.items()} == {
        "JE": "JE-L",
        "HepA": "HepA-L",
    }
    assert all(i.age == "chronological" for v in versions for i in v.items.values())


def test_item_lookup_by_date(protocols: ProtocolSet):
    assert protocols.item("dtap_1", on=dt.date(2024, 6, 1)).window.opens.text == "3m"
    assert protocols.item("dtap_1").window.opens.text == "2m"
    with pytest.raises(KeyError):
        protocols.item("no_such_step")


def test_load_from_a_path_names_the_file(tmp_path: Path):
    (tmp_path / "definitions.yaml").write_text((CONTENT_DIR / "definitions.yaml").read_text())
    (tmp_path / "child_health.yaml").write_text(
        PROTOCOL(window="{opens: 2 fortnights, closes: 7m -1d}")
    )
    with pytest.raises(ProtocolError) as err:
        load_protocols(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}/child_health.yaml: item child_check_6m: field window.opens: "
        "unknown unit 'fortnights'"
    )


def test_missing_directory():
    with pytest.raises(ProtocolError, match="not a directory"):
        load_protocols("/nonexistent/protocols")


# --- broken files, one mistake each ---

DEFINITIONS = (CONTENT_DIR / "definitions.yaml").read_text(encoding="utf-8")


def PROTOCOL(
    *,
    window: str = "{opens: 6m, closes: 7m -1d}",
    extra: str = "",
    header: str = "",
    anchor: str = "birth",
    kind: str = "child",
    version: str = '"2017.3"',
    code: str = "child_check_6m",
    more_items: str = "",
) -> str:
    """A small valid protocol file, with one spot to break."""
    return (
        textwrap.dedent(
            f"""\
        programme: child_health
        version: {version}
        effective_from: 2017-01-01
        title: {{zh_CN: 儿童健康管理, en: Child health}}
        source: {{ids: [C39], title: 0-6岁儿童健康管理}}
        {header}
        items:
          - code: {code}
            kind: {kind}
            anchor: {anchor}
            window: {window}
            title: {{zh_CN: 6月龄健康检查, en: 6-month check}}
            why: {{zh_CN: 定期体检, en: Regular checks}}
            verified: true
        """
        )
        + textwrap.indent(textwrap.dedent(extra), "    ")
        + textwrap.indent(more_items, "  ")
    )


def build(*files: tuple[str, str]) -> ProtocolSet:
    return build_protocols({"content/protocols/definitions.yaml": DEFINITIONS, **dict(files)})


def problems(*files: tuple[str, str]) -> str:
    with pytest.raises(ProtocolError) as err:
        build(*files)
    return str(err.value)


P = "content/protocols/child_health.yaml"


def test_the_template_itself_is_valid():
    protocols = build((P, PROTOCOL()))
    assert protocols.item("child_check_6m").window.closes.text == "7m -1d"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"window": "{opens: 2 fortnights, closes: 7m}"},
            "item child_check_6m: field window.opens: unknown unit 'fortnights'",
        ),
        (
            {"window": "{opens: 7m, closes: 6m}"},
            "item child_check_6m: field window: must run forward",
        ),
        ({"window": "{opens: 6m}"}, "item child_check_6m: field window.closes: required"),
        ({"window": "{opens: 6, closes: 7m}"}, "field window.opens: must be an offset"),
        ({"window": "{opens: '-6m +1d', closes: 7m}"}, "field window.opens: cannot read"),
        ({"window": "{opens: 30h, closes: 7m}"}, "hours must be whole days"),
        ({"anchor": "edd"}, "field anchor: unknown anchor 'edd' for a child"),
        ({"anchor": "7"}, "field anchor: must be a date name"),
        ({"kind": "baby"}, "field kind: must be one of woman, pregnancy, child"),
        ({"code": "Child-Check"}, "item #1: field code: must be a code"),
        ({"version": "2017.3"}, 'field version: must be text in quotes, such as "2021.1"'),
        ({"extra": "widow: 3\n"}, "item child_check_6m: field widow: unknown field"),
        ({"extra": "age: corrected\n", "kind": "pregnancy", "anchor": "lmp"}, "field age"),
        ({"extra": "actor: nurse\n"}, "field actor: must be one of family, staff"),
        (
            {"extra": "verified: false\n"},
            "",  # duplicate key: verified is already in the template
        ),
        (
            {"extra": "source: {ids: [C99x], title: x}\n"},
            "field source.ids: unknown reference id 'C99x'",
        ),
        (
            {"extra": "when: {risk_colour_in: [orange]}\n"},
            "field when.risk_colour_in: never holds for a child",
        ),
        (
            {"extra": "when: {weather: sunny}\n"},
            "field when.weather: unknown condition 'weather'",
        ),
        (
            {"extra": "when: {sex: girl}\n"},
            "field when.sex: must be one of female, male",
        ),
        (
            {"extra": "when: {flag: {mother_hiv: positive}}\n"},
            "field when.flag.mother_hiv: unknown flag",
        ),
        (
            {"extra": "when: {flag: {mother_hbsag: maybe}}\n"},
            "field when.flag.mother_hbsag: value 'maybe' not declared",
        ),
        (
            {"extra": "when: {any_of: []}\n"},
            "field when.any_of: must be a non-empty list",
        ),
        (
            {"extra": "when: {result_of: {step: no_such_step, interpretation: abnormal}}\n"},
            "item child_check_6m: field when.result_of.step: unknown step 'no_such_step'",
        ),
        (
            {"extra": "when: {result_of: {step: child_check_6m}}\n"},
            "a step cannot depend on its own result",
        ),
        (
            {"extra": "when: {result_of: {step: x, interpretation: odd}}\n"},
            "field when.result_of.interpretation: must be one of normal, abnormal, critical",
        ),
        (
            {"extra": "when: {choice: {JE: JE-X}}\n"},
            "field when.choice: unknown choice group 'JE'",
        ),
        (
            {"extra": "min_interval: {after: child_check_6m, at_least: 7d}\n"},
            "field min_interval.after: a step cannot follow itself",
        ),
        (
            {"extra": "title: {zh_CN: 6月龄}\n"},
            "",
        ),
        (
            {"extra": "results: [{name: hb, type: colour}]\n"},
            "field results[0].type: must be one of number",
        ),
        (
            {"extra": "results: [{name: hb, type: enum}]\n"},
            "field results[0].values: an enum needs its list of values",
        ),
        (
            {"extra": "results: [{name: hb, type: number, min: 200, max: 30}]\n"},
            "field results[0].min: is above max",
        ),
        (
            {"extra": "results: [{name: hb, type: text, min: 1}]\n"},
            "min and max apply to number, integer and ratio fields only",
        ),
        (
            {
                "extra": """\
                results: [{name: hb, type: number}]
                interpretation: [{when: {field: hgb, below: 110}, then: abnormal}]
                """
            },
            "field interpretation[0].when.field: 'hgb' is not declared in results",
        ),
        (
            {
                "extra": """\
                results: [{name: hb, type: number}]
                interpretation: [{when: {field: hb, below: 110}, then: bad}]
                """
            },
            "field interpretation[0].then: must be one of normal, abnormal, critical",
        ),
        (
            {
                "extra": """\
                results: [{name: hearing, type: enum, values: [pass, refer]}]
                interpretation: [{when: {field: hearing, equals: fail}, then: abnormal}]
                """
            },
            "'fail' is not one of hearing's values",
        ),
        (
            {
                "extra": """\
                results: [{name: hearing, type: enum, values: [pass, refer]}]
                interpretation: [{when: {field: hearing, below: 3}, then: abnormal}]
                """
            },
            "'below' needs a number, integer or ratio field",
        ),
        (
            {"extra": "interpretation: [{when: {field: hb, below: 110}, then: abnormal}]\n"},
            "field interpretation: needs `results:` to declare the fields it reads",
        ),
        (
            {"extra": "parts: [{code: hb, title: {zh_CN: 血红蛋白, en: Hb}, sexes: [other]}]\n"},
            "field parts[0].sexes: must be one of female, male",
        ),
        (
            {"header": "effective_to: 2016-01-01"},
            "field effective_to: is before effective_from",
        ),
        (
            {"header": "removes: [child_check_6m]"},
            "field removes: only a file that extends another version can remove items",
        ),
        (
            {"header": "defaults: {window: x}"},
            "field defaults.window: unknown field",
        ),
    ],
)
def test_each_mistake_is_named(kwargs, message):
    report = problems((P, PROTOCOL(**kwargs)))
    assert report.startswith(P + ": ")
    assert message in report


def test_verified_false_needs_a_note():
    text = PROTOCOL().replace("verified: true", "verified: false")
    assert f"{P}: item child_check_6m: field note: required when verified is false" in problems(
        (P, text)
    )


def test_missing_english_title():
    text = PROTOCOL().replace(
        "title: {zh_CN: 6月龄健康检查, en: 6-month check}", "title: {zh_CN: 6月龄健康检查}"
    )
    assert f"{P}: item child_check_6m: field title.en: required" in problems((P, text))


def test_an_unquoted_comma_in_a_flow_title_is_caught():
    text = PROTOCOL().replace("en: 6-month check}", "en: 6-month check, growth}")
    assert "field title.growth: unknown locale" in problems((P, text))


def test_duplicate_yaml_key_is_a_syntax_error():
    report = problems((P, PROTOCOL(extra="verified: false\n")))
    assert f"{P}: YAML syntax error: " in report and "duplicate key 'verified'" in report


def test_yaml_syntax_error():
    assert f"{P}: YAML syntax error" in problems((P, "items: [unclosed\n"))


def test_duplicate_code_across_files():
    other = PROTOCOL().replace("programme: child_health", "programme: eye_care")
    report = problems((P, PROTOCOL()), ("content/protocols/eye_care.yaml", other))
    assert (
        "content/protocols/eye_care.yaml: item child_check_6m: field code: already used in "
        "content/protocols/child_health.yaml"
    ) in report


def test_duplicate_code_in_one_file():
    twin = textwrap.dedent(
        """\
          - code: child_check_6m
            kind: child
            anchor: birth
            window: {opens: 6m, closes: 7m}
            title: {zh_CN: 重复, en: Twice}
            why: {zh_CN: 重复, en: Twice}
            verified: true
        """
    )
    report = problems((P, PROTOCOL(more_items=twin)))
    assert f"{P}: item child_check_6m: field code: used twice in this file" in report


def test_result_field_tests_must_match_the_other_step():
    follow = textwrap.dedent(
        """\
          - code: anaemia_check
            kind: child
            anchor: {step: child_check_6m, field: hb, below: 110}
            window: {opens: 0d, closes: 2w}
            title: {zh_CN: 复查, en: Recheck}
            why: {zh_CN: 复查, en: Recheck}
            verified: true
        """
    )
    report = problems((P, PROTOCOL(more_items=follow)))
    assert (
        f"{P}: item anaemia_check: field anchor.field: step 'child_check_6m' declares no "
        "result field 'hb'"
    ) in report
    with_results = PROTOCOL(extra="results: [{name: hb, type: number}]\n", more_items=follow)
    assert build((P, with_results)).item("anaemia_check")


def test_every_broken_item_is_reported_at_once():
    second = textwrap.dedent(
        """\
        - code: second
          kind: child
          anchor: nowhere
          window: {opens: 1m, closes: 2m}
          title: {zh_CN: 二, en: Two}
          why: {zh_CN: 二, en: Two}
          verified: true
        """
    )
    text = PROTOCOL(window="{opens: 2 fortnights, closes: 7m}", more_items=second)
    report = problems((P, text))
    assert "item child_check_6m: field window.opens" in report
    assert "item second: field anchor" in report
    assert len(report.splitlines()) == 2


def test_a_broken_item_does_not_hide_the_context_problems_of_the_others():
    """An item refused by its model is left out; the file's other items are still checked
    against their subject kind (here: `edd` is not a date a child has)."""
    second = textwrap.dedent(
        """\
        - code: second
          kind: child
          anchor: edd
          window: {opens: 1m, closes: 2m}
          title: {zh_CN: 二, en: Two}
          why: {zh_CN: 二, en: Two}
          verified: true
        """
    )
    report = problems((P, PROTOCOL(window="{opens: 2 fortnights, closes: 7m}", more_items=second)))
    assert f"{P}: item child_check_6m: field window.opens: unknown unit 'fortnights'" in report
    assert f"{P}: item second: field anchor: unknown anchor 'edd' for a child" in report
    assert len(report.splitlines()) == 2


# --- versions ---

BASE = PROTOCOL(header="effective_to: 2024-12-31").replace('"2017.3"', '"2021"')


def later(header: str, version: str = '"2025"', items: str = "[]") -> str:
    return "\n".join(
        [
            "programme: child_health",
            f"version: {version}",
            "effective_from: 2025-01-01",
            "title: {zh_CN: 新版, en: New edition}",
            "source: {ids: [C61], title: notice}",
            header,
            f"items: {items}",
            "",
        ]
    )


def test_a_version_extends_an_earlier_one():
    protocols = build(
        (P, BASE), ("content/protocols/child_health_2025.yaml", later('extends: "2021"'))
    )
    assert [v.version for v in protocols.versions("child_health")] == ["2021", "2025"]
    assert "child_check_6m" in protocols.versions("child_health")[1].items


def test_a_version_can_remove_items():
    text = later('extends: "2021"\nremoves: [child_check_6m]')
    protocols = build((P, BASE), ("content/protocols/child_health_2025.yaml", text))
    assert protocols.versions("child_health")[1].items == {}


@pytest.mark.parametrize(
    ("base", "new", "message"),
    [
        (
            PROTOCOL().replace('"2017.3"', '"2021"'),
            later('extends: "2021"'),
            f"{P}: field effective_to: must be the day before",
        ),
        (BASE, later('extends: "2019"'), "field extends: no earlier version '2019'"),
        (BASE, later('extends: "2021"\nremoves: [nothing]'), "field removes: 'nothing' is not"),
        (BASE, later(""), "field items: must be a non-empty list"),
        (BASE, later('extends: "2021"', version='"2021"'), "is also the version of"),
    ],
)
def test_version_mistakes(base, new, message):
    assert message in problems((P, base), ("content/protocols/child_health_2025.yaml", new))


def test_definitions_are_required():
    with pytest.raises(ProtocolError, match="exactly one definitions file is required, found 0"):
        build_protocols({P: PROTOCOL()})


def test_broken_definitions():
    broken = DEFINITIONS.replace("value: 37w", "value: 8m")
    report = problems(("content/protocols/definitions.yaml", broken), (P, PROTOCOL()))
    assert (
        "definitions.yaml: field definitions.preterm_below.value: must be a gestational age"
        in report
    )


# --- results: checking and interpreting values ---


def test_check_result_rejects_impossible_values(protocols: ProtocolSet):
    visit = protocols.item("cma_visit_1")
    assert check_result(visit, {"haemoglobin_g_l": 95, "bp_systolic": 120}) == {}
    assert check_result(visit, {"haemoglobin_g_l": 950}) == {
        "haemoglobin_g_l": "must be at most 250 g/L"
    }
    assert check_result(visit, {"bp_systolic": 120.5})["bp_systolic"] == "must be a whole number"
    assert check_result(visit, {"glucose": 5})["glucose"] == "unknown field for this step"
    assert check_result(visit, {"haemoglobin_g_l": "high"})["haemoglobin_g_l"] == "must be a number"


def test_check_result_enums_sides_and_required(protocols: ProtocolSet):
    screen = protocols.item("hearing_screen")
    assert check_result(screen, {"result": {"left": "pass", "right": "refer"}}) == {}
    assert check_result(screen, {"result": "pass"})["result"].startswith(
        "must give a value per side"
    )
    assert check_result(screen, {"result": {"left": "maybe", "right": "pass"}}) == {
        "result.left": "must be one of ['pass', 'refer']"
    }
    assert check_result(screen, {}) == {"result": "required"}
    serum = protocols.item("serum_screen_t2")
    assert check_result(serum, {"lab_risk": "high", "t21_risk": "1/270"}) == {}
    assert check_result(serum, {"lab_risk": "high", "t21_risk": "often"}) == {
        "t21_risk": "must be a ratio such as 1/270"
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"haemoglobin_g_l": 120}, "normal"),
        ({"haemoglobin_g_l": 110}, "normal"),
        ({"haemoglobin_g_l": 95}, "abnormal"),
        ({"haemoglobin_g_l": 65}, "critical"),
        ({"bp_systolic": 145, "bp_diastolic": 85}, "abnormal"),
        ({"bp_systolic": 150, "bp_diastolic": 112}, "critical"),
        ({"weight_kg": 60}, None),  # no rule reads weight: the doctor interprets
        ({}, None),
    ],
)
def test_interpret_pregnancy_haemoglobin_and_blood_pressure(protocols, values, expected):
    assert interpret(protocols.item("ph_prenatal_1"), values) == expected


def test_interpret_per_side_and_thresholds(protocols: ProtocolSet):
    hearing = protocols.item("hearing_screen")
    assert interpret(hearing, {"result": {"left": "pass", "right": "refer"}}) == "abnormal"
    assert interpret(hearing, {"result": {"left": "pass", "right": "pass"}}) == "normal"
    ogtt = protocols.item("ogtt")
    assert (
        interpret(ogtt, {"fasting_mmol_l": 4.8, "one_hour_mmol_l": 9.9, "two_hour_mmol_l": 8.4})
        == "normal"
    )
    assert interpret(ogtt, {"two_hour_mmol_l": 8.5}) == "abnormal"
    assert interpret(protocols.item("nt_scan"), {"nt_mm": 3.5}) is None  # no cut-off in the data


def test_parse_ratio():
    assert parse_ratio("1/270") == pytest.approx(1 / 270)
    assert parse_ratio("1:50") == pytest.approx(0.02)
    with pytest.raises(ValueError):
        parse_ratio("1/0")


@pytest.mark.parametrize(
    ("text", "months", "days"),
    [
        ("16w", 0, 112),
        ("20w6d", 0, 146),
        ("13w 6d", 0, 97),
        ("3m -1d", 3, -1),
        ("-6m", -6, 0),
        ("-13w6d", 0, -97),
        ("1y6m", 18, 0),
        ("2 weeks", 0, 14),
        ("48h", 0, 2),
        ("0d", 0, 0),
    ],
)
def test_parse_offset(text, months, days):
    offset = parse_offset(text)
    assert (offset.months, offset.days) == (months, days)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 fortnights", "unknown unit 'fortnights'"),
        ("", "must not be empty"),
        ("six months", "cannot read"),
        ("-3m -1d", "put one '-' in front"),
        ("+3m", "put one '-' in front"),
        ("36h", "hours must be whole days"),
        (3, "must be an offset"),
    ],
)
def test_parse_offset_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_offset(text)


def test_the_item_model_knows_every_anchor_of_every_subject_kind():
    """The schema's anchor names are the dates the engine's subjects hold (ANCHORS)."""
    named = {name for names in ANCHORS.values() for name in names}
    assert set(typing.get_args(AnchorName)) == named


def test_the_item_in_force_is_the_latest_version_started_by_that_day(protocols):
    """ProtocolSet.item (an index built once) gives, for every code, before, at and after each
    version's start, the item of the first programme holding the code in its latest version
    started on or before the day, or its first version before any started."""

    def in_force(code, day):
        for versions in protocols.programmes.values():
            holding = [v for v in versions if code in v.items]
            if holding:
                started = [v for v in holding if v.effective_from <= day]
                return (started[-1] if started else holding[0]).items[code]
        raise KeyError(code)

    days = {dt.date(1990, 1, 1), dt.date(2100, 1, 1)}
    for versions in protocols.programmes.values():
        for version in versions:
            days |= {version.effective_from + dt.timedelta(days=d) for d in (-1, 0, 1)}
    for code in protocols.codes():
        for day in days:
            assert protocols.item(code, on=day) is in_force(code, day), (code, day)
