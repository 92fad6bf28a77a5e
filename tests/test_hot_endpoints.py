"""The endpoints a phone polls: conditional GET (ETag → 304), gzip for large bodies, a compact
schedule list, and a number of queries that does not grow with her history."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid

import pytest
from sqlalchemy import event

from backend.db import engine_of
from backend.reminders.models import Notification

TODAY = dt.date.today()


def _with_pregnancy(api) -> None:
    r = api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(days=70)).isoformat()})
    assert r.status_code == 201, r.json


def _notify(db, user_id: str, n: int) -> None:
    db.add_all(
        Notification(
            user_id=uuid.UUID(user_id), kind="lesson_new", title=f"t{i}", body="b", locale="zh_CN"
        )
        for i in range(n)
    )
    db.commit()


@pytest.mark.parametrize("path", ["me/schedule", "me/feed", "me/notifications"])
def test_a_second_poll_with_the_etag_gets_304_and_no_body(make_citizen, db, path):
    api, user_id, _ = make_citizen()
    _with_pregnancy(api)
    _notify(db, user_id, 2)
    first = api.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "private" in first.headers["Cache-Control"]
    again = api.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert api.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_etag_changes_when_her_inbox_does(make_citizen, db):
    api, user_id, _ = make_citizen()
    _notify(db, user_id, 1)
    etag = api.get("me/notifications").headers["ETag"]
    item = api.get("me/notifications").json["items"][0]
    api.post(f"me/notifications/{item['id']}/read")
    r = api.get("me/notifications", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.json["unread_count"] == 0
    assert r.headers["ETag"] != etag


def test_a_large_schedule_goes_gzip_compressed_when_accepted(make_citizen):
    api, _, _ = make_citizen()
    _with_pregnancy(api)
    plain = api.get("me/schedule?page_size=200")
    zipped = api.get("me/schedule?page_size=200", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.data) < len(plain.data) / 3
    assert json.loads(gzip.decompress(zipped.data)) == plain.json
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_the_schedule_list_is_compact_and_the_step_has_the_detail(make_citizen):
    api, _, _ = make_citizen()
    _with_pregnancy(api)
    compact = api.get("me/schedule?page_size=200").json["items"]
    full = api.get("me/schedule?page_size=200&view=full").json["items"]
    assert [s["id"] for s in compact] == [s["id"] for s in full]
    step = compact[0]
    assert {"id", "code", "subject", "opens_on", "due_on", "closes_on", "status", "title"} <= set(
        step
    )
    assert not {"why", "source", "reason"} & set(step)
    assert full[0]["why"] and full[0]["source"]["ids"]
    detail = api.get(f"care-steps/{step['id']}").json
    assert detail["why"] == full[0]["why"] and detail["source"] == full[0]["source"]
    r = api.get("me/schedule?view=everything")
    assert r.status_code == 422 and "view" in r.json["errors"]


def test_inbox_and_schedule_queries_do_not_grow_with_her_history(make_citizen, db, count_queries):
    counts = {}
    for n in (1, 150):
        api, user_id, _ = make_citizen()
        _with_pregnancy(api)
        for i in range(n // 50):  # children bring their own steps
            r = api.post(
                "me/children",
                {"sex": "female", "birth_date": (TODAY - dt.timedelta(days=30 + i)).isoformat()},
            )
            assert r.status_code == 201, r.json
        _notify(db, user_id, n)
        with count_queries() as inbox:
            assert api.get("me/notifications?page_size=100").status_code == 200
        with count_queries() as schedule:
            assert api.get("me/schedule?page_size=200").status_code == 200
        with count_queries() as full:
            assert api.get("me/schedule?page_size=200&view=full").status_code == 200
        counts[n] = (len(inbox), len(schedule), len(full))
    assert counts[1] == counts[150], counts


@pytest.mark.parametrize("view", ["compact", "full"])
def test_the_schedule_written_directly_is_what_its_documented_schema_dumps(make_citizen, app, view):
    from backend.care import service
    from backend.care.schemas import StepPageSchema

    api, user_id, _ = make_citizen()
    _with_pregnancy(api)
    body = api.get(f"me/schedule?page_size=200&view={view}").json
    assert body["items"]
    with app.app_context():
        from backend.auth.models import User
        from backend.db import Session

        steps, _ = service.schedule(
            Session(),
            person=Session().get(User, uuid.UUID(user_id)),
            today=TODAY,
            page=1,
            page_size=200,
        )
        views = [
            service.step_view(
                s,
                protocols=app.extensions["care.protocols"],
                locale="zh_CN",
                today=TODAY,
                compact=view == "compact",
            )
            for s in steps
        ]
    dumped = StepPageSchema().dump(
        {"items": views, "page": 1, "page_size": 200, "total": len(views)}
    )
    assert dumped["items"] == body["items"]


def test_the_schedule_page_and_its_total_come_in_one_query(make_citizen, count_queries):
    api, _, _ = make_citizen()
    _with_pregnancy(api)
    everything = api.get("me/schedule?page_size=200").json
    total = everything["total"]
    assert total > 3
    with count_queries() as page:
        second = api.get("me/schedule?page=2&page_size=2").json
    assert second["total"] == total
    assert [s["id"] for s in second["items"]] == [s["id"] for s in everything["items"][2:4]]
    # The token with its user, then the page with its window count.
    assert len(page) == 2, page
    past = api.get(f"me/schedule?page={total}&page_size=2").json
    assert past["items"] == [] and past["total"] == total


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def test_the_schedule_reads_only_her_steps_not_the_citys(make_citizen, app, db, database_kind):
    """Each of her subjects is an index probe: PostgreSQL reads her steps and no other
    family's (an OR over the three kinds of subject scanned every pregnancy's and child's step
    of the city and filtered them: 25,000 rows for 83 in the demo city)."""
    if database_kind != "postgresql":
        pytest.skip("a PostgreSQL plan")
    for _ in range(3):  # other families, each with a pregnancy and a child
        other, _, _ = make_citizen()
        _with_pregnancy(other)
        other.post("me/children", {"sex": "male", "birth_date": TODAY.isoformat()})
    api, _, _ = make_citizen()
    _with_pregnancy(api)
    r = api.post("me/children", {"sex": "female", "birth_date": TODAY.isoformat()})
    assert r.status_code == 201, r.json
    sent: list = []

    def capture(conn, cursor, statement, params, context, executemany):
        if "care_steps" in statement:
            sent.append((statement, params))

    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        body = api.get("me/schedule?page_size=200").json
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    ((statement, params),) = sent
    connection = db.connection()
    # A table of a few families is read whole whichever way; a city's is not: plan as for one.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = connection.exec_driver_sql(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params
    ).scalar_one()[0]["Plan"]
    scans = [n for n in _plan_nodes(plan) if n.get("Relation Name") == "care_steps"]
    assert scans
    for node in scans:
        assert node["Node Type"] in ("Index Scan", "Bitmap Heap Scan"), node
        assert "subject_id" in node.get("Index Cond", node.get("Recheck Cond", "")), node
        assert node.get("Rows Removed by Filter", 0) == 0, node
    # EXPLAIN gives a node's rows as the average per loop, rounded: her 87 steps over 4
    # subjects show as 22 × 4. Read to within that rounding is read exactly.
    read = sum(n["Actual Rows"] * n["Actual Loops"] for n in scans)
    loops = sum(n["Actual Loops"] for n in scans)
    assert body["total"] == len(body["items"])
    assert abs(read - body["total"]) <= loops / 2
    total_steps = connection.exec_driver_sql("SELECT count(*) FROM care_steps").scalar_one()
    assert total_steps > 3 * read


def test_the_inbox_written_directly_is_what_its_documented_schema_dumps(make_citizen, app, db):
    from backend.reminders.models import Notification as Row
    from backend.reminders.schemas import NotificationPageSchema

    api, user_id, _ = make_citizen()
    _notify(db, user_id, 3)
    db.add(
        Row(
            user_id=uuid.UUID(user_id),
            kind="step_due",
            title="产检",
            body="b",
            locale="zh_CN",
            data={"step": "prenatal-1", "n": 2},
            read_at=dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC),
        )
    )
    db.commit()
    body = api.get("me/notifications?page_size=10").json
    with app.app_context():
        from backend.db import Session

        rows = (
            Session()
            .query(Row)
            .filter(Row.user_id == uuid.UUID(user_id))
            .order_by(Row.created_at.desc(), Row.id)
            .all()
        )
        dumped = NotificationPageSchema().dump(
            {"items": rows, "page": 1, "page_size": 10, "total": 4, "unread_count": 3}
        )
    assert body == json.loads(json.dumps(dumped))


def test_the_inbox_page_and_both_counts_come_in_one_query(make_citizen, db, count_queries):
    api, user_id, _ = make_citizen()
    _notify(db, user_id, 5)
    first = api.get("me/notifications?page_size=2").json
    assert first["items"]
    api.post(f"me/notifications/{first['items'][0]['id']}/read")
    with count_queries() as poll:
        second = api.get("me/notifications?page=2&page_size=2").json
    # The token with its user, then the page with its two window counts.
    assert len(poll) == 2, poll
    assert (second["total"], second["unread_count"], len(second["items"])) == (5, 4, 2)
    unread = api.get("me/notifications?unread_only=true&page_size=10").json
    assert (unread["total"], unread["unread_count"], len(unread["items"])) == (4, 4, 4)
    past = api.get("me/notifications?page=9&page_size=2").json
    assert (past["items"], past["total"], past["unread_count"]) == ([], 5, 4)
