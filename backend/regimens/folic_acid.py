"""The folic acid regimen as typed, validated data (content/regimens/folic_acid.yaml).

Loaded once at start-up; a broken file stops the app with every problem found, each naming
the file and the field. The pure rules the service applies (which tier, when to start, when to
stop) are methods here, so that no clinical number lives in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backend.care.protocols import Source, Text
from backend.care.reading import (
    Invalid,
    check_keys,
    read_bool,
    read_code,
    read_mapping,
    read_note,
    read_source,
    read_string,
    read_text,
)
from backend.content.yamlfile import ContentFileError, load_yaml
from backend.handbook import dating

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "regimens"
FOLIC_ACID_FILE = "folic_acid.yaml"
DEFAULT_LOCALE = "zh_CN"

FILE_KEYS = {
    "kind",
    "version",
    "title",
    "source",
    "note",
    "risk_factors",
    "tiers",
    "start",
    "stop",
}
TIER_KEYS = {
    "code",
    "risk_factors",
    "dose",
    "lead_days",
    "ask_doctor",
    "source",
    "verified",
    "note",
}
PROVENANCE_KEYS = {"source", "verified", "note"}


class RegimenContentError(ContentFileError):
    """A regimen file is broken; each problem names the file and the field."""


@dataclass(frozen=True)
class Provenance:
    """Where a rule comes from, whether every number of it is confirmed, and what to check."""

    source: Source
    verified: bool
    note: str | None


@dataclass(frozen=True)
class RiskFactor:
    """A fact a woman or her doctor records that raises the dose tier."""

    code: str
    label: Text


@dataclass(frozen=True)
class Tier:
    """A dose tier: the risk factors that lead to it, the dose text and the lead time."""

    code: str
    rank: int
    risk_factors: tuple[str, ...]
    dose: Text
    lead_days: int
    ask_doctor: bool
    provenance: Provenance

    def dose_in(self, locale: str) -> str:
        """The dose text in `locale`, falling back to zh_CN."""
        return self.dose.get(locale) or self.dose[DEFAULT_LOCALE]


@dataclass(frozen=True)
class FolicAcid:
    """The folic acid regimen: tiers, start and stop rules, with their sources."""

    path: str
    version: str
    title: Text
    source: Source
    risk_factors: Mapping[str, RiskFactor]
    tiers: tuple[Tier, ...]
    start: Provenance
    stop_ga_days: int
    stop: Provenance

    @property
    def default_tier(self) -> Tier:
        """The tier of a woman without any risk factor."""
        return self.tiers[0]

    def tier(self, code: str) -> Tier:
        """The tier called `code` (a stored tier that the file no longer has is the default)."""
        return next((t for t in self.tiers if t.code == code), self.default_tier)

    def unknown_risk_factors(self, codes: Collection[str]) -> list[str]:
        """The codes this file does not declare, in the order given."""
        return [c for c in codes if c not in self.risk_factors]

    def _matched(self, codes: Collection[str]) -> list[Tier]:
        matched = [t for t in self.tiers if set(t.risk_factors) & set(codes)]
        return matched or [self.default_tier]

    def tier_for(self, codes: Collection[str]) -> Tier:
        """The highest tier any of her risk factors leads to."""
        return max(self._matched(codes), key=lambda t: t.rank)

    def lead_days_for(self, codes: Collection[str]) -> int:
        """Days before the planned date to start: the longest lead of the tiers she meets."""
        return max(t.lead_days for t in self._matched(codes))

    def ends_on(self, edd: dt.date) -> dt.date:
        """The last day of the regimen for a pregnancy with this EDD (LMP + the stop GA)."""
        return dating.dating_lmp(edd) + dt.timedelta(days=self.stop_ga_days)


# --- reading ------------------------------------------------------------------------------------


def _read_int(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number within bounds (YAML booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise Invalid(name, f"must be a whole number of at least {minimum}, not {value!r}")
    if maximum is not None and value > maximum:
        raise Invalid(name, f"must be at most {maximum}, not {value!r}")
    return value


def _read_provenance(data: Mapping[str, Any], prefix: str) -> Provenance:
    """`source`, `verified` and `note`: memory is never verified, and doubt is explained."""
    source = read_source(data.get("source"), f"{prefix}source")
    if "verified" not in data:
        raise Invalid(f"{prefix}verified", "required: true only if every number is confirmed")
    verified = read_bool(data["verified"], f"{prefix}verified")
    note = read_note(data.get("note"), f"{prefix}note")
    memory = [i for i in source.ids if i.split(":")[-1].startswith("M")]
    if verified and memory:
        raise Invalid(f"{prefix}verified", f"cannot be true: the source ids {memory} are memory")
    if not verified and note is None:
        raise Invalid(f"{prefix}note", "required when verified is false: say what to check")
    return Provenance(source, verified, note)


def _read_risk_factors(value: Any) -> dict[str, RiskFactor]:
    data = read_mapping(value, "risk_factors")
    factors: dict[str, RiskFactor] = {}
    for code, spec in data.items():
        name = f"risk_factors.{code}"
        read_code(code, name)
        spec = read_mapping(spec, name)
        check_keys(spec, {"label"}, {"label"}, f"{name}.")
        factors[code] = RiskFactor(code, read_text(spec["label"], f"{name}.label"))
    return factors


def _read_tier(value: Any, rank: int, factors: Mapping[str, RiskFactor] | None) -> Tier:
    name = f"tiers[{rank}]"
    data = read_mapping(value, name)
    if isinstance(data.get("code"), str):
        name = f"tiers[{rank}] ({data['code']})"
    prefix = f"{name}."
    check_keys(data, TIER_KEYS, TIER_KEYS - {"note"}, prefix)
    codes = data["risk_factors"]
    if not isinstance(codes, list):
        raise Invalid(f"{prefix}risk_factors", "must be a list of risk factor codes")
    for code in codes:
        if factors is not None and code not in factors:
            raise Invalid(
                f"{prefix}risk_factors",
                f"{code!r} is not declared under risk_factors; known: {', '.join(factors)}",
            )
    return Tier(
        code=read_code(data["code"], f"{prefix}code"),
        rank=rank,
        risk_factors=tuple(codes),
        dose=read_text(data["dose"], f"{prefix}dose"),
        lead_days=_read_int(
            data["lead_days"], f"{prefix}lead_days", maximum=dating.shortest_plan_horizon_days()
        ),
        ask_doctor=read_bool(data["ask_doctor"], f"{prefix}ask_doctor"),
        provenance=_read_provenance(data, prefix),
    )


def _check_tiers(tiers: list[Tier], factors: Mapping[str, RiskFactor]) -> None:
    """One default tier first, unique codes, and every risk factor in exactly one tier."""
    if not tiers:
        raise Invalid("tiers", "must list at least the default tier")
    if tiers[0].risk_factors:
        raise Invalid(
            f"tiers[0] ({tiers[0].code}).risk_factors",
            "must be empty: the first tier applies to women without any risk factor",
        )
    if tiers[0].ask_doctor:
        raise Invalid(
            f"tiers[0] ({tiers[0].code}).ask_doctor", "must be false: the default tier is self-care"
        )
    seen_codes: set[str] = set()
    owner: dict[str, str] = {}
    for tier in tiers:
        if tier.code in seen_codes:
            raise Invalid(f"tiers[{tier.rank}].code", f"{tier.code!r} is used twice")
        seen_codes.add(tier.code)
        if tier.lead_days < tiers[0].lead_days:
            # A woman at higher risk never starts later than everyone else (clinical audit).
            raise Invalid(
                f"tiers[{tier.rank}] ({tier.code}).lead_days",
                f"must be at least the default tier's {tiers[0].lead_days}: a higher-risk tier "
                "never starts later",
            )
        if tier.rank and not tier.risk_factors:
            raise Invalid(
                f"tiers[{tier.rank}] ({tier.code}).risk_factors",
                "must name at least one risk factor (only the first tier has none)",
            )
        for code in tier.risk_factors:
            if code in owner:
                raise Invalid(
                    f"tiers[{tier.rank}] ({tier.code}).risk_factors",
                    f"{code!r} is already in tier {owner[code]!r}",
                )
            owner[code] = tier.code
    for code in factors:
        if code not in owner:
            raise Invalid(f"risk_factors.{code}", "is in no tier")


def _read_stop(value: Any) -> tuple[int, Provenance]:
    data = read_mapping(value, "stop")
    check_keys(data, {"at_ga", *PROVENANCE_KEYS}, {"at_ga", "source", "verified"}, "stop.")
    ga = read_mapping(data["at_ga"], "stop.at_ga")
    check_keys(ga, {"weeks", "days"}, {"weeks", "days"}, "stop.at_ga.")
    weeks = _read_int(
        ga["weeks"], "stop.at_ga.weeks", maximum=int(dating.naegele()["max_ongoing_weeks"])
    )
    days = _read_int(ga["days"], "stop.at_ga.days", maximum=dating.WEEK - 1)
    return dating.GestationalAge(weeks, days).total_days, _read_provenance(data, "stop.")


def _read_start(value: Any) -> Provenance:
    data = read_mapping(value, "start")
    check_keys(data, PROVENANCE_KEYS, {"source", "verified"}, "start.")
    return _read_provenance(data, "start.")


def build_folic_acid(path: str, text: str) -> FolicAcid:
    """Parse and validate one folic acid file; RegimenContentError lists every problem."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise RegimenContentError([f"{path}: YAML syntax error: {message}"]) from None
    problems: list[str] = []

    def attempt(reader: Any, *args: Any) -> Any:
        try:
            return reader(*args)
        except Invalid as exc:
            problems.append(f"{path}: field {exc.field}: {exc.message}")
            return None

    def header(value: Any) -> Mapping[str, Any]:
        data = read_mapping(value, "(file)")
        check_keys(data, FILE_KEYS, FILE_KEYS - {"note"}, "")
        if data["kind"] != "folic_acid":
            raise Invalid("kind", f"must be folic_acid, not {data['kind']!r}")
        read_string(data["version"], "version")
        read_note(data.get("note"), "note")
        return data

    top = attempt(header, data)
    if top is None:
        raise RegimenContentError(problems)
    title = attempt(read_text, top["title"], "title")
    source = attempt(read_source, top["source"], "source")
    factors = attempt(_read_risk_factors, top["risk_factors"])
    raw_tiers = top["tiers"] if isinstance(top["tiers"], list) else None
    if raw_tiers is None:
        problems.append(f"{path}: field tiers: must be a list of tiers, the default first")
        raw_tiers = []
    tiers = [attempt(_read_tier, spec, rank, factors) for rank, spec in enumerate(raw_tiers)]
    if all(t is not None for t in tiers) and factors is not None:
        attempt(_check_tiers, tiers, factors)
    start = attempt(_read_start, top["start"])
    stop = attempt(_read_stop, top["stop"])
    if problems:
        raise RegimenContentError(problems)
    stop_days, stop_provenance = stop
    return FolicAcid(
        path=path,
        version=str(top["version"]),
        title=title,
        source=source,
        risk_factors=factors,
        tiers=tuple(tiers),
        start=start,
        stop_ga_days=stop_days,
        stop=stop_provenance,
    )


def load_folic_acid(directory: str | Path | None = None) -> FolicAcid:
    """Load <directory>/folic_acid.yaml (content/regimens by default)."""
    path = Path(directory or CONTENT_DIR) / FOLIC_ACID_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegimenContentError([f"{path}: cannot be read ({exc.strerror})"]) from None
    return build_folic_acid(str(path), text)
