"""Request and response bodies of the handbook: profile, pregnancies, births, children.

Plausibility bounds come from content/dating/*.yaml (backend.handbook.dating), not from here.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import ValidationError, fields, validate, validates_schema

from backend import clock
from backend.api import Schema
from backend.auth.security import national_id_is_valid
from backend.handbook import dating
from backend.handbook.models import (
    DeliveryMode,
    EndKind,
    GuardianRelation,
    Pregnancy,
    PregnancyStatus,
    Sex,
)
from backend.i18n import SUPPORTED_LOCALES, _l

_LIMITS = dating.plausibility()
_CYCLE = dating.naegele()["cycle_length"]


def _range(bounds: dict[str, int]) -> validate.Range:
    return validate.Range(
        min=bounds.get("min"),
        max=bounds.get("max"),
        error=_l("Enter a value from {min} to {max}."),
    )


DAYS_OF_WEEK = _range({"min": 0, "max": dating.WEEK - 1})


def _one_of(values: Any) -> validate.OneOf:
    return validate.OneOf([str(v) for v in values])


def _valid_national_id(value: str) -> None:
    if not national_id_is_valid(value.upper()):
        raise ValidationError(
            [_l("This is not a valid ID number: check its 18 characters and the check character.")]
        )


def _valid_zone(value: str) -> None:
    if not clock.is_valid_zone(value):
        raise ValidationError([_l("Use an IANA time zone such as Asia/Shanghai.")])


# --- shared pieces ----------------------------------------------------------------------------


class GestationalAgeSchema(Schema):
    """Completed weeks plus days."""

    weeks = fields.Integer(strict=True)
    days = fields.Integer(strict=True)


class _DaysAsGestationalAge(fields.Nested):
    """A number of days shown as {weeks, days}."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(GestationalAgeSchema, dump_only=True, allow_none=True, **kwargs)

    # Field and Nested name the first parameter differently (value, nested_obj): no name fits both.
    def _serialize(  # type: ignore[override]
        self, nested_obj: Any, attr: str | None, obj: Any, **kwargs: Any
    ) -> Any:
        if nested_obj is None:
            return None
        days = dating.GestationalAge.of_days(nested_obj)
        return super()._serialize(days, attr, obj, **kwargs)  # type: ignore[no-untyped-call]


class _GestationalAgeToday(fields.Nested):
    """Gestational age today in the woman's time zone; null unless the pregnancy is ongoing."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(GestationalAgeSchema, dump_only=True, allow_none=True, **kwargs)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        pregnancy: Pregnancy = obj
        if pregnancy.status != PregnancyStatus.ONGOING:
            return None
        today = clock.today(pregnancy.woman.timezone, current_app.config["DEFAULT_TIMEZONE"])
        return dating.gestational_age(pregnancy.edd, today)


# --- profile and life stages ------------------------------------------------------------------


class SubjectSchema(Schema):
    kind = fields.String(metadata={"description": "woman | pregnancy | child"})
    id = fields.UUID()


class LifeStageSchema(Schema):
    stage = fields.String(
        metadata={
            "description": "marriage | pregnancy | birth | rearing | education | care | enjoyment"
        }
    )
    colour = fields.String(metadata={"description": "Display colour of the stage."})
    subject = fields.Nested(SubjectSchema)
    since = fields.Date(allow_none=True)


class ProfileSchema(Schema):
    """The signed-in person's profile; the national ID is masked."""

    id = fields.UUID(dump_only=True)
    phone = fields.String(dump_only=True)
    name = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    sex = fields.String(allow_none=True, validate=_one_of(Sex))
    birth_date = fields.Date(allow_none=True)
    national_id = fields.String(
        allow_none=True,
        validate=_valid_national_id,
        metadata={
            "description": "居民身份证号码. Stored encrypted; shown masked (330302**********3X). "
            "Sets birth_date when that is not given."
        },
    )
    district_code = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^\d{6}$", error=_l("Use the 6-digit administrative code.")),
    )
    locale = fields.String(allow_none=True, validate=validate.OneOf(SUPPORTED_LOCALES))
    timezone = fields.String(
        allow_none=True,
        validate=_valid_zone,
        metadata={"description": "IANA time zone; 'today' is computed there."},
    )
    role = fields.String(dump_only=True)
    life_stages = fields.List(fields.Nested(LifeStageSchema), dump_only=True)
    version = fields.Integer(
        strict=True, dump_only=True, metadata={"description": "Also sent as the ETag."}
    )


# --- pregnancies ------------------------------------------------------------------------------

_LMP = fields.Date(metadata={"description": "First day of the last menstrual period."})
_EDD = fields.Date(metadata={"description": "Expected date of delivery."})
_CYCLE_LENGTH = fields.Integer(
    strict=True,
    validate=_range({"min": _CYCLE["min_days"], "max": _CYCLE["max_days"]}),
    metadata={"description": "Regular cycle length in days; corrects the EDD by (length − 28) d."},
)
_GRAVIDITY = fields.Integer(
    strict=True,
    allow_none=True,
    validate=_range(_LIMITS["history"]["gravidity"]),
    metadata={"description": "Pregnancies including this one (G)."},
)
_PARITY = fields.Integer(
    strict=True,
    allow_none=True,
    validate=_range(_LIMITS["history"]["parity"]),
    metadata={"description": "Earlier births (P)."},
)


def _dating_group(data: dict[str, Any], *, required: bool) -> None:
    """Exactly one of lmp / edd (at creation); at most one dating change in a PATCH."""
    given = [k for k in ("lmp", "edd", "ultrasound") if k in data]
    if required and not given:
        message = _l("Give either the LMP or the EDD.")
        raise ValidationError({"lmp": [message], "edd": [message]})
    if len(given) > 1:
        message = _l("Give only one of these.")
        raise ValidationError({k: [message] for k in given})
    if "cycle_length" in data and "lmp" not in data:
        raise ValidationError({"cycle_length": [_l("A cycle length goes with an LMP.")]})


class PregnancyCreateSchema(Schema):
    lmp = _LMP
    edd = _EDD
    cycle_length = _CYCLE_LENGTH
    gravidity = _GRAVIDITY
    parity = _PARITY

    @validates_schema
    def _one_dating(self, data: dict[str, Any], **kwargs: Any) -> None:
        _dating_group(data, required=True)


class UltrasoundSchema(Schema):
    scan_date = fields.Date(required=True)
    ga_weeks = fields.Integer(
        strict=True,
        required=True,
        validate=_range(_LIMITS["ultrasound"]["ga_weeks"]),
        metadata={"description": "Gestational age measured by the scan: completed weeks."},
    )
    ga_days = fields.Integer(strict=True, load_default=0, validate=DAYS_OF_WEEK)


class PregnancyPatchSchema(Schema):
    """Obstetric history, or one piece of dating evidence: an ultrasound, a corrected LMP/EDD."""

    ultrasound = fields.Nested(
        UltrasoundSchema,
        metadata={
            "description": "A scan. It replaces the menstrual dating only when the discrepancy "
            "exceeds the ACOG CO 700 threshold for its band and no earlier scan decided."
        },
    )
    lmp = _LMP
    edd = _EDD
    cycle_length = _CYCLE_LENGTH
    reason = fields.String(validate=validate.Length(min=1, max=500))
    gravidity = _GRAVIDITY
    parity = _PARITY
    discharged_on = fields.Date(
        allow_none=True,
        metadata={
            "description": "A delivered pregnancy's discharge from the delivery hospital "
            "(null clears it); the home visits count from it."
        },
    )

    @validates_schema
    def _one_dating(self, data: dict[str, Any], **kwargs: Any) -> None:
        _dating_group(data, required=False)
        if "reason" in data and not {"ultrasound", "lmp", "edd"} & data.keys():
            raise ValidationError({"reason": [_l("A reason goes with a dating change.")]})


class _NestedWhen(fields.Nested):
    """The object itself, dumped with the nested schema, when `present(obj)`; else null."""

    def __init__(self, nested: type[Schema], present: Any, **kwargs: Any) -> None:
        super().__init__(nested, dump_only=True, allow_none=True, **kwargs)
        self._present = present

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        return obj if self._present(obj) else None


class ActorSchema(Schema):
    id = fields.UUID(attribute="actor_id", allow_none=True)
    role = fields.String(attribute="actor_role", allow_none=True)


class UltrasoundOutSchema(Schema):
    """A scan as recorded in the dating history."""

    scan_date = fields.Date()
    ga = _DaysAsGestationalAge(attribute="scan_ga_days")


class EddRevisionSchema(Schema):
    """One piece of dating evidence and what it did to the EDD."""

    at = fields.AwareDateTime()
    by = _NestedWhen(
        ActorSchema,
        lambda r: r.actor_id is not None,
        metadata={"description": "Who recorded it (null once the account is deleted)."},
    )
    source = fields.String(
        metadata={"description": "lmp | edd | ultrasound | birth (recorded after the birth)"}
    )
    reason = fields.String(allow_none=True)
    lmp = fields.Date(allow_none=True)
    cycle_length = fields.Integer(strict=True, allow_none=True)
    ultrasound = _NestedWhen(
        UltrasoundOutSchema,
        lambda r: r.scan_date is not None,
        metadata={"description": "The scan, for ultrasound evidence."},
    )
    proposed_edd = fields.Date(metadata={"description": "The EDD this evidence implies."})
    previous_edd = fields.Date(allow_none=True)
    edd = fields.Date(metadata={"description": "The EDD in force after it."})
    replaced = fields.Boolean(metadata={"description": "Whether it now defines the EDD."})
    decision = fields.String(
        metadata={
            "description": "initial | replaced | within_threshold | later_scan | "
            "dates_corrected | ultrasound_in_force"
        }
    )
    rule = fields.String(allow_none=True, metadata={"description": "e.g. acog-co700"})
    discrepancy_days = fields.Integer(strict=True, allow_none=True)
    threshold_days = fields.Integer(strict=True, allow_none=True)


class PregnancySchema(Schema):
    id = fields.UUID()
    woman_id = fields.UUID()
    lmp = fields.Date(allow_none=True, metadata={"description": "The LMP she reported."})
    cycle_length = fields.Integer(strict=True, allow_none=True)
    edd = fields.Date(metadata={"description": "The EDD in force."})
    edd_source = fields.String(
        metadata={"description": "lmp | edd | ultrasound | birth (recorded after the birth)"}
    )
    gestational_age = _GestationalAgeToday(
        metadata={"description": "Today, in the woman's time zone; null unless ongoing."}
    )
    gravidity = fields.Integer(strict=True, allow_none=True)
    parity = fields.Integer(strict=True, allow_none=True)
    status = fields.String(metadata={"description": "ongoing | delivered | ended"})
    ended_on = fields.Date(allow_none=True)
    end_kind = fields.String(
        allow_none=True,
        metadata={"description": "miscarriage | ectopic | termination | stillbirth"},
    )
    ga_at_end = _DaysAsGestationalAge(attribute="ga_at_end_days")
    born_at = fields.AwareDateTime(allow_none=True)
    delivery_mode = fields.String(allow_none=True)
    discharged_on = fields.Date(allow_none=True)
    child_ids = fields.Function(lambda p: [c.id for c in p.children], dump_only=True)
    dating_history = fields.List(fields.Nested(EddRevisionSchema))
    created_at = fields.AwareDateTime()
    version = fields.Integer(
        strict=True, metadata={"description": "Row version, also sent as the ETag."}
    )


class BabySchema(Schema):
    sex = fields.String(required=True, validate=_one_of(Sex))
    weight_g = fields.Integer(
        strict=True, required=True, validate=_range(_LIMITS["birth"]["weight_g"])
    )
    length_cm = fields.Float(required=True, validate=_range(_LIMITS["birth"]["length_cm"]))
    name = fields.String(validate=validate.Length(min=1, max=100))


class BirthSchema(Schema):
    born_at = fields.AwareDateTime(required=True, metadata={"description": "With its offset."})
    ga_weeks = fields.Integer(
        strict=True, required=True, validate=_range(_LIMITS["birth"]["ga_weeks"])
    )
    ga_days = fields.Integer(strict=True, load_default=0, validate=DAYS_OF_WEEK)
    delivery_mode = fields.String(validate=_one_of(DeliveryMode))
    discharged_on = fields.Date(
        metadata={"description": "Discharge from the delivery hospital, if known already."}
    )
    babies = fields.List(
        fields.Nested(BabySchema),
        required=True,
        validate=validate.Length(
            min=_LIMITS["birth"]["babies"]["min"],
            max=_LIMITS["birth"]["babies"]["max"],
            error=_l("Enter from {min} to {max} babies."),
        ),
    )


class EndSchema(Schema):
    kind = fields.String(required=True, validate=_one_of(EndKind))
    ended_on = fields.Date(required=True)
    ga_weeks = fields.Integer(strict=True, validate=_range(_LIMITS["end"]["ga_weeks"]))
    ga_days = fields.Integer(strict=True, validate=DAYS_OF_WEEK)

    @validates_schema
    def _weeks_with_days(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "ga_days" in data and "ga_weeks" not in data:
            raise ValidationError({"ga_weeks": [_l("Give the weeks with the days.")]})


# --- children ---------------------------------------------------------------------------------


class GuardianSchema(Schema):
    user_id = fields.UUID()
    relation = fields.String(metadata={"description": "mother | father | other"})


class ChildSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    sex = fields.String(required=True, validate=_one_of(Sex))
    birth_date = fields.Date(required=True)
    birth_order = fields.Integer(
        strict=True,
        validate=_range(_LIMITS["birth"]["babies"]),
        metadata={"description": "1 for a singleton or the first-born of a multiple birth."},
    )
    birth_weight_g = fields.Integer(
        strict=True, allow_none=True, validate=_range(_LIMITS["birth"]["weight_g"])
    )
    birth_length_cm = fields.Float(allow_none=True, validate=_range(_LIMITS["birth"]["length_cm"]))
    ga_weeks = fields.Integer(
        strict=True,
        allow_none=True,
        load_only=True,
        validate=_range(_LIMITS["birth"]["ga_weeks"]),
        metadata={"description": "Gestational age at birth: completed weeks."},
    )
    ga_days = fields.Integer(strict=True, load_only=True, validate=DAYS_OF_WEEK)
    ga_at_birth = _DaysAsGestationalAge(attribute="ga_at_birth_days")
    relation = fields.String(
        load_only=True,
        validate=_one_of(GuardianRelation),
        metadata={"description": "Your relation to the child (default from your sex)."},
    )
    pregnancy_id = fields.UUID(dump_only=True, allow_none=True)
    guardians = fields.List(fields.Nested(GuardianSchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    version = fields.Integer(strict=True, dump_only=True)

    @validates_schema
    def _weeks_with_days(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "ga_days" in data and data.get("ga_weeks") is None:
            raise ValidationError({"ga_weeks": [_l("Give the weeks with the days.")]})


class ChildPatchSchema(ChildSchema):
    """Any of a child's facts; load it with partial=True."""

    class Meta(Schema.Meta):
        exclude = ("relation",)
