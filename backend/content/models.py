"""Every content model by name, one import for callers; each kind lives in its own module.

`common` (strict models, localized text, codes, offsets, provenance), `measurements`, `stages`,
`dating`, `reminders`, `indicators`, `regimens`, `mec` (the contraception files) and `benefits`.
Each model is the whole shape of one file kind: unknown keys are refused, numbers keep their
type, bounds are ordered; the JSON Schema of each kind comes from the same model.
"""

from __future__ import annotations

from backend.content.benefits import BenefitRulesFile
from backend.content.common import (
    Code,
    Localized,
    NonNegative,
    Number,
    OffsetText,
    Provenance,
    SourceRef,
    Strict,
    at,
)
from backend.content.dating import Naegele, Plausibility, Redating
from backend.content.indicators import (
    BirthDefectCategoriesFile,
    EducationIndicator,
    IndicatorDefinitionFile,
    IndicatorPolicy,
)
from backend.content.measurements import Bounds, Measurements
from backend.content.mec import IudFile, MecProvenance, MecSourceRef, MecText, MethodsFile
from backend.content.mec_table import ServicesFile, TableFile
from backend.content.protocols import ProtocolsFile
from backend.content.regimens import FolicAcidFile
from backend.content.reminders import ReminderOffset, ReminderRules
from backend.content.stages import STAGE_NAMES, LifeStages

__all__ = [
    "STAGE_NAMES",
    "BenefitRulesFile",
    "BirthDefectCategoriesFile",
    "Bounds",
    "Code",
    "EducationIndicator",
    "FolicAcidFile",
    "IndicatorDefinitionFile",
    "IndicatorPolicy",
    "IudFile",
    "LifeStages",
    "Localized",
    "Measurements",
    "MecProvenance",
    "MecSourceRef",
    "MecText",
    "MethodsFile",
    "Naegele",
    "NonNegative",
    "Number",
    "OffsetText",
    "Plausibility",
    "ProtocolsFile",
    "Provenance",
    "Redating",
    "ReminderOffset",
    "ReminderRules",
    "ServicesFile",
    "SourceRef",
    "Strict",
    "TableFile",
    "at",
]
