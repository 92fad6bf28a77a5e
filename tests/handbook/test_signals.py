"""The handbook announces its facts with blinker signals, after flushing."""

import contextlib

from sqlalchemy import inspect

from backend.handbook import signals
from tests.handbook.conftest import days_ago

BIRTH = {
    "born_at": "2026-03-10T08:00:00+08:00",
    "ga_weeks": 39,
    "babies": [
        {"sex": "female", "weight_g": 3200, "length_cm": 50},
        {"sex": "male", "weight_g": 3000, "length_cm": 49},
    ],
}


@contextlib.contextmanager
def listening(*sigs):
    """Collect (signal name, sender, kwargs) for every send; check the record was flushed."""
    calls = []

    def receiver_for(sig):
        def receiver(sender, **kwargs):
            assert "session" in kwargs
            assert inspect(sender).persistent, "sent after the flush"
            calls.append((sig.name, sender, kwargs))

        return receiver

    with contextlib.ExitStack() as stack:
        for sig in sigs:
            stack.enter_context(sig.connected_to(receiver_for(sig)))
        yield calls


def test_creating_a_pregnancy_sends_pregnancy_created(citizen):
    with listening(signals.pregnancy_created) as calls:
        r = citizen.post("me/pregnancies", {"lmp": days_ago(60)})
    [(name, sender, kwargs)] = calls
    assert name == "pregnancy-created" and str(kwargs["pregnancy"].id) == r.json["id"]
    assert sender is kwargs["pregnancy"]


def test_an_ultrasound_that_keeps_the_edd_sends_nothing(pregnant):
    api, _, p = pregnant()
    with listening(signals.pregnancy_redated) as calls:
        kept = {"ultrasound": {"scan_date": days_ago(0), "ga_weeks": 10}}
        assert api.patch(f"pregnancies/{p['id']}", kept).status_code == 200
    assert calls == []


def test_an_ultrasound_that_moves_the_edd_sends_pregnancy_redated(pregnant):
    api, _, p = pregnant()
    with listening(signals.pregnancy_redated) as calls:
        moved = {"ultrasound": {"scan_date": days_ago(0), "ga_weeks": 8}}
        r = api.patch(f"pregnancies/{p['id']}", moved)
    [(_, _, kwargs)] = calls
    assert kwargs["revision"].decision == "replaced"
    assert kwargs["pregnancy"].edd.isoformat() == r.json["edd"] != p["edd"]


def test_a_birth_sends_birth_recorded_then_child_added_per_baby(pregnant):
    api, _, p = pregnant(lmp_days_ago=273)
    with listening(signals.birth_recorded, signals.child_added) as calls:
        r = api.post(f"pregnancies/{p['id']}/birth", BIRTH)
    assert [c[0] for c in calls] == ["birth-recorded", "child-added", "child-added"]
    assert [str(c.id) for c in calls[0][2]["children"]] == r.json["child_ids"]
    assert [str(c[2]["child"].id) for c in calls[1:]] == r.json["child_ids"]


def test_a_loss_sends_pregnancy_ended(pregnant):
    api, _, p = pregnant()
    with listening(signals.pregnancy_ended, signals.birth_recorded) as calls:
        api.post(f"pregnancies/{p['id']}/end", {"kind": "ectopic", "ended_on": days_ago(1)})
    assert [(c[0], str(c[2]["pregnancy"].id)) for c in calls] == [("pregnancy-ended", p["id"])]


def test_entering_a_child_sends_child_added(citizen):
    with listening(signals.child_added) as calls:
        r = citizen.post("me/children", {"sex": "female", "birth_date": days_ago(40)})
    assert [str(c[2]["child"].id) for c in calls] == [r.json["id"]]


def test_a_refused_request_sends_nothing(citizen):
    with listening(signals.pregnancy_created, signals.child_added) as calls:
        citizen.post("me/pregnancies", {"lmp": days_ago(-1)})
        citizen.post("me/children", {"sex": "female", "birth_date": days_ago(-1)})
    assert calls == []
