"""A POST retried with the same Idempotency-Key creates one record and answers the same."""


def test_retry_replays_the_first_answer(citizen):
    headers = {"Idempotency-Key": "consent-1"}
    body = {"purpose": "education", "granted": True}
    first = citizen.post("me/consents", body, headers=headers)
    again = citizen.post("me/consents", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(citizen.get("me/consents").json["history"]) == 1


def test_key_reused_for_another_request_is_refused(citizen):
    headers = {"Idempotency-Key": "k-2"}
    citizen.post("me/consents", {"purpose": "education", "granted": True}, headers=headers)
    r = citizen.post("me/consents", {"purpose": "reminders", "granted": True}, headers=headers)
    assert r.status_code == 422 and "Idempotency-Key" in r.json["errors"]


def test_keys_are_per_user(make_citizen):
    a, b = make_citizen()[0], make_citizen()[0]
    headers = {"Idempotency-Key": "same"}
    body = {"purpose": "education", "granted": True}
    assert a.post("me/consents", body, headers=headers).status_code == 201
    r = b.post("me/consents", body, headers=headers)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
