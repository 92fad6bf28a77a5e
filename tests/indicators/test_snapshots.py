"""Snapshots of closed periods read exactly what a recount from the source rows reads: every
indicator, every breakdown, a period made of month snapshots and a live rest; the nightly job
takes only periods that have settled; a read of the whole set is a bounded number of
statements."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend.indicators import engine, jobs, reads, snapshots
from backend.indicators.definitions import definitions
from backend.indicators.models import IndicatorCell, IndicatorSnapshot
from tests.indicators.conftest import LUCHENG, OUHAI

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOON.date()
SEP, OCT = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
BREAKDOWNS = [("district",), ("institution",), ("month",), ("district", "month"), ()]


@pytest.fixture(autouse=True)
def _noon(frozen_clock):
    frozen_clock(NOON)


@pytest.fixture
def steps(births):
    """Besides the births: anomaly scans (two done, one not) and an OGTT, in both districts."""
    for district, done in ((LUCHENG, True), (LUCHENG, False), (OUHAI, True)):
        woman = births.woman(district)
        preg, _ = births.delivery(woman, dt.date(2026, 10, 15))
        births.step(woman, "pregnancy", preg.id, "anomaly_scan", dt.date(2026, 6, 1),
                    done_on=dt.date(2026, 5, 20) if done else None)  # fmt: skip
        births.step(woman, "pregnancy", preg.id, "ogtt", dt.date(2026, 10, 3),
                    done_on=dt.date(2026, 9, 25) if done else None)  # fmt: skip
    return births


def _all(db, since, until, by):
    return engine.compute_many(
        db,
        definitions=list(definitions().values()),
        since=since,
        until=until,
        by=by,
        districts=None,
        today=TODAY,
        offset_minutes=480,
        min_cell=0,
    )


def _without_as_of(tables):
    return {code: {k: v for k, v in t.items() if k != "as_of"} for code, t in tables.items()}


def _snapshot_months(db, *months):
    for definition in definitions().values():
        for first in months:
            engine.snapshot(
                db,
                definition,
                since=first,
                until=snapshots.month_end(first),
                today=TODAY,
                offset_minutes=480,
            )


def test_snapshots_read_what_a_recount_reads_for_every_indicator_and_breakdown(db, steps):
    periods = [(OCT, snapshots.month_end(OCT)), (SEP, snapshots.month_end(OCT)), (SEP, TODAY)]
    recount = {
        (p, by): _all(db, *p, by) for p in periods for by in (*BREAKDOWNS, ("district", "category"))
        if "category" not in by
    }  # fmt: skip
    defect_categories = engine.compute(
        db, definition=definitions()["birth_defect_incidence"], since=OCT,
        until=snapshots.month_end(OCT), by=("district", "category"), districts=None,
        today=TODAY, offset_minutes=480, min_cell=0,
    )  # fmt: skip
    assert all(t["as_of"] is None for t in recount[(periods[0], ("district",))].values())
    # The population is not empty: the comparison below compares something.
    october = recount[(periods[0], ("district",))]
    assert october["birth_defect_incidence"]["total"]["denominator"] == 20
    assert october["anomaly_scan_coverage"]["total"]["numerator"] == 2
    assert october["education_service_rate"]["total"]["denominator"] > 20

    _snapshot_months(db, SEP, OCT)
    for (period, by), expected in recount.items():
        read = _all(db, *period, by)
        assert _without_as_of(read) == _without_as_of(expected), (period, by)
    read = _all(db, *periods[0], ("district",))
    # October is a month: every indicator read it from its snapshot.
    assert all(t["as_of"] is not None for t in read.values())
    # September–today: the month indicators from two snapshots and a live November; the
    # education rate (a woman once per period) counted live.
    read = _all(db, *periods[2], ("district",))
    assert read["education_service_rate"]["as_of"] is None
    assert read["birth_defect_incidence"]["as_of"] is not None
    categories = engine.compute(
        db, definition=definitions()["birth_defect_incidence"], since=OCT,
        until=snapshots.month_end(OCT), by=("district", "category"), districts=None,
        today=TODAY, offset_minutes=480, min_cell=0,
    )  # fmt: skip
    assert categories["as_of"] is not None
    assert {k: v for k, v in categories.items() if k != "as_of"} == {
        k: v for k, v in defect_categories.items() if k != "as_of"
    }


def test_a_snapshot_is_taken_again_not_twice_and_holds_counts_only(db, steps):
    definition = definitions()["anomaly_scan_coverage"]
    for _ in range(2):
        engine.snapshot(
            db, definition, since=OCT, until=snapshots.month_end(OCT), today=TODAY,
            offset_minutes=480,
        )  # fmt: skip
    assert db.execute(select(func.count()).select_from(IndicatorSnapshot)).scalar_one() == 1
    cells = db.execute(select(IndicatorCell)).scalars().all()
    assert {(c.district_code, c.month, c.numerator, c.denominator) for c in cells} == {
        (LUCHENG, "2026-10", 1, 11),  # 11 deliveries in October, one scan done
        (OUHAI, "2026-10", 1, 7),
    }


def test_the_job_takes_settled_periods_only(db, steps):
    # Today 2026-11-20 and 45 days to settle (content/indicators/_policy.yaml): September is
    # closed, October (ended 2026-10-31) is not yet.
    taken = jobs.take_closed(db, since=SEP, until=snapshots.month_end(OCT), today=TODAY,
                             offset_minutes=480)  # fmt: skip
    assert taken == len(definitions())
    periods = set(db.execute(select(IndicatorSnapshot.period_start)).scalars())
    assert periods == {SEP}
    assert jobs.trailing(TODAY) == (dt.date(2025, 10, 1), dt.date(2026, 10, 31))
    # A closed calendar year: each month, and the year for the education rate.
    periods = snapshots.closed_periods(
        definitions()["education_service_rate"], since=dt.date(2025, 1, 1),
        until=dt.date(2025, 12, 31), closed_by=TODAY,
    )  # fmt: skip
    assert len(periods) == 13 and (dt.date(2025, 1, 1), dt.date(2025, 12, 31)) in periods


def test_the_whole_set_from_snapshots_is_one_statement_once_this_process_has_read_it(
    db, steps, count_queries, monkeypatch
):
    monkeypatch.setattr(reads, "_guesses", {})  # this process has read nothing yet
    _snapshot_months(db, OCT)
    with count_queries() as first:
        _all(db, OCT, snapshots.month_end(OCT), ("district",))
    with count_queries() as again:
        _all(db, OCT, snapshots.month_end(OCT), ("district",))
    # The snapshots held, then their cells; read again, both in one statement. No live count.
    assert len(first) == 2, first
    assert len(again) == 1, again
    assert not any("jit" in s.lower() or "indicator_rows" in s for s in [*first, *again])


def test_a_read_after_the_snapshots_changed_counts_right_in_one_more_statement(
    db, steps, count_queries, monkeypatch
):
    monkeypatch.setattr(reads, "_guesses", {})
    period = (SEP, snapshots.month_end(OCT))
    recount = _all(db, *period, ("district",))
    _snapshot_months(db, SEP, OCT)
    snapshots.purge(db, ["anomaly_scan_coverage"])
    before = _all(db, *period, ("district",))  # this process guesses: the scans counted live
    assert before["anomaly_scan_coverage"]["as_of"] is None
    # Another process (or the nightly job) snapshots them: the guess is now wrong.
    _snapshot_months(db, SEP, OCT)
    with count_queries() as statements:
        after = _all(db, *period, ("district",))
    assert _without_as_of(after) == _without_as_of(recount)
    assert after["anomaly_scan_coverage"]["as_of"] is not None
    assert after["anomaly_scan_coverage"]["total"]["numerator"] == 2
    # The guess's statement, then the cells of the snapshots really held (and the education
    # rate counted live: a woman once per period, no snapshot of these two months together).
    reads_of_snapshots = [s for s in statements if "FROM indicator_" in s]
    assert len(reads_of_snapshots) == 2, reads_of_snapshots


def test_the_cli_backfills_the_closed_months(app, db, steps):
    # `flask --app backend indicators snapshot --from 2026-09 --to 2026-10` on 2026-11-20:
    # September has settled (45 days), October not yet.
    result = app.test_cli_runner().invoke(
        args=["indicators", "snapshot", "--from", "2026-09", "--to", "2026-10"]
    )
    assert result.exit_code == 0, result.output
    assert f"took {len(definitions())} snapshots" in result.output
    assert set(db.execute(select(IndicatorSnapshot.period_start)).scalars()) == {SEP}
    bad = app.test_cli_runner().invoke(args=["indicators", "snapshot", "--from", "9", "--to", "x"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
