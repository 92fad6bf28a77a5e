"""Pregnancy dating as pure functions over content/dating/*.yaml (Naegele, ACOG CO 700).

Every clinical number comes from the YAML files, validated at start-up by backend.content
(models Naegele, Redating, Plausibility); this module only does the arithmetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from backend import content
from backend.content.models import Redating
from backend.months import add_years

CONTENT_DIR = content.CONTENT_DIR / "dating"
WEEK = 7  # days in a week: calendar arithmetic, not a clinical number


@dataclass(frozen=True)
class GestationalAge:
    """Completed weeks plus days."""

    weeks: int
    days: int

    @classmethod
    def of_days(cls, total: int) -> GestationalAge:
        """Split a number of days into weeks + days."""
        return cls(total // WEEK, total % WEEK)

    @property
    def total_days(self) -> int:
        """The gestational age in days."""
        return self.weeks * WEEK + self.days


@dataclass(frozen=True)
class Band:
    """One row of the redating table."""

    from_days: int
    to_days: int | None
    method: str
    threshold_days: int
    caution: str | None


@dataclass(frozen=True)
class RedatingRule:
    """A redating table (content/dating/acog-co700.yaml)."""

    id: str
    bands: tuple[Band, ...]
    keep_fixed_after_redating: bool

    def band_for(self, ga_days: int) -> Band:
        """The band for a gestational age (by menstrual dating) at the scan."""
        for band in self.bands:
            if ga_days >= band.from_days and (band.to_days is None or ga_days <= band.to_days):
                return band
        raise ValueError(f"no redating band for GA {ga_days} d")


@dataclass(frozen=True)
class Assessment:
    """How an ultrasound compares with the menstrual dating."""

    ultrasound_edd: dt.date
    ga_by_dates_days: int
    discrepancy_days: int
    band: Band
    exceeds: bool


def naegele() -> dict[str, Any]:
    """content/dating/naegele.yaml, as validated at start-up."""
    return dict(content.raw("dating.naegele"))


def plausibility() -> dict[str, Any]:
    """content/dating/plausibility.yaml, as validated at start-up."""
    return dict(content.raw("dating.plausibility"))


def redating_rule() -> RedatingRule:
    """content/dating/acog-co700.yaml (bands without gaps, checked at start-up)."""
    data = content.typed(Redating)
    bands = tuple(
        Band(
            from_days=b.from_.total_days,
            to_days=b.to.total_days if b.to else None,
            method=b.method,
            threshold_days=b.redate_if_discrepancy_over_days,
            caution=b.caution,
        )
        for b in data.bands
    )
    return RedatingRule(
        id=data.id,
        bands=bands,
        keep_fixed_after_redating=data.keep_fixed_after_redating,
    )


def term_days() -> int:
    """Days from the LMP to the EDD (Naegele)."""
    return int(naegele()["edd_after_lmp_days"])


def max_ongoing_days() -> int:
    """The longest an ongoing pregnancy's LMP may lie in the past."""
    return int(naegele()["max_ongoing_weeks"]) * WEEK


def edd_from_lmp(lmp: dt.date, cycle_length: int | None = None) -> dt.date:
    """EDD = LMP + 280 d, plus (cycle_length − 28) d for regular long or short cycles."""
    shift = 0
    if cycle_length is not None:
        shift = cycle_length - int(naegele()["cycle_length"]["reference_days"])
    return lmp + dt.timedelta(days=term_days() + shift)


def dating_lmp(edd: dt.date) -> dt.date:
    """The LMP an EDD implies (EDD − 280 d): GA 0+0 of the dating in force."""
    return edd - dt.timedelta(days=term_days())


def ga_days_on(edd: dt.date, on: dt.date) -> int:
    """Gestational age in days on a date, by the EDD in force."""
    return term_days() - (edd - on).days


def gestational_age(edd: dt.date, on: dt.date) -> GestationalAge:
    """Gestational age {weeks, days} on a date, by the EDD in force."""
    return GestationalAge.of_days(ga_days_on(edd, on))


def edd_from_ultrasound(scan_date: dt.date, ga_days: int) -> dt.date:
    """EDD_final = US_date + (280 − GA_US_days)."""
    return scan_date + dt.timedelta(days=term_days() - ga_days)


def assess_ultrasound(*, dates_edd: dt.date, scan_date: dt.date, ga_days: int) -> Assessment:
    """Compare an ultrasound with the menstrual dating by the ACOG CO 700 table."""
    rule = redating_rule()
    by_dates = ga_days_on(dates_edd, scan_date)
    band = rule.band_for(max(by_dates, 0))
    discrepancy = abs(by_dates - ga_days)
    return Assessment(
        ultrasound_edd=edd_from_ultrasound(scan_date, ga_days),
        ga_by_dates_days=by_dates,
        discrepancy_days=discrepancy,
        band=band,
        exceeds=discrepancy > band.threshold_days,
    )


def latest_plan_date(today: dt.date) -> dt.date:
    """The furthest day a pregnancy may be planned for (plausibility.yaml, plan)."""
    return add_years(today, int(plausibility()["plan"]["max_ahead_years"]))


def shortest_plan_horizon_days() -> int:
    """Days to the latest plan date from a day of a common year (the shortest such span)."""
    common = dt.date(2001, 1, 1)
    return (latest_plan_date(common) - common).days


def age_in_years(birth_date: dt.date, on: dt.date) -> int:
    """Completed years of age on a date."""
    years = on.year - birth_date.year
    return years - 1 if add_years(birth_date, years) > on else years
