"""Turn a pydantic ValidationError into lines that name the file, the item and the field.

`<file>: field followup.checks[1].closes: <message>`, or, for a file whose lists hold named
items (`Items`), `<file>: rule NAT-MAT-BASE: field days: <message>`. The messages of the common
mistakes are the ones an editor reads in the other loaders ("must be a whole number", "must be
one of a, b, not 'c'"); the rest are pydantic's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

VALUE_ERROR = "Value error, "
_AT = re.compile(r"^(?:Value error, )?@([^@]+)@ (.*)$", re.S)


@dataclass(frozen=True)
class Items:
    """A list of named items in a file: `rules` holds each `rule`, named by its `id`
    (or `#n` where it has none or its id is the mistake)."""

    noun: str
    key: str | None = None


def _choices(expected: str) -> str:
    """ "'a', 'b' or 'c'" → "a, b, c"."""
    return ", ".join(part.strip().strip("'") for part in re.split(r",| or ", expected))


def message(error: ErrorDetails) -> str:
    """The editor's words for the common mistakes; pydantic's for the rest."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    words = {
        "missing": "required",
        "extra_forbidden": "unknown field",
        "bool_type": "must be true or false",
        "int_type": f"must be a whole number, not {value!r}",
        "int_from_float": f"must be a whole number, not {value!r}",
        "date_type": f"must be a date written YYYY-MM-DD, not {value!r}",
        "date_from_datetime_inexact": f"must be a date written YYYY-MM-DD, not {value!r}",
        "string_type": f"must be text, not {value!r}",
        "string_too_short": "must be non-empty text",
        "list_type": "must be a list",
        "dict_type": "must be a mapping (key: value lines)",
        "model_type": "must be a mapping (key: value lines)",
        "model_attributes_type": "must be a mapping (key: value lines)",
    }
    if kind == "missing" and error["loc"] and error["loc"][-1] in ("zh_CN", "en"):
        return "required (text in both zh_CN and en)"
    if kind in words:
        return words[kind]
    if kind == "too_short" and isinstance(value, list):
        return "must be a non-empty list"
    if kind == "literal_error":
        return f"must be one of {_choices(str(ctx.get('expected', '')))}, not {value!r}"
    if kind == "union_tag_invalid":
        return (
            f"must be one of {_choices(str(ctx.get('expected_tags', '')))}, not {ctx.get('tag')!r}"
        )
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, not {value!r}"
    return str(error["msg"]).removeprefix(VALUE_ERROR)


def _is_index(part: Any, node: Any) -> bool:
    return isinstance(node, list) and (isinstance(part, int) or str(part).isdigit())


def _fields(loc: list[Any], data: Any) -> list[Any]:
    """The location without the tags of tagged unions (`kind: maternity` is not a field)."""
    kept, node = [], data
    for part in loc:
        if _is_index(part, node):
            index = int(part)
            node = node[index] if index < len(node) else None
        elif isinstance(node, dict) and part not in node and part in node.values():
            continue
        else:
            node = node.get(part) if isinstance(node, dict) else None
        kept.append(part)
    return kept


def _walk(loc: list[Any], data: Any, by_code: bool) -> str:
    """'tiers[2].lead_days' ('tiers[2] (high).lead_days' naming list items by their code)."""
    text, node = "", data
    for part in loc:
        if _is_index(part, node):
            index = int(part)
            node = node[index] if index < len(node) else None
            code = node.get("code") if isinstance(node, dict) else None
            named = by_code and isinstance(code, str)
            text += f"[{index}]" + (f" ({code})" if named else "")
        else:
            node = node.get(part) if isinstance(node, dict) else None
            text += f".{part}" if text else str(part)
    return text


def problems(
    label: str,
    exc: ValidationError,
    data: Any,
    *,
    by_code: bool = False,
    items: Mapping[str, Items] | None = None,
    tags: tuple[str, ...] = (),
    one_per_item: bool = False,
) -> list[str]:
    """One line per problem: '<file>: [<item>: ]field <path>: <message>' (`one_per_item`: only
    the first problem of each named item, as an editor fixes them one at a time)."""
    lines, seen = [], set()
    for error in exc.errors():
        loc, text = list(error["loc"]), message(error)
        if loc and loc[0] in tags:  # the branch a function chose, not a key of the file
            loc = loc[1:]
        # A tag starting with '=' names the shape a function chose (one value or a list).
        loc = [part for part in loc if not (isinstance(part, str) and part.startswith("="))]
        if one_per_item and len(loc) > 1 and str(loc[0]) in (items or {}):
            if (loc[0], loc[1]) in seen:
                continue
            seen.add((loc[0], loc[1]))
        found = _AT.match(text)
        if found:  # a check of a whole item, reported against one of its fields
            loc += found.group(1).split(".")
            text = found.group(2)
        if error["type"] == "union_tag_invalid":
            loc.append(str(error.get("ctx", {}).get("discriminator", "kind")).strip("'"))
        line = _line(label, _fields(loc, data), data, text, by_code, items or {}, bool(found))
        lines.append(line)
    return lines


def _line(
    label: str,
    loc: list[Any],
    data: Any,
    text: str,
    by_code: bool,
    items: Mapping[str, Items],
    checked: bool,
) -> str:
    """The line of one problem; an item is named by its key unless the key is the mistake
    (`checked`: a check of the whole item, such as a code used twice, still names it)."""
    spec = items.get(str(loc[0])) if loc else None
    listed = data.get(loc[0]) if isinstance(data, dict) and loc else None
    if (
        spec is None
        or len(loc) < 2
        or not isinstance(listed, list)
        or not _is_index(loc[1], listed)
    ):
        return f"{label}: field {_walk(loc, data, by_code) or '(file)'}: {text}"
    index = int(loc[1])
    item = listed[index] if index < len(listed) else None
    rest = _walk(loc[2:], item, by_code)
    name = item.get(spec.key) if spec.key and isinstance(item, dict) else None
    if not isinstance(name, str) or (rest == spec.key and not checked):
        name = f"#{index + 1}"
    return f"{label}: {spec.noun} {name}: field {rest or '(item)'}: {text}"
