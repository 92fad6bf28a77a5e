"""Life stages (DESIGN.md §2) derived from a person's facts, by the rules in life_stages.yaml."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backend import content
from backend.content.models import STAGE_NAMES as STAGE_NAMES  # stages.STAGE_NAMES for callers
from backend.handbook.dating import age_in_years
from backend.months import add_years

STAGES_FILE = content.CONTENT_DIR / "life_stages.yaml"
# The stages whose presence keeps a person out of `marriage` (pre-marriage / pre-pregnancy).
FAMILY_STAGES = ("pregnancy", "birth", "rearing", "education")


@dataclass(frozen=True)
class Subject:
    """Whom a stage is about: the person herself, one pregnancy or one child."""

    kind: str  # woman | pregnancy | child
    id: uuid.UUID


@dataclass(frozen=True)
class LifeStage:
    """One current stage of a person, with its display colour."""

    stage: str
    colour: str
    subject: Subject
    since: dt.date | None = None


@dataclass(frozen=True)
class PregnancyFacts:
    """What the stages need of a pregnancy."""

    id: uuid.UUID
    status: str
    dating_lmp: dt.date
    delivered_on: dt.date | None = None
    ended_on: dt.date | None = None  # when it ended, with a birth or not


@dataclass(frozen=True)
class ChildFacts:
    """What the stages need of a child the person is guardian of."""

    id: uuid.UUID
    birth_date: dt.date
    born_of_recorded_pregnancy: bool = False
    relation: str = "mother"


@dataclass(frozen=True)
class PersonFacts:
    """A person's facts: own birth date, own pregnancies, the children she is guardian of."""

    id: uuid.UUID
    birth_date: dt.date | None
    pregnancies: Sequence[PregnancyFacts] = field(default_factory=tuple)
    children: Sequence[ChildFacts] = field(default_factory=tuple)


def rules() -> dict[str, dict[str, Any]]:
    """content/life_stages.yaml, as validated at start-up (model LifeStages)."""
    return dict(content.raw("life_stages")["stages"])


def _in_band(age: int, band: dict[str, int]) -> bool:
    return age >= band["from"] and ("until" not in band or age < band["until"])


def derive(facts: PersonFacts, *, today: dt.date) -> list[LifeStage]:
    """The person's current life stages, in the order of life_stages.yaml, then by date."""
    spec = rules()
    found: dict[str, list[LifeStage]] = {name: [] for name in spec}
    woman = Subject("woman", facts.id)

    def add(name: str, subject: Subject, since: dt.date | None) -> None:
        found[name].append(LifeStage(name, str(spec[name]["colour"]), subject, since))

    for p in facts.pregnancies:
        if p.status == "ongoing":
            add("pregnancy", Subject("pregnancy", p.id), p.dating_lmp)

    postpartum_days = int(spec["birth"]["days_after_delivery"])
    deliveries: dict[dt.date, Subject] = {}
    for p in facts.pregnancies:
        if p.delivered_on is not None:  # a delivery, or a stillbirth / end at 28 weeks or more
            deliveries.setdefault(p.delivered_on, Subject("pregnancy", p.id))
    for c in facts.children:
        # A mother who joined after the birth: her delivery is known only from the child.
        if c.relation == "mother" and not c.born_of_recorded_pregnancy:
            deliveries.setdefault(c.birth_date, woman)
    for delivered_on, subject in sorted(deliveries.items()):
        if 0 <= (today - delivered_on).days <= postpartum_days:
            add("birth", subject, delivered_on)

    for name, stage in spec.items():
        if stage["rule"] != "child_age":
            continue
        band = stage["child_age_years"]
        for c in sorted(facts.children, key=lambda c: (c.birth_date, str(c.id))):
            if c.birth_date <= today and _in_band(age_in_years(c.birth_date, today), band):
                add(name, Subject("child", c.id), add_years(c.birth_date, band["from"]))

    own_age = age_in_years(facts.birth_date, today) if facts.birth_date else None
    for name, stage in spec.items():
        if stage["rule"] == "own_age" and facts.birth_date and own_age is not None:
            band = stage["own_age_years"]
            if _in_band(own_age, band):
                add(name, woman, add_years(facts.birth_date, band["from"]))

    first_own_age = min(
        (s["own_age_years"]["from"] for s in spec.values() if s["rule"] == "own_age"),
        default=None,
    )
    below_own_age_bands = own_age is None or first_own_age is None or own_age < first_own_age
    if below_own_age_bands and not any(found[name] for name in FAMILY_STAGES):
        add("marriage", woman, None)

    for items in found.values():
        items.sort(key=lambda s: (s.since or dt.date.min, str(s.subject.id)))
    return [s for name in spec for s in found[name]]
