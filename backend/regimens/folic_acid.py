"""The folic acid regimen as typed, validated data (content/regimens/folic_acid.yaml).

Loaded once at start-up and validated by the content layer's model (FolicAcidFile); a broken
file stops the app with every problem found, each naming the file and the field. The pure
rules the service applies (which tier, when to start, when to stop) are methods here, so that
no clinical number lives in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from backend.conditions import Source, Text
from backend.content.files import problems
from backend.content.models import FolicAcidFile, Localized, SourceRef
from backend.content.models import Provenance as ProvenanceSpec
from backend.content.yamlfile import ContentFileError, load_yaml
from backend.handbook import dating

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "regimens"
FOLIC_ACID_FILE = "folic_acid.yaml"
DEFAULT_LOCALE = "zh_CN"


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


# --- reading: validated by backend.content.models.FolicAcidFile ---------------------------------


def _source(spec: SourceRef) -> Source:
    return Source(ids=tuple(spec.ids), title=spec.title)


def _provenance(spec: ProvenanceSpec) -> Provenance:
    return Provenance(_source(spec.source), spec.verified, spec.note.strip() if spec.note else None)


def _text(spec: Localized) -> Text:
    return {"zh_CN": spec.zh_CN.strip(), "en": spec.en.strip()}


def build_folic_acid(path: str, text: str) -> FolicAcid:
    """Parse and validate one folic acid file; RegimenContentError lists every problem."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise RegimenContentError([f"{path}: YAML syntax error: {message}"]) from None
    try:
        spec = FolicAcidFile.model_validate(data)
    except ValidationError as exc:
        raise RegimenContentError(problems(path, exc, data, by_code=True)) from None
    # The stop is a gestational age an ongoing pregnancy can reach (dating/naegele.yaml).
    longest = int(dating.naegele()["max_ongoing_weeks"])
    if spec.stop.at_ga.weeks > longest:
        raise RegimenContentError(
            [f"{path}: field stop.at_ga.weeks: must be at most {longest} (naegele.yaml)"]
        )
    return FolicAcid(
        path=path,
        version=spec.version,
        title=_text(spec.title),
        source=_source(spec.source),
        risk_factors={
            code: RiskFactor(code, _text(factor.label))
            for code, factor in spec.risk_factors.items()
        },
        tiers=tuple(
            Tier(
                code=tier.code,
                rank=rank,
                risk_factors=tuple(tier.risk_factors),
                dose=_text(tier.dose),
                lead_days=tier.lead_days,
                ask_doctor=tier.ask_doctor,
                provenance=_provenance(tier),
            )
            for rank, tier in enumerate(spec.tiers)
        ),
        start=_provenance(spec.start),
        stop_ga_days=dating.GestationalAge(spec.stop.at_ga.weeks, spec.stop.at_ga.days).total_days,
        stop=_provenance(spec.stop),
    )


def load_folic_acid(directory: str | Path | None = None) -> FolicAcid:
    """Load <directory>/folic_acid.yaml (content/regimens by default)."""
    path = Path(directory or CONTENT_DIR) / FOLIC_ACID_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegimenContentError([f"{path}: cannot be read ({exc.strerror})"]) from None
    return build_folic_acid(str(path), text)
