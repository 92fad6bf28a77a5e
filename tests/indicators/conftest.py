"""A small city built row by row, so that every indicator can be counted by hand."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.auth.models import Institution, Registration, Role, User
from backend.care.models import CareStep
from backend.handbook.models import Child, Guardian, Pregnancy
from backend.surveillance.content import categories
from backend.surveillance.models import BirthDefect
from tests.conftest import Api

LUCHENG, OUHAI = "330302", "330304"


def _utc(day: dt.date) -> dt.datetime:
    # 02:00 UTC is 10:00 in Shanghai: the same local date.
    return dt.datetime.combine(day, dt.time(2), dt.UTC)


class City:
    """Helpers that add rows to the test's session (flushed, rolled back after the test)."""

    def __init__(self, db):
        self.db = db
        self.institutions: dict[str, Institution] = {}

    def institution(self, district: str, name: str | None = None) -> Institution:
        name = name or f"中心 {district}"
        if name not in self.institutions:
            inst = Institution(name=name, kind="community_health_centre", district_code=district)
            self.db.add(inst)
            self.db.flush()
            self.institutions[name] = inst
        return self.institutions[name]

    def woman(
        self,
        district: str,
        registered: dt.date = dt.date(2025, 1, 1),
        left: dt.date | None = None,
        birth_date: dt.date = dt.date(1995, 5, 1),
    ) -> User:
        user = User(role="citizen", name="测试", sex="female", birth_date=birth_date)
        self.db.add(user)
        self.db.flush()
        self.register(user, district, registered, left)
        return user

    def register(self, user: User, district: str, on: dt.date, left: dt.date | None = None):
        inst = self.institution(district)
        self.db.add(
            Registration(
                user_id=user.id,
                institution_id=inst.id,
                registered_at=_utc(on),
                left_at=_utc(left) if left else None,
            )
        )
        self.db.flush()

    def delivery(self, woman: User, born: dt.date, babies: int = 1, ga_days: int = 273):
        preg = Pregnancy(
            woman_id=woman.id,
            lmp=born - dt.timedelta(ga_days),
            edd=born - dt.timedelta(ga_days) + dt.timedelta(280),
            edd_source="lmp",
            status="delivered",
            ended_on=born,
            ga_at_end_days=ga_days,
            born_at=_utc(born),
            delivery_mode="vaginal",
        )
        self.db.add(preg)
        self.db.flush()
        children = []
        for order in range(1, babies + 1):
            child = Child(
                pregnancy_id=preg.id,
                sex="female",
                birth_date=born,
                birth_order=order,
                ga_at_birth_days=ga_days,
            )
            self.db.add(child)
            self.db.flush()
            self.db.add(Guardian(child_id=child.id, user_id=woman.id, relation="mother"))
            children.append(child)
        self.db.flush()
        return preg, children

    def loss(self, woman: User, ended: dt.date, kind: str, ga_days: int) -> Pregnancy:
        preg = Pregnancy(
            woman_id=woman.id,
            lmp=ended - dt.timedelta(ga_days),
            edd=ended - dt.timedelta(ga_days) + dt.timedelta(280),
            edd_source="lmp",
            status="ended",
            end_kind=kind,
            ended_on=ended,
            ga_at_end_days=ga_days,
        )
        self.db.add(preg)
        self.db.flush()
        return preg

    def defect(
        self,
        woman: User,
        icd10: str,
        outcome: str,
        on: dt.date,
        *,
        child=None,
        pregnancy=None,
        ga_days: int | None = None,
    ) -> None:
        self.db.add(
            BirthDefect(
                woman_id=woman.id,
                child_id=child.id if child else None,
                pregnancy_id=pregnancy.id if pregnancy else (child.pregnancy_id if child else None),
                icd10=icd10,
                category=categories().classify(icd10),
                timing="at_birth",
                diagnosed_on=on,
                ga_days=ga_days,
                outcome=outcome,
                outcome_on=on,
            )
        )
        self.db.flush()

    def step(
        self,
        person: User,
        kind: str,
        subject_id: uuid.UUID,
        code: str,
        closes: dt.date,
        done_on: dt.date | None = None,
        programme: str = "test",
        state: str | None = None,
    ):
        self.db.add(
            CareStep(
                subject_kind=kind,
                subject_id=subject_id,
                person_id=person.id,
                code=code,
                programme=programme,
                version="t",
                opens_on=closes - dt.timedelta(30),
                due_on=closes,
                closes_on=closes,
                state=state or ("done" if done_on else "pending"),
                done_on=done_on,
                reason={},
            )
        )
        self.db.flush()


@pytest.fixture
def city(db):
    return City(db)


@pytest.fixture
def births(city):
    """October 2026. Lucheng: twins (one with two defects), a stillbirth at 28+0 with a defect,
    a stillbirth at 27+6 with a defect, a termination at 24+0 for a defect, 8 singletons.
    Ouhai: a woman who moved from Lucheng in September (her baby has a defect), 5 singletons.
    Outside the period: a September and a November birth."""
    day = dt.date(2026, 10, 5)
    w1 = city.woman(LUCHENG)
    _, (twin1, _twin2) = city.delivery(w1, day, babies=2)
    city.defect(w1, "Q21.0", "live_birth", day, child=twin1)
    city.defect(w1, "Q69.9", "live_birth", day, child=twin1)
    w2 = city.woman(LUCHENG)
    still = city.loss(w2, dt.date(2026, 10, 10), "stillbirth", 196)
    city.defect(w2, "Q00.0", "stillbirth", dt.date(2026, 10, 10), pregnancy=still, ga_days=196)
    w3 = city.woman(LUCHENG)
    early = city.loss(w3, dt.date(2026, 10, 11), "stillbirth", 195)
    city.defect(w3, "Q05.9", "stillbirth", dt.date(2026, 10, 11), pregnancy=early, ga_days=195)
    w4 = city.woman(LUCHENG)
    ended = city.loss(w4, dt.date(2026, 10, 12), "termination", 168)
    city.defect(w4, "Q90.9", "termination", dt.date(2026, 10, 12), pregnancy=ended, ga_days=168)
    for i in range(8):
        city.delivery(city.woman(LUCHENG), dt.date(2026, 10, 1) + dt.timedelta(i))
    mover = city.woman(LUCHENG, left=dt.date(2026, 9, 1))
    city.register(mover, OUHAI, dt.date(2026, 9, 1))
    _, (baby,) = city.delivery(mover, dt.date(2026, 10, 20))
    city.defect(mover, "Q35.9", "live_birth", dt.date(2026, 10, 20), child=baby)
    for i in range(5):
        city.delivery(city.woman(OUHAI), dt.date(2026, 10, 21) + dt.timedelta(i))
    city.delivery(city.woman(LUCHENG), dt.date(2026, 9, 30))
    city.delivery(city.woman(OUHAI), dt.date(2026, 11, 1))
    return city


@pytest.fixture
def bureau(client, make_staff, db):
    """An admin creates a health-bureau account for Ouhai; returns (admin, bureau) clients."""
    admin, _ = make_staff(Role.ADMIN)
    body = {"phone": "13912000013", "password": "Str0ng-passw0rd!", "name": "瓯海区卫健局"}
    r = admin.post("staff", {**body, "role": "bureau"})
    assert r.status_code == 422 and "district_codes" in r.json["errors"]
    r = admin.post("staff", {**body, "role": "bureau", "district_codes": [OUHAI]})
    assert r.status_code == 201, r.json
    assert r.json["district_codes"] == [OUHAI] and r.json["institution_id"] is None
    api = Api(client)
    api.token = api.post("auth/token", {"phone": body["phone"], "password": body["password"]}).json[
        "access_token"
    ]
    return admin, api
