"""Clinical and policy numbers live in content/ with their source, never as literals in backend/.

Each pattern is a number that was once copied into the code (issue 10, point 7) and now comes
from a content file; the test fails when one comes back. Dates and format limits that are not
clinical facts (7 days a week, a page size) are not listed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1] / "backend"
FORBIDDEN = {
    # A loss at 28 weeks or later counts as a birth: content/dating/plausibility.yaml
    # (end.birth_from_ga_weeks), read by handbook.service.is_birth_for_mother.
    "birth threshold in weeks": re.compile(r"BIRTH_FROM_WEEKS|\b28\s*\*\s*7\b|days=196\b"),
    # A year ahead for a planned pregnancy: plausibility.yaml (plan.max_ahead_years).
    "a year ahead in days": re.compile(r"days=36[56]\b|maximum=36[56]\b|MAX_PLAN_AHEAD"),
    # The escalation after the due date and the effect window: content/reminders.yaml; API
    # texts quote them as {reminders:...} placeholders filled from the loaded file.
    "the 14-day escalation": re.compile(r"\b14[ -]days?\b|days=14\b"),
    # Blood pressure, BMI and cigarettes bounds: content/measurements.yaml (ContentRange).
    "plausibility bounds": re.compile(
        r"Range\(min=(0|10|30|60), max=(100|80|160|260)\)|Range\(min=10\.0"
    ),
    # The last week the folic-acid stop may be written at: dating/naegele.yaml.
    "weeks of a pregnancy": re.compile(r"maximum=4[0-4]\b"),
}


def _sources() -> list[Path]:
    return [p for p in BACKEND.rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_clinical_number_is_written_in_the_code(what: str):
    pattern = FORBIDDEN[what]
    found = [
        f"{path.relative_to(BACKEND.parent)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not found, f"{what} belongs in content/:\n" + "\n".join(found)


def test_the_patterns_would_find_the_old_literals():
    # The old lines, as they stood before issue 10: a pattern that matches nothing proves nothing.
    old = {
        "birth threshold in weeks": "BIRTH_FROM_WEEKS = 28",
        "a year ahead in days": "today <= plan <= today + dt.timedelta(days=366)",
        "the 14-day escalation": '"""Steps still undone 14 days after their due date."""',
        "plausibility bounds": "validate=validate.Range(min=60, max=260)",
        "weeks of a pregnancy": 'weeks = _read_int(ga["weeks"], "stop.at_ga.weeks", maximum=42)',
    }
    assert set(old) == set(FORBIDDEN)
    for what, line in old.items():
        assert FORBIDDEN[what].search(line), what
