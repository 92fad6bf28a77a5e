"""A synthetic statistical population for the demo, so that `make run` shows indicators with
numbers in them: three districts, two institutions each, a year of births with their steps,
screenings, risk grades, folic acid and a few birth defects. Nobody in it can log in.

Rows are inserted in bulk (one INSERT per table), deterministically (a fixed seed), once: the
demo institutions are the marker.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.access.models import Consent
from backend.auth.models import Institution, Registration, User
from backend.care.models import CareStep, RiskAssessment
from backend.handbook.models import Child, Guardian, Pregnancy
from backend.regimens.models import CheckIn, Regimen
from backend.surveillance.content import categories
from backend.surveillance.models import BirthDefect

INSTITUTIONS = (
    ("鹿城区五马街道社区卫生服务中心（演示统计）", "330302"),
    ("鹿城区滨江街道社区卫生服务中心（演示统计）", "330302"),
    ("龙湾区永中街道社区卫生服务中心（演示统计）", "330303"),
    ("龙湾区海滨街道社区卫生服务中心（演示统计）", "330303"),
    ("瓯海区娄桥街道社区卫生服务中心（演示统计）", "330304"),
    ("瓯海区梧田街道社区卫生服务中心（演示统计）", "330304"),
)
# (code, programme, kind, days after the LMP or the birth the window opens, closes, share done)
PREGNANCY_STEPS = (
    ("ph_prenatal_1", "prenatal_public_health", 0, 90, 0.9),
    ("ph_prenatal_2", "prenatal_public_health", 112, 146, 0.9),
    ("ph_prenatal_3", "prenatal_public_health", 168, 202, 0.85),
    ("ph_prenatal_4", "prenatal_public_health", 224, 251, 0.85),
    ("ph_prenatal_5", "prenatal_public_health", 252, 279, 0.8),
    ("serum_screen_t2", "prenatal_screening", 105, 146, 0.8),
    ("nipt", "prenatal_screening", 84, 174, 0.15),
    ("anomaly_scan", "prenatal_screening", 140, 174, 0.93),
    ("ogtt", "prenatal_screening", 168, 202, 0.88),
)
AFTER_BIRTH_STEPS = (
    ("postpartum_home_visit", "postpartum", 0, 7, 0.9),
    ("postpartum_check_42d", "postpartum", 42, 56, 0.82),
    ("contraception_counselling_discharge", "contraception_counselling", 0, 7, 0.7),
)
# Steps only some women have: (code, programme, share of women, (opens, closes, share done)),
# days from the LMP (negative: before the pregnancy).
OCCASIONAL = (
    ("premarital_exam", "pre_pregnancy", 0.3, (-400, -300, 0.7)),
    ("prepregnancy_check", "pre_pregnancy", 0.45, (-150, -30, 0.75)),
    ("prenatal_diagnosis_referral", "prenatal_screening", 0.05, (120, 160, 0.8)),
)
CHILD_STEPS = (
    ("heel_prick", "newborn_screening", 2, 7, 0.97),
    ("hearing_screen", "newborn_screening", 2, 30, 0.96),
    ("child_check_1m", "child_health", 28, 45, 0.9),
    ("hepb_1", "immunization", 0, 1, 0.98),
    ("bcg", "immunization", 0, 90, 0.97),
)
# Defects to place, by ICD-10 code (rare, as in life).
DEFECTS = ("Q21.0", "Q21.1", "Q69.9", "Q35.9", "Q37.9", "Q90.9", "Q54.9", "Q66.0", "Q17.0")


def seed_population(session: Session, *, today: dt.date, births_per_month: int = 20) -> bool:
    """Insert the synthetic population once; False when it is already there."""
    names = [name for name, _ in INSTITUTIONS]
    if session.scalar(select(Institution.id).where(Institution.name.in_(names)).limit(1)):
        return False
    rnd = random.Random(13)
    institutions = [
        {"id": uuid.uuid4(), "name": n, "kind": "community_health_centre", "district_code": d}
        for n, d in INSTITUTIONS
    ]
    session.execute(insert(Institution), institutions)
    rows: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "users",
            "registrations",
            "pregnancies",
            "children",
            "guardians",
            "steps",
            "risk",
            "defects",
            "regimens",
            "check_ins",
            "consents",
        )
    }
    first_month = today.replace(year=today.year - 1, day=1)
    cats = categories()

    def steps(kind: str, subject: uuid.UUID, woman: uuid.UUID, base: dt.date, plan: Any) -> None:
        for code, programme, opens, closes, share in plan:
            opens_on, closes_on = base + dt.timedelta(opens), base + dt.timedelta(closes)
            done = rnd.random() < share and opens_on <= today
            rows["steps"].append(
                {
                    "id": uuid.uuid4(),
                    "subject_kind": kind,
                    "subject_id": subject,
                    "person_id": woman,
                    "code": code,
                    "programme": programme,
                    "version": "demo",
                    "opens_on": opens_on,
                    "due_on": closes_on,
                    "closes_on": closes_on,
                    "state": "done" if done else "pending",
                    "reason": {"demo": True},
                    "done_on": opens_on + dt.timedelta(rnd.randint(0, closes - opens))
                    if done
                    else None,
                }
            )

    for inst in institutions:
        month = first_month
        while month < today.replace(day=1):
            for _ in range(births_per_month + rnd.randint(-2, 3)):
                woman = uuid.uuid4()
                born = month + dt.timedelta(rnd.randint(0, 27))
                ga = rnd.choice((273, 266, 280, 259, 245, 284))
                lmp = born - dt.timedelta(ga)
                rows["users"].append(
                    {
                        "id": woman,
                        "role": "citizen",
                        "name": "演示",
                        "sex": "female",
                        "birth_date": dt.date(rnd.randint(1986, 2002), rnd.randint(1, 12), 1),
                        "district_code": inst["district_code"],
                        "is_active": False,
                    }
                )
                registered = dt.datetime.combine(lmp + dt.timedelta(60), dt.time(2), dt.UTC)
                if rnd.random() < 0.9:  # most agree to anonymous statistics
                    rows["consents"].append(
                        {
                            "id": uuid.uuid4(),
                            "user_id": woman,
                            "purpose": "anonymous_statistics",
                            "channel": None,
                            "granted": True,
                            "text_version": "demo",
                            "at": registered,
                        }
                    )
                rows["registrations"].append(
                    {
                        "id": uuid.uuid4(),
                        "user_id": woman,
                        "institution_id": inst["id"],
                        "registered_at": registered,
                    }
                )
                pregnancy = uuid.uuid4()
                rows["pregnancies"].append(
                    {
                        "id": pregnancy,
                        "woman_id": woman,
                        "lmp": lmp,
                        "edd": lmp + dt.timedelta(280),
                        "edd_source": "lmp",
                        "status": "delivered",
                        "ended_on": born,
                        "ga_at_end_days": ga,
                        "born_at": dt.datetime.combine(born, dt.time(1), dt.UTC),
                        "delivery_mode": "vaginal",
                        "created_at": registered,
                    }
                )
                steps("pregnancy", pregnancy, woman, lmp, PREGNANCY_STEPS)
                for code, programme, share, plan in OCCASIONAL:
                    if rnd.random() < share:
                        kind = "woman" if programme == "pre_pregnancy" else "pregnancy"
                        subject = woman if kind == "woman" else pregnancy
                        steps(kind, subject, woman, lmp, ((code, programme, *plan),))
                steps("pregnancy", pregnancy, woman, born, AFTER_BIRTH_STEPS)
                twins = rnd.random() < 0.02
                for order in range(1, 3 if twins else 2):
                    child = uuid.uuid4()
                    rows["children"].append(
                        {
                            "id": child,
                            "pregnancy_id": pregnancy,
                            "sex": rnd.choice(("female", "male")),
                            "birth_date": born,
                            "birth_order": order,
                            "ga_at_birth_days": ga,
                        }
                    )
                    rows["guardians"].append(
                        {"child_id": child, "user_id": woman, "relation": "mother"}
                    )
                    steps("child", child, woman, born, CHILD_STEPS)
                    if rnd.random() < 0.05:
                        rescreen = (("hearing_rescreen", "newborn_screening", 42, 60, 0.8),)
                        steps("child", child, woman, born, rescreen)
                    if rnd.random() < 0.012:
                        code = rnd.choice(DEFECTS)
                        rows["defects"].append(
                            {
                                "id": uuid.uuid4(),
                                "woman_id": woman,
                                "pregnancy_id": pregnancy,
                                "child_id": child,
                                "icd10": code,
                                "category": cats.classify(code),
                                "timing": rnd.choice(
                                    ("prenatal_ultrasound", "at_birth", "within_7_days")
                                ),
                                "diagnosed_on": born,
                                "ga_days": ga,
                                "outcome": "live_birth",
                                "outcome_on": born,
                            }
                        )
                if rnd.random() < 0.08:
                    colour = rnd.choice(("orange", "orange", "red"))
                    graded = lmp + dt.timedelta(rnd.randint(60, 200))
                    rows["risk"].append(
                        {
                            "id": uuid.uuid4(),
                            "pregnancy_id": pregnancy,
                            "seq": 1,
                            "colour": colour,
                            "purple": False,
                            "conditions": [],
                            "assessed_on": graded,
                        }
                    )
                    steps(
                        "pregnancy",
                        pregnancy,
                        woman,
                        graded,
                        (("case_management", "risk_management", 0, 3, 0.85),),
                    )
                if rnd.random() < 0.3:
                    regimen = uuid.uuid4()
                    start = lmp - dt.timedelta(rnd.randint(0, 60))
                    end = start + dt.timedelta(29)
                    rows["regimens"].append(
                        {
                            "id": regimen,
                            "user_id": woman,
                            "kind": "folic_acid",
                            "tier": "standard",
                            "risk_factors": [],
                            "pregnancy_id": pregnancy,
                            "starts_on": start,
                            "ends_on": end,
                            "reminder_time": dt.time(8),
                            "status": "completed",
                        }
                    )
                    keep = rnd.choice((0.95, 0.85, 0.6))
                    for day in range(30):
                        if rnd.random() < keep:
                            rows["check_ins"].append(
                                {
                                    "id": uuid.uuid4(),
                                    "regimen_id": regimen,
                                    "on": start + dt.timedelta(day),
                                    "taken": True,
                                }
                            )
            month = (month + dt.timedelta(days=32)).replace(day=1)
    for model, key in (
        (User, "users"),
        (Registration, "registrations"),
        (Pregnancy, "pregnancies"),
        (Child, "children"),
        (Guardian, "guardians"),
        (CareStep, "steps"),
        (RiskAssessment, "risk"),
        (BirthDefect, "defects"),
        (Regimen, "regimens"),
        (CheckIn, "check_ins"),
        (Consent, "consents"),
    ):
        if rows[key]:
            session.execute(insert(model), rows[key])
    session.flush()
    return True
