"""One plan: the folic-acid plan date also plans the pre-pregnancy check."""

import datetime as dt

import pytest

from tests.conftest import NOON

pytestmark = pytest.mark.usefixtures("at_noon")


def test_planning_a_pregnancy_plans_the_pre_pregnancy_check(citizen):
    planned = NOON.date() + dt.timedelta(days=180)
    r = citizen.put("me/regimens/folic-acid", {"planned_pregnancy_on": planned.isoformat()})
    assert r.status_code == 200, r.json
    steps = {s["code"]: s for s in citizen.get("me/schedule?page_size=100").json["items"]}
    assert "prepregnancy_check" in steps
    assert steps["prepregnancy_check"]["subject"]["kind"] == "woman"
