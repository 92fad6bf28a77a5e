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
    assert "reminders.yaml: field extra: Extra inputs are not permitted" in text


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
    assert written == sorted(f"{kind.name}.schema.json" for kind in content.FILE_KINDS)
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
        if kind.many:  # a directory: file name → content
            files = sorted(p for p in CONTENT.glob(kind.path) if not p.name.startswith("_"))
            data = {p.name: _as_json(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in files}
        else:
            data = _as_json(yaml.safe_load((CONTENT / kind.path).read_text(encoding="utf-8")))
        assert [e.message for e in validator.iter_errors(data)] == [], kind.name
    schema = json.loads((tmp_path / "reminders.schema.json").read_text(encoding="utf-8"))
    data = _as_json(yaml.safe_load((CONTENT / "reminders.yaml").read_text(encoding="utf-8")))
    data["delivery"]["max_attempts"] = "six"
    data["steps"]["defaults"]["escalation"]["from"] = "birth"
    assert len(list(jsonschema_rs.validator_for(schema).iter_errors(data))) == 2
