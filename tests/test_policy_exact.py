"""The authorization matrix with exact answers: every route (with or without an id) × every
role. A role the route is not for gets exactly 403 (before the body is read); a role it is
for, on another woman's record, gets exactly 404; anonymous gets 401 (test_policy_matrix).

ALLOWED is the policy written down: who may call each route. A route added or a permission
changed without updating it fails here.
"""

from __future__ import annotations

import pytest

from tests.test_policy_matrix import (  # noqa: F401 (fixtures)
    ADMIN_OPERATIONS,
    BUREAU_OPERATIONS,
    EDITORIAL_ANSWERS,
    _bodies,
    _fill,
    api_routes,
    strangers,
    victim,
)

PUBLIC = "public"
ANY = "citizen doctor educator admin bureau"
C, D, A = "citizen", "doctor", "admin"
CD = "citizen doctor"
EA = "educator admin"
AB = "admin bureau"

ALLOWED: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/audit-log"): A,
    ("POST", "/api/v1/auth/miniprogram"): PUBLIC,
    ("POST", "/api/v1/auth/register"): PUBLIC,
    ("DELETE", "/api/v1/auth/token"): ANY,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/api/v1/calendar-feeds/<secret>.ics"): PUBLIC,
    ("GET", "/api/v1/care-steps/<uuid:step_id>"): CD,
    ("POST", "/api/v1/care-steps/<uuid:step_id>/not-done"): CD,
    ("POST", "/api/v1/care-steps/<uuid:step_id>/results"): D,
    ("GET", "/api/v1/children/<uuid:child_id>"): CD,
    ("PATCH", "/api/v1/children/<uuid:child_id>"): CD,
    ("PATCH", "/api/v1/children/<uuid:child_id>/care-options"): CD,
    ("PATCH", "/api/v1/pregnancies/<uuid:pregnancy_id>/care-options"): CD,
    ("POST", "/api/v1/contraception-methods/<uuid:record_id>/stop"): CD,
    ("GET", "/api/v1/education/reach"): EA,
    ("GET", "/api/v1/indicators/education"): A,
    ("GET", "/api/v1/indicators/reminders"): A,
    ("GET", "/api/v1/institutions"): ANY,
    ("POST", "/api/v1/institutions"): A,
    ("GET", "/api/v1/lessons"): EA,
    ("POST", "/api/v1/lessons"): EA,
    ("GET", "/api/v1/lessons/<uuid:lesson_id>"): EA,
    ("PATCH", "/api/v1/lessons/<uuid:lesson_id>"): EA,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/approve"): EA,
    ("GET", "/api/v1/lessons/<uuid:lesson_id>/content"): C,
    ("GET", "/api/v1/lessons/<uuid:lesson_id>/reach"): EA,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/reads"): C,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/retire"): EA,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/return"): EA,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/submit"): EA,
    ("GET", "/api/v1/lessons/<uuid:lesson_id>/versions"): EA,
    ("DELETE", "/api/v1/me"): C,
    ("GET", "/api/v1/me"): C,
    ("PATCH", "/api/v1/me"): C,
    ("GET", "/api/v1/me/access-log"): C,
    ("GET", "/api/v1/me/benefits"): C,
    ("DELETE", "/api/v1/me/calendar-feed"): C,
    ("POST", "/api/v1/me/calendar-feed"): C,
    ("GET", "/api/v1/me/calendar.ics"): C,
    ("PUT", "/api/v1/me/care-dates"): C,
    ("GET", "/api/v1/me/children"): C,
    ("POST", "/api/v1/me/children"): C,
    ("GET", "/api/v1/me/consents"): C,
    ("POST", "/api/v1/me/consents"): C,
    ("GET", "/api/v1/me/contraception"): C,
    ("PUT", "/api/v1/me/contraception/facts"): C,
    ("GET", "/api/v1/me/export"): C,
    ("GET", "/api/v1/me/feed"): C,
    ("GET", "/api/v1/me/home"): C,
    ("GET", "/api/v1/me/measurements"): C,
    ("POST", "/api/v1/me/measurements"): C,
    ("GET", "/api/v1/me/miniprogram-subscriptions"): C,
    ("POST", "/api/v1/me/miniprogram-subscriptions"): C,
    ("GET", "/api/v1/me/notifications"): C,
    ("POST", "/api/v1/me/notifications/<uuid:notification_id>/read"): C,
    ("POST", "/api/v1/me/notifications/read-all"): C,
    ("GET", "/api/v1/me/partners"): C,
    ("POST", "/api/v1/me/partners"): C,
    ("DELETE", "/api/v1/me/partners/<uuid:grant_id>"): C,
    ("PATCH", "/api/v1/me/partners/<uuid:grant_id>"): C,
    ("GET", "/api/v1/me/pregnancies"): C,
    ("POST", "/api/v1/me/pregnancies"): C,
    ("GET", "/api/v1/me/regimens/folic-acid"): C,
    ("PUT", "/api/v1/me/regimens/folic-acid"): C,
    ("GET", "/api/v1/me/regimens/folic-acid/adherence"): C,
    ("POST", "/api/v1/me/regimens/folic-acid/check-ins"): C,
    ("GET", "/api/v1/me/registrations"): C,
    ("POST", "/api/v1/me/registrations"): C,
    ("DELETE", "/api/v1/me/registrations/<uuid:registration_id>"): C,
    ("GET", "/api/v1/me/reminder-preferences"): C,
    ("PUT", "/api/v1/me/reminder-preferences"): C,
    ("GET", "/api/v1/me/schedule"): C,
    ("POST", "/api/v1/partner-invitations/<uuid:grant_id>/accept"): C,
    ("GET", "/api/v1/patients"): D,
    ("GET", "/api/v1/patients/<uuid:patient_id>"): D,
    ("GET", "/api/v1/patients/<uuid:patient_id>/access-log"): D,
    ("GET", "/api/v1/patients/<uuid:patient_id>/contraception"): D,
    ("POST", "/api/v1/patients/<uuid:patient_id>/contraception"): D,
    ("PUT", "/api/v1/patients/<uuid:patient_id>/contraception/facts"): D,
    ("GET", "/api/v1/patients/<uuid:patient_id>/measurements"): D,
    ("PUT", "/api/v1/patients/<uuid:patient_id>/regimens/folic-acid"): D,
    ("GET", "/api/v1/patients/<uuid:patient_id>/schedule"): CD,
    ("GET", "/api/v1/pregnancies/<uuid:pregnancy_id>"): CD,
    ("PATCH", "/api/v1/pregnancies/<uuid:pregnancy_id>"): CD,
    ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/birth"): CD,
    ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/end"): CD,
    ("GET", "/api/v1/pregnancies/<uuid:pregnancy_id>/risk-assessments"): CD,
    ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/risk-assessments"): D,
    ("POST", "/api/v1/reminders/<uuid:reminder_id>/requeue"): A,
    ("GET", "/api/v1/reminders/dead-letters"): A,
    ("GET", "/api/v1/staff"): A,
    ("POST", "/api/v1/staff"): A,
    ("GET", "/api/v1/worklists/abnormal"): D,
    ("GET", "/api/v1/worklists/due"): D,
    ("GET", "/api/v1/worklists/escalated"): D,
    ("GET", "/api/v1/worklists/high-risk"): D,
    ("GET", "/api/v1/worklists/overdue"): D,
    ("GET", "/api/v1/birth-defect-categories"): ANY,
    ("GET", "/api/v1/children/<uuid:child_id>/birth-defects"): CD,
    ("POST", "/api/v1/children/<uuid:child_id>/birth-defects"): D,
    ("GET", "/api/v1/pregnancies/<uuid:pregnancy_id>/birth-defects"): CD,
    ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/birth-defects"): D,
    ("GET", "/api/v1/pregnancies/<uuid:pregnancy_id>/prenatal-diagnoses"): CD,
    ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/prenatal-diagnoses"): D,
    ("GET", "/api/v1/indicators"): AB,
    ("GET", "/api/v1/indicators/<code>"): AB,
    ("GET", "/api/v1/indicators/overview"): AB,
    ("GET", "/api/v1/reports/monthly"): AB,
    ("GET", "/api/v1/worklists/ungraded"): D,
}

ROLES = ("citizen", "doctor", "educator", "admin", "bureau")

# A lesson is shared content (EDITORIAL_ANSWERS): an educator or admin who may see another's
# draft still may not edit or submit it, and is told so.
EDITORIAL_REFUSALS = {
    ("PATCH", "/api/v1/lessons/<uuid:lesson_id>"): 403,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/submit"): 403,
}


def test_the_table_names_every_route(app):
    assert sorted(ALLOWED) == api_routes(app)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_exact_answer_on_a_foreign_record(app, victim, strangers, role):  # noqa: F811
    _owner, ids = victim
    actor = strangers[role]
    bodies = _bodies()
    wrong: list[tuple[str, str, int, int]] = []
    for method, rule in api_routes(app):
        allowed = ALLOWED[(method, rule)]
        if allowed == PUBLIC:
            continue
        if role not in allowed.split():
            expected = 403
        elif "<" not in rule:
            continue  # her own list or a create: not a refusal (covered by the domains' tests)
        elif role == "admin" and (method, rule) in ADMIN_OPERATIONS:
            continue
        elif role == "bureau" and (method, rule) in BUREAU_OPERATIONS:
            continue  # aggregates of her own district (tests/indicators covers the scope)
        elif role in ("educator", "admin") and (method, rule) in EDITORIAL_ANSWERS:
            expected = EDITORIAL_ANSWERS[(method, rule)]
        elif role in ("educator", "admin") and (method, rule) in EDITORIAL_REFUSALS:
            expected = EDITORIAL_REFUSALS[(method, rule)]
        else:
            expected = 404
        r = actor.call(method, _fill(rule, ids), json=bodies.get((method, rule)))
        if r.status_code != expected:
            wrong.append((method, rule, expected, r.status_code))
        elif expected >= 400:
            assert r.content_type == "application/problem+json", (method, rule)
    assert wrong == [], wrong


def test_a_partner_reads_what_she_shared_and_nothing_else(victim, make_citizen):  # noqa: F811
    """She shared her pregnancies, read-only: he reads them; everything else is 404."""
    owner, ids = victim
    partner, _, phone = make_citizen("伴侣")
    grant = owner.post("me/partners", {"phone": phone, "scopes": ["pregnancies"]}).json
    assert partner.post(f"partner-invitations/{grant['id']}/accept").status_code == 200
    bodies = _bodies()
    expected = {
        ("GET", "/api/v1/pregnancies/<uuid:pregnancy_id>"): 200,  # shared
        ("PATCH", "/api/v1/pregnancies/<uuid:pregnancy_id>"): 404,  # read-only
        ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/birth"): 404,
        ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/end"): 404,
        ("GET", "/api/v1/children/<uuid:child_id>"): 404,  # not shared
        ("PATCH", "/api/v1/children/<uuid:child_id>"): 404,
        ("GET", "/api/v1/care-steps/<uuid:step_id>"): 404,  # schedule not shared
        ("POST", "/api/v1/care-steps/<uuid:step_id>/not-done"): 404,
        ("POST", "/api/v1/me/notifications/<uuid:notification_id>/read"): 404,
        ("DELETE", "/api/v1/me/registrations/<uuid:registration_id>"): 404,
    }
    answers = {
        key: partner.call(key[0], _fill(key[1], ids), json=bodies.get(key)).status_code
        for key in expected
    }
    assert answers == expected
    assert owner.get(f"pregnancies/{ids['pregnancy_id']}").json["gravidity"] is None


# Reads without an id that need query arguments: the arguments a caller would send.
LIST_QUERIES = {
    "/api/v1/reports/monthly": "?district=330302&month=2026-11",
    "/api/v1/indicators/education": "?from=2026-10-01&to=2026-10-31",
    "/api/v1/indicators/reminders": "?from=2026-10-01&to=2026-10-31",
    "/api/v1/indicators/overview": "?from=2026-10-01&to=2026-10-31",
}
# Her own record that a newcomer does not have yet: exactly 404 (no folic-acid plan started).
NOT_YET = {"/api/v1/me/regimens/folic-acid", "/api/v1/me/regimens/folic-acid/adherence"}


@pytest.mark.parametrize("role", ROLES)
def test_each_allowed_role_reads_the_lists_without_an_id(app, strangers, role):  # noqa: F811
    """The other half of the table: a role a list or aggregate is for gets exactly 200 on it
    (a bureau its own district's report), so a route that refuses its own users fails here."""
    actor = strangers[role]
    wrong = []
    for method, rule in api_routes(app):
        if method != "GET" or "<" in rule or role not in ALLOWED[(method, rule)].split():
            continue
        r = actor.get(rule.removeprefix("/api/v1/") + LIST_QUERIES.get(rule, ""))
        if r.status_code != (404 if rule in NOT_YET else 200):
            wrong.append((rule, r.status_code))
    assert wrong == [], wrong
