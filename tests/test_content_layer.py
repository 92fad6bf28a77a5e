"""The content layer: every file kind validated at start-up the same way, with JSON Schemas."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from backend import content, create_app
from backend.content import ContentFileError, load_all

CONTENT = Path(__file__).resolve().parents[1] / "content"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of content/ to break."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_file_kind_of_the_repository_is_valid():
    loaded = load_all(CONTENT)
    assert set(loaded.models) == {kind.name for kind in content.FILE_KINDS}


def test_a_broken_file_stops_the_app_naming_the_file_the_item_and_the_field(copy: Path):
    _replace(
        copy / "measurements.yaml",
        "weight_kg: {type: number, min: 25, max: 250",
        'weight_kg: {type: number, min: 25, max: "heavy"',
    )
    with pytest.raises(ContentFileError) as info:
        create_app({"DATABASE_URL": "sqlite://", "CONTENT_DIR": str(copy)})
    line = next(p for p in info.value.lines if "measurements.yaml" in p)
    assert "field kinds.weight.fields.weight_kg.max" in line


def test_every_broken_file_is_reported_at_once(copy: Path):
    _replace(copy / "dating" / "naegele.yaml", "edd_after_lmp_days: 280", "edd_after_lmp_days: -1")
    _replace(copy / "reminders.yaml", "effect_window_days: 14", "effect_window_days: 14\nextra: 1")
    with pytest.raises(ContentFileError) as info:
        load_all(copy)
    text = str(info.value)
    assert "naegele.yaml: field edd_after_lmp_days" in text
    assert "reminders.yaml: field extra: unknown field" in text


def test_a_key_written_twice_is_refused_with_its_line(copy: Path):
    _replace(copy / "life_stages.yaml", "colour: red", "colour: red\n    colour: blue")
    with pytest.raises(ContentFileError, match=r"life_stages.yaml: .*duplicate key 'colour'.*line"):
        load_all(copy)


def test_a_redating_table_with_a_gap_is_refused(copy: Path):
    _replace(
        copy / "dating" / "acog-co700.yaml",
        "{from: {weeks: 9, days: 0}",
        "{from: {weeks: 9, days: 1}",
    )
    with pytest.raises(ContentFileError, match=r"acog-co700.yaml: field bands: .*gap at 63 days"):
        load_all(copy)


def test_the_schema_command_writes_one_json_schema_per_file_kind(app, tmp_path: Path):
    result = app.test_cli_runner().invoke(args=["content", "schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.glob("*.schema.json"))
    kinds = [kind.name for kind in content.FILE_KINDS] + ["lessons.front_matter"]
    assert written == sorted(f"{name}.schema.json" for name in kinds)
    schema = json.loads((tmp_path / "measurements.schema.json").read_text(encoding="utf-8"))
    assert schema["additionalProperties"] is False
    assert {"version", "kinds"} <= set(schema["required"])
    stages = json.loads((tmp_path / "life_stages.schema.json").read_text(encoding="utf-8"))
    band = stages["$defs"]["AgeBand"]
    assert "from" in band["properties"]  # the YAML key, not the Python name


def test_the_code_reads_what_start_up_loaded_not_its_own_copy(copy: Path):
    # Nothing reads a content file at import time or caches it on first use: the values the
    # engines see are the ones the last start-up validated.
    from backend.handbook import dating
    from backend.regimens import service as regimens_service
    from backend.reminders import rules

    _replace(
        copy / "reminders.yaml", 'quiet_hours: {start: "21:00"', 'quiet_hours: {start: "20:00"'
    )
    _replace(copy / "dating" / "plausibility.yaml", "max_ahead_years: 1", "max_ahead_years: 2")
    real = content.loaded()
    try:
        content.activate(load_all(copy))
        assert rules.load().quiet_start.hour == 20
        assert regimens_service.default_quiet_hours()[0].hour == 20
        assert dating.latest_plan_date(dt.date(2026, 3, 1)) == dt.date(2028, 3, 1)
    finally:
        content.activate(real)
    assert rules.load().quiet_start.hour == 21


def _as_json(value: Any) -> Any:
    """YAML data as an editor's schema checker sees it (dates and times are strings)."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value


def test_the_json_schemas_accept_the_real_files_and_refuse_a_broken_one(tmp_path: Path):
    content.write_schemas(tmp_path)
    for kind in content.FILE_KINDS:
        schema = json.loads((tmp_path / f"{kind.name}.schema.json").read_text(encoding="utf-8"))
        validator = jsonschema_rs.validator_for(schema)
        paths = sorted(
            p for p in CONTENT.glob(kind.path) if not (kind.many and p.name.startswith("_"))
        )
        assert paths, kind.path
        for path in paths:
            data = _as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
            assert [e.message for e in validator.iter_errors(data)] == [], path
    schema = json.loads((tmp_path / "reminders.schema.json").read_text(encoding="utf-8"))
    data = _as_json(yaml.safe_load((CONTENT / "reminders.yaml").read_text(encoding="utf-8")))
    data["delivery"]["max_attempts"] = "six"
    data["steps"]["defaults"]["escalation"]["from"] = "birth"
    assert len(list(jsonschema_rs.validator_for(schema).iter_errors(data))) == 2


def test_a_benefits_file_is_one_of_many_and_named_by_rule_and_field(copy: Path):
    loaded = load_all(copy)
    assert {Path(p).name for p in loaded.models["benefits"]} >= {"national_2012.yaml"}
    _replace(copy / "benefits" / "national_2012.yaml", "    holder: mother\n", "    holder: aunt\n")
    with pytest.raises(ContentFileError) as info:
        load_all(copy)
    line = next(p for p in info.value.lines if "national_2012.yaml" in p)
    assert line.endswith(
        "national_2012.yaml: rule NAT-MAT-BASE: field holder: must be one of mother, father, "
        "each_parent, not 'aunt'"
    )


def test_the_benefits_schema_refuses_an_unknown_rule_kind(tmp_path: Path):
    content.write_schemas(tmp_path)
    schema = json.loads((tmp_path / "benefits.schema.json").read_text(encoding="utf-8"))
    path = CONTENT / "benefits" / "national_2012.yaml"
    data = _as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
    data["rules"][0]["kind"] = "sabbatical"
    assert list(jsonschema_rs.validator_for(schema).iter_errors(data))


def test_a_protocol_header_is_checked_at_start_up_naming_the_file_and_the_field(copy: Path):
    _replace(copy / "protocols" / "child_health.yaml", 'version: "2017.3"', "version: 2017.3")
    with pytest.raises(ContentFileError) as info:
        load_all(copy)
    line = next(p for p in info.value.lines if "child_health.yaml" in p)
    assert line.endswith(
        'child_health.yaml: field version: must be text in quotes, such as "2021.1"'
    )


def test_the_protocols_schema_checks_each_item_and_its_when_tree(tmp_path: Path):
    content.write_schemas(tmp_path)
    schema = json.loads((tmp_path / "protocols.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema_rs.validator_for(schema)
    path = CONTENT / "protocols" / "eye_care.yaml"
    data = _as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert not list(validator.iter_errors(data))
    item = next(i for i in data["items"] if "when" in i)
    item["when"] = {"any_of": [{"weather": "rain"}]}  # an unknown condition word, nested
    assert list(validator.iter_errors(data))
    item["when"] = {"any_of": [{"sex": "female"}]}
    item["window"] = {"opens": "6m"}  # closes is required
    assert list(validator.iter_errors(data))


def test_the_lesson_front_matter_schema_accepts_the_real_lessons(tmp_path: Path):
    content.write_schemas(tmp_path)
    schema = json.loads((tmp_path / "lessons.front_matter.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema_rs.validator_for(schema)
    paths = sorted(CONTENT.glob("lessons/*/*/*.md"))
    assert paths
    for path in paths:
        front = path.read_text(encoding="utf-8").split("---\n")[1]
        data = _as_json(yaml.safe_load(front))
        assert [e.message for e in validator.iter_errors(data)] == [], path
    data["audience"] = ["cat"]
    assert list(validator.iter_errors(data))
