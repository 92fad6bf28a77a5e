"""`when:` of a care protocol item and the tests on another step's result, typed: a recursive
model of the condition words, so the JSON Schema shows the whole tree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    StrictBool,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from backend.conditions import COMPARATORS, ORDERED_COMPARATORS
from backend.content.common import Strict, at, offset_of
from backend.content.protocol_fields import (
    CONDITIONS,
    INTERPRETATIONS,
    NUMERIC,
    RISK_COLOURS,
    CodeText,
    Colour,
    Interpretation,
    StepCode,
    one_of,
    optional,
)

# --- comparisons on a step's result fields ---


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number, not {value!r}")
    return value


def _listed(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list")
    return value


Limit = Annotated[
    float | int | str | None, BeforeValidator(lambda v: v if v is None else _number(v))
]


class FieldComparison(Strict):
    """`field:` and one comparator: equals, in (a list), below, at_most, above, at_least."""

    field: StepCode | None = None
    equals: Any = None
    in_: Annotated[list[Any] | None, BeforeValidator(lambda v: v if v is None else _listed(v))] = (
        Field(default=None, alias="in")
    )
    below: Limit = None
    at_most: Limit = None
    above: Limit = None
    at_least: Limit = None

    def comparators(self) -> list[str]:
        """The comparators written (`in` by its file name)."""
        given = self.model_fields_set
        return [op for op in COMPARATORS if ("in_" if op == "in" else op) in given]

    def limit(self, op: str) -> Any:
        return tuple(self.in_ or ()) if op == "in" else getattr(self, op)


class StepTestSpec(FieldComparison):
    """`{step: ..., interpretation: ...}` or `{step: ..., field: ..., <comparator>: ...}`."""

    step: Annotated[
        list[StepCode],
        BeforeValidator(lambda v: _steps(v), json_schema_input_type=CodeText | list[CodeText]),
    ]
    interpretation: Annotated[
        list[Interpretation] | None,
        optional(one_of(INTERPRETATIONS, many=True), Interpretation | list[Interpretation]),
    ] = None

    @model_validator(mode="after")
    def _one_test(self) -> StepTestSpec:
        ops = self.comparators()
        if self.field is not None:
            if self.interpretation is not None:
                raise ValueError("give either interpretation or field, not both")
            if len(ops) != 1:
                raise ValueError(f"a field needs exactly one of {', '.join(COMPARATORS)}")
        elif ops:
            raise at(ops[0], "needs a field to compare")
        return self


def _steps(value: Any) -> Any:
    found = value if isinstance(value, list) else [value]
    if not found:
        raise ValueError("must name at least one step")
    return found


class RuleTest(FieldComparison):
    """The test of an interpretation rule: one comparator on a declared result field."""

    field: StepCode

    @model_validator(mode="after")
    def _one_op(self) -> RuleTest:
        if len(self.comparators()) != 1:
            raise ValueError(f"needs exactly one of {', '.join(COMPARATORS)}")
        return self


def fits(op: str, limit: Any, field_type: str, values: tuple[Any, ...], name: str) -> str | None:
    """Why comparing a field of this type (and enum values) with `op limit` makes no sense."""
    # Here, not at the top: backend.care's package imports the content layer (a cycle).
    from backend.care.protocols import parse_ratio

    if op in ORDERED_COMPARATORS:
        if field_type not in NUMERIC:
            return f"'{op}' needs a number, integer or ratio field; {name} is {field_type}"
        if field_type == "ratio":
            try:
                parse_ratio(limit)
            except (TypeError, ValueError):
                return f"{limit!r} is not a ratio such as 1/270"
        elif isinstance(limit, str):
            return f"must be a number, not {limit!r}"
    wanted = limit if op == "in" else (limit,)
    if op in ("equals", "in"):
        if field_type == "enum":
            for v in wanted:
                if v not in values:
                    return f"{v!r} is not one of {name}'s values {list(values)}"
        elif field_type == "boolean" and not all(isinstance(v, bool) for v in wanted):
            return f"{name} is true/false"
    return None


# --- `when:`: a mapping of condition words; several words must all hold ---


def _gestation(example: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        offset = offset_of(value)
        if offset.months or offset.days <= 0:
            raise ValueError(f"must be a gestational age in weeks and days, such as {example}")
        return value

    return check


def _years(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 60:
        raise ValueError("must be an age in whole years (10 to 60)")
    return value


def _grams(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("must be a weight in grams (a positive whole number)")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r}")
    return value


def _single(message: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("must be a mapping (key: value lines)")
        if len(value) != 1:
            raise ValueError(message)
        return value

    return check


def _conditions(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of conditions")
    return value


class When(Strict):
    """`when:`: each word is one condition; several words in one mapping must all hold."""

    any_of: Annotated[list[When] | None, optional(_conditions)] = None
    all_of: Annotated[list[When] | None, optional(_conditions)] = None
    not_: When | None = Field(default=None, alias="not")
    risk_colour_in: Annotated[
        list[Colour] | None,
        optional(
            one_of(RISK_COLOURS, many=True, empty="must list at least one colour"),
            Colour | list[Colour],
        ),
    ] = None
    preterm: StrictBool | None = None
    ga_at_birth_below: Annotated[str | None, optional(_gestation("32w"))] = None
    enrolled_from_ga: Annotated[str | None, optional(_gestation("13w"))] = None
    mother_age_at_edd_at_least: Annotated[int | None, optional(_years)] = None
    birth_weight_below_g: Annotated[int | None, optional(_grams)] = None
    sex: Literal["female", "male"] | None = None
    born_on_or_after: Annotated[dt.date | None, optional(_date)] = None
    born_before: Annotated[dt.date | None, optional(_date)] = None
    flag: Annotated[
        dict[str, Any] | None,
        optional(_single("must name one flag and its value(s), such as {mother_hbsag: positive}")),
    ] = None
    choice: Annotated[
        dict[str, Any] | None,
        optional(_single("must name one group and its option, such as {JE: JE-I}")),
    ] = None
    done: StepCode | None = None
    result_of: StepTestSpec | None = None
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _words(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> When:
        """Known words only, at least one; the mapping as written is kept (a step's reason)."""
        if isinstance(data, dict):
            if not data:
                raise ValueError("must hold at least one condition")
            for key, word in data.items():
                if key not in CONDITIONS:
                    raise at(str(key), f"unknown condition {key!r}; known: {', '.join(CONDITIONS)}")
                if word is None:
                    raise at(str(key), "must not be empty")
        model: When = handler(data)
        model._raw = dict(data) if isinstance(data, dict) else {}
        return model

    def written(self) -> dict[str, Any]:
        """The mapping as written in the file."""
        return dict(self._raw)

    def words(self) -> list[tuple[str, Any, Any]]:
        """(word, validated value, value as written) in the order of the file."""
        return [(k, getattr(self, "not_" if k == "not" else k), v) for k, v in self._raw.items()]
