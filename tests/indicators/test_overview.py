"""The overview: every indicator's total and district cells in one request, the same figures
and suppression as each indicator's own table, the bureau's scope, one audited read, and a
number of statements that does not grow with the city (fewer once the month is snapshotted)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend.auth.models import AuditEvent, Role
from backend.indicators import engine, snapshots
from backend.indicators.definitions import definitions
from tests.indicators.conftest import LUCHENG, OUHAI

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
URL = "indicators/overview?from=2026-10-01&to=2026-10-31"


@pytest.fixture(autouse=True)
def _noon(frozen_clock):
    frozen_clock(NOON)


def _audited(db) -> int:
    return db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.record_type == "Indicator")
    )


def test_the_overview_is_each_indicators_table_in_one_request(db, births, bureau, make_staff):
    admin, office = bureau
    body = admin.get(URL).json
    assert [i["code"] for i in body["indicators"]] == list(definitions())
    assert len(body["districts"]) == 12
    for item in body["indicators"]:
        alone = admin.get(f"indicators/{item['code']}?from=2026-10-01&to=2026-10-31").json
        assert (item["total"], item["rows"]) == (alone["total"], alone["rows"]), item["code"]
    incidence = next(i for i in body["indicators"] if i["code"] == "birth_defect_incidence")
    # 4 cases over 17 births (twins twice, the stillbirth at 28+0 in; 27+6 and the
    # termination out): the total hides the 4 cases, the Lucheng cell too.
    assert (incidence["total"]["numerator"], incidence["total"]["denominator"]) == (None, 17)
    assert incidence["target"]["value"] == 15 and incidence["as_of"] is None

    mine = office.get(URL).json
    assert mine["districts"] == [{"code": OUHAI, "name": "瓯海区"}]
    incidence = next(i for i in mine["indicators"] if i["code"] == "birth_defect_incidence")
    assert [(c["district_code"], c["denominator"]) for c in incidence["rows"]] == [(OUHAI, 6)]
    assert office.get(URL + f"&district={LUCHENG}").status_code == 404
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get(URL).status_code == 403
    bad = admin.get("indicators/overview?from=2026-10-31&to=2026-10-01")
    assert bad.status_code == 422 and "to" in bad.json["errors"]
    # The admin's 22 single reads above, and one per overview read.
    assert _audited(db) == len(definitions()) + 2


def test_the_overview_costs_the_same_statements_whatever_the_city(
    db, births, bureau, count_queries
):
    admin, _ = bureau
    counts = []
    for more in (0, 10):
        for _ in range(more):
            births.delivery(births.woman(OUHAI), dt.date(2026, 10, 2))
        with count_queries() as statements:
            assert admin.get(URL).status_code == 200
        counts.append(len(statements))
        # One live statement per indicator (nothing is snapshotted yet).
        assert sum("indicator_rows" in s for s in statements) == len(definitions())
    assert counts[0] == counts[1]
    before = admin.get(URL).json
    for definition in definitions().values():
        engine.snapshot(
            db, definition, since=dt.date(2026, 10, 1), until=snapshots.month_end(
                dt.date(2026, 10, 1)), today=NOON.date(), offset_minutes=480,
        )  # fmt: skip
    with count_queries() as statements:
        after = admin.get(URL).json
    assert not any("indicator_rows" in s for s in statements)
    assert len(statements) < counts[0] - len(definitions()) + 3
    for old, new in zip(before["indicators"], after["indicators"], strict=True):
        assert (old["total"], old["rows"]) == (new["total"], new["rows"]), old["code"]
        assert new["as_of"] is not None
