from tests.conftest import PASSWORD, Api, new_phone


def _partner(client, phone):
    api = Api(client)
    assert api.post("auth/register", {"phone": phone, "password": PASSWORD}).status_code == 201
    api.token = api.post("auth/token", {"phone": phone, "password": PASSWORD}).json["access_token"]
    return api


def test_invitation_accept_and_revoke(client, citizen):
    phone = new_phone()
    inv = citizen.post("me/partners", {"phone": phone, "scopes": ["pregnancies"]})
    assert inv.status_code == 201 and inv.json["status"] == "pending"
    partner = _partner(client, phone)
    assert [g["id"] for g in partner.get("me/partners").json] == [inv.json["id"]]
    r = partner.post(f"partner-invitations/{inv.json['id']}/accept")
    assert r.status_code == 200 and r.json["status"] == "active"
    r = citizen.delete(f"me/partners/{inv.json['id']}")
    assert r.status_code == 200 and r.json["status"] == "revoked"


def test_only_the_invited_phone_can_accept(client, citizen):
    inv = citizen.post("me/partners", {"phone": new_phone()}).json
    stranger = _partner(client, new_phone())
    assert stranger.post(f"partner-invitations/{inv['id']}/accept").status_code == 404


def test_invitation_rejects_unknown_scope_and_self(citizen, make_citizen):
    api, _, phone = make_citizen()
    r = api.post("me/partners", {"phone": new_phone(), "scopes": ["everything"]})
    assert r.status_code == 422 and "scopes" in r.json["errors"]
    r = api.post("me/partners", {"phone": phone})
    assert r.status_code == 422 and "phone" in r.json["errors"]


def test_consent_grant_and_withdraw_keeps_history(citizen):
    assert (
        citizen.post(
            "me/consents", {"purpose": "reminders", "channel": "sms", "granted": True}
        ).status_code
        == 201
    )
    assert (
        citizen.post(
            "me/consents", {"purpose": "reminders", "channel": "sms", "granted": False}
        ).status_code
        == 201
    )
    assert citizen.post("me/consents", {"purpose": "education", "granted": True}).status_code == 201
    state = citizen.get("me/consents").json
    assert len(state["history"]) == 3
    in_force = {(c["purpose"], c["channel"]): c["granted"] for c in state["in_force"]}
    assert in_force == {("reminders", "sms"): False, ("education", None): True}
    assert all(c["text_version"] == state["text_version"] for c in state["history"])


def test_consent_needs_a_known_purpose(citizen):
    r = citizen.post("me/consents", {"purpose": "marketing", "granted": True})
    assert r.status_code == 422 and "purpose" in r.json["errors"]
