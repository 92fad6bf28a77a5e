"""The clinical review of content/: every item that carries `verified`, its sign-off, and a sheet.

Software cannot verify a guideline; this module makes a clinician's review fast and traceable.
It walks every clinical file (protocols, contraception, benefits, regimens, dating, definitions)
as the content layer validated it (the app's loaded content, or `content.load_kinds` on a
folder: each file has matched its model first), finds each mapping with a `verified` key — a
schedule item, an interpretation rule, a part, a WHO MEC row, a leave rule, a folic-acid tier...
— and:

- `problems()` refuses, at start-up, a `verified: true` without its sign-off (`verified_by`,
  `verified_on`, `verified_in: {document, page}`) and any verified item whose source is memory
  (`M`, `M!`): "verified" means a named clinician checked it against a named page;
- `review_rows()` lists every item in plain words for the review sheet (`flask --app backend
  content review`), as CSV and as a printable HTML page.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.content.files import CONTENT_DIR, FILE_KINDS, LoadedContent, load_kinds
from backend.content.yamlfile import ContentFileError

# The clinical files; lessons are reviewed through the editorial workflow, and reminders.yaml,
# measurements.yaml, life_stages.yaml and indicators/ hold product choices, not clinical rules.
CLINICAL_DIRS = ("protocols/", "contraception/", "benefits/", "regimens/", "dating/")
CLINICAL_KINDS = [kind.name for kind in FILE_KINDS if kind.path.startswith(CLINICAL_DIRS)]
MEMORY_IDS = frozenset({"M", "M!"})
COLUMNS = (
    "file",
    "code",
    "kind",
    "says",
    "source_ids",
    "source_title",
    "verified",
    "verified_by",
    "verified_on",
    "verified_in",
    "note",
    "used_by",
)


class ContentReviewError(ContentFileError):
    """A sign-off is missing or impossible; the message names the file, the item and the field."""


@dataclass(frozen=True)
class ReviewItem:
    """One clinical item as a reviewer sees it."""

    file: str
    code: str
    kind: str
    says: str
    source_ids: tuple[str, ...]
    source_title: str
    verified: bool
    verified_by: str | None
    verified_on: str | None
    verified_in: str | None
    note: str | None
    used_by: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def from_memory(self) -> bool:
        """Its source (own or inherited) includes memory: it cannot be verified."""
        return any(i.split(":")[-1] in MEMORY_IDS for i in self.source_ids)

    def row(self) -> dict[str, str]:
        """The item as one line of the review sheet."""
        return {
            "file": self.file,
            "code": self.code,
            "kind": self.kind,
            "says": self.says,
            "source_ids": " ".join(self.source_ids),
            "source_title": self.source_title,
            "verified": "yes" if self.verified else "no",
            "verified_by": self.verified_by or "",
            "verified_on": self.verified_on or "",
            "verified_in": self.verified_in or "",
            "note": " ".join((self.note or "").split()),
            "used_by": self.used_by,
        }


# --- reading the files ---------------------------------------------------------------------------


def _documents(content: LoadedContent) -> list[tuple[str, Any]]:
    """(path under content/, data as validated) of every clinical file, in path order; the data
    keeps the YAML as written (aliases shared, dates and offsets as typed) for the sheet."""
    found: list[tuple[Path, Any]] = []
    for kind in FILE_KINDS:
        if kind.name not in CLINICAL_KINDS:
            continue
        data = content.data[kind.name]
        if kind.many:
            found += [(Path(path), one) for path, one in data.items()]
        else:
            found.append((content.directory / kind.path, data))
    root = content.directory
    return [(path.relative_to(root).as_posix(), data) for path, data in sorted(found)]


def _source(value: Any) -> tuple[tuple[str, ...], str] | None:
    if not isinstance(value, Mapping):
        return None
    ids = value.get("ids") or ()
    return tuple(str(i) for i in ids), str(value.get("title") or "")


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("en") or value.get("zh_CN") or "")
    return "" if value is None else str(value)


def _compact(value: Any) -> str:
    """A condition or a small mapping in one line (dates and offsets as written)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return str(value)


def _says(data: Mapping[str, Any]) -> str:
    """What the item says in plain words: its name, window, population, dose or category."""
    parts: list[str] = []
    name = _text(data.get("title") or data.get("name"))
    if name:
        parts.append(name)
    if "window" in data:
        window = data["window"] or {}
        anchor = data.get("anchor")
        parts.append(
            f"window {window.get('opens')} to {window.get('closes')}"
            + (f" (due {window['due']})" if window.get("due") is not None else "")
            + (f" from {_compact(anchor)}" if anchor is not None else "")
        )
    if "when" in data and data.get("then") is not None:
        parts.append(f"if {_compact(data['when'])} then {data['then']}")
    elif "when" in data:
        parts.append(f"for {_compact(data['when'])}")
    for key in ("categories", "days", "days_per_year", "hours_per_working_day", "value"):
        if data.get(key) is not None:
            parts.append(f"{key.replace('_', ' ')}: {_compact(data[key])}")
    for key in ("lead_days", "time_limit_hours", "yuan_per_year", "at_ga", "ga_weeks"):
        if data.get(key) is not None:
            parts.append(f"{key.replace('_', ' ')}: {_compact(data[key])}")
    dose = _text(data.get("dose"))
    if dose:
        parts.append(dose)
    return "; ".join(parts) or "(see note)"


def _kind(file: str, path: Sequence[str | int], data: Mapping[str, Any]) -> str:
    keys = [k for k in path if isinstance(k, str)]
    if "interpretation" in keys:
        return "interpretation rule"
    if "parts" in keys:
        return "part of a step"
    if file.startswith("protocols/"):
        return "definition" if "definitions" in keys else "schedule step"
    if file.startswith("contraception/"):
        if "conditions" in keys:
            return "eligibility row"
        return {"services": "free service", "predicates": "named condition"}.get(
            keys[0] if keys else "", "contraception rule"
        )
    if file.startswith("benefits/"):
        return "benefit rule" if "rules" in keys else "benefit table"
    if file.startswith("regimens/"):
        return "folic-acid rule"
    return "dating rule"


def _used_by(file: str, kind: str, code: str, refs: Mapping[str, list[str]]) -> str:
    """What depends on the item: where families and doctors meet it, and items that follow it."""
    base = {
        "schedule step": "schedules (/me/schedule, worklists, reminders)",
        "interpretation rule": "result interpretation (abnormal results add follow-ups)",
        "part of a step": "the doctor's checklist of the step",
        "definition": "every window that depends on it",
        "eligibility row": "contraception advice (/me/contraception)",
        "free service": "contraception advice (/me/contraception)",
        "named condition": "contraception advice (/me/contraception)",
        "contraception rule": "contraception advice and IUD follow-up",
        "benefit rule": "family benefits (/me/benefits)",
        "benefit table": "family benefits (/me/benefits)",
        "folic-acid rule": "the folic-acid regimen and its reminders",
        "dating rule": "pregnancy dating (EDD, gestational age)",
    }[kind]
    followers = refs.get(code.split("/")[0], []) if kind == "schedule step" else []
    return base + (f"; followed by {', '.join(sorted(set(followers)))}" if followers else "")


def _step_refs(data: Any, owner: str | None, found: dict[str, list[str]]) -> None:
    """Which schedule items name which steps (anchors, conditions, intervals)."""
    if isinstance(data, Mapping):
        code = data.get("code") if isinstance(data.get("code"), str) else owner
        for key, value in data.items():
            if key in ("step", "done", "after") and code is not None:
                for target in value if isinstance(value, list) else [value]:
                    if isinstance(target, str) and target != code:
                        found.setdefault(target, []).append(code)
            _step_refs(value, code, found)
    elif isinstance(data, list):
        for value in data:
            _step_refs(value, owner, found)


def _walk(
    data: Any,
    path: tuple[str | int, ...],
    code: str,
    source: tuple[tuple[str, ...], str] | None,
) -> Iterator[tuple[tuple[str | int, ...], str, Mapping[str, Any], tuple[tuple[str, ...], str]]]:
    """Every mapping with `verified`, with its code and its effective (nearest) source."""
    if isinstance(data, Mapping):
        own = _source(data.get("source"))
        here = own or source or ((), "")
        label = data.get("code") or data.get("id")
        if isinstance(label, str) and label:
            in_part = len(path) >= 2 and path[-2] == "parts"
            code = f"{code}/parts/{label}" if in_part and code else label
        if "verified" in data:
            yield path, code, data, here
        for key, value in data.items():
            if key in ("source", "title", "why", "name", "where", "text", "texts", "dose"):
                continue
            sub = code
            if not isinstance(value, Mapping | list) or key in ("items", "rules", "conditions"):
                pass
            elif isinstance(value, Mapping) and "verified" in value and "code" not in value:
                sub = f"{code}/{key}" if code else str(key)
            yield from _walk(value, (*path, key), sub, here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            sub = code
            if (
                isinstance(value, Mapping)
                and "verified" in value
                and not (value.get("code") or value.get("id"))
            ):
                sub = f"{code}/{path[-1]}[{index}]" if path else f"[{index}]"
            yield from _walk(value, (*path, index), sub, source)


def _date_text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _verified_in(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return f"{value.get('document', '')}, p. {value.get('page', '')}".strip(", ")
    return str(value)


def collect(content: LoadedContent | str | Path = CONTENT_DIR) -> list[ReviewItem]:
    """Every clinical item of the validated content files (the app's, or those of a folder,
    validated here: ContentFileError if one is broken), in file order."""
    if not isinstance(content, LoadedContent):
        content = load_kinds(content, CLINICAL_KINDS)
    items: list[ReviewItem] = []
    loaded = _documents(content)
    refs: dict[str, list[str]] = {}
    for rel, data in loaded:
        if rel.startswith("protocols/"):
            _step_refs(data, None, refs)
    for rel, data in loaded:
        file_source = _source(data.get("source")) if isinstance(data, Mapping) else None
        defaults = data.get("defaults") if isinstance(data, Mapping) else None
        if isinstance(defaults, Mapping) and _source(defaults.get("source")):
            file_source = _source(defaults.get("source"))
        top_code = ""
        if isinstance(data, Mapping):
            top_code = str(data.get("programme") or data.get("table") or data.get("id") or "")
        shared: dict[int, list[str]] = {}
        found = list(_walk(data, (), top_code, file_source))
        for _, code, entry, _ in found:
            shared.setdefault(id(entry), []).append(code.split("/")[0])
        seen: set[int] = set()
        for where, code, entry, (ids, title) in found:
            if id(entry) in seen:
                continue  # a YAML alias (&rules / *rules) repeats one rule: review it once
            seen.add(id(entry))
            kind = _kind(rel, where, entry)
            also = sorted(set(shared[id(entry)]) - {code.split("/")[0]})
            used_by = _used_by(rel, kind, code, refs)
            if also:
                used_by += f"; also used by {', '.join(also)}"
            items.append(
                ReviewItem(
                    file=rel,
                    code=code or "(file)",
                    kind=kind,
                    says=_says(entry),
                    source_ids=ids,
                    source_title=title,
                    verified=entry.get("verified") is True,
                    verified_by=entry.get("verified_by"),
                    verified_on=_date_text(entry.get("verified_on")),
                    verified_in=_verified_in(entry.get("verified_in")),
                    note=entry.get("note") if isinstance(entry.get("note"), str) else None,
                    used_by=used_by,
                    raw=entry,
                )
            )
    return items


# --- the sign-off rules -------------------------------------------------------------------------


def _signoff_problems(item: ReviewItem) -> list[str]:
    where = f"content/{item.file}: item {item.code}"
    raw = item.raw
    found: list[str] = []
    if not isinstance(raw.get("verified_by"), str) or not raw["verified_by"].strip():
        found.append(f"{where}: field verified_by: required when verified is true (who signed)")
    if not isinstance(raw.get("verified_on"), dt.date):
        found.append(f"{where}: field verified_on: required when verified is true (a date)")
    signed_in = raw.get("verified_in")
    if (
        not isinstance(signed_in, Mapping)
        or not str(signed_in.get("document") or "").strip()
        or not str(signed_in.get("page") or "").strip()
    ):
        found.append(
            f"{where}: field verified_in: required when verified is true "
            "({document: ..., page: ...} of the text it was checked against)"
        )
    if item.from_memory:
        found.append(
            f"{where}: field verified: cannot be true: the source ids "
            f"{list(item.source_ids)} include memory (M); cite the document checked"
        )
    return found


def problems(items: Sequence[ReviewItem]) -> list[str]:
    """Every refused sign-off: verified without who/when/where, or verified from memory."""
    found: list[str] = []
    for item in items:
        if item.verified:
            found += _signoff_problems(item)
        elif any(item.raw.get(k) is not None for k in ("verified_by", "verified_on")):
            found.append(
                f"content/{item.file}: item {item.code}: field verified: a sign-off is recorded "
                "but verified is false; set it to true or remove the sign-off"
            )
    return found


def validate(content: LoadedContent | str | Path = CONTENT_DIR) -> list[ReviewItem]:
    """Start-up check of every sign-off; ContentReviewError naming each problem."""
    items = collect(content)
    found = problems(items)
    if found:
        raise ContentReviewError(found)
    return items


# --- the review sheet ---------------------------------------------------------------------------


def review_rows(
    items: Sequence[ReviewItem], *, unverified_only: bool = False
) -> list[dict[str, str]]:
    """The sheet's rows, unverified ones only when asked."""
    return [i.row() for i in items if not (unverified_only and i.verified)]


def write_csv(rows: Sequence[Mapping[str, str]], out: io.TextIOBase | Any) -> None:
    """The sheet as CSV (UTF-8, one header line), for a spreadsheet."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)


def render_html(rows: Sequence[Mapping[str, str]], *, generated_on: dt.date) -> str:
    """The sheet as a printable HTML page, with a sign-off box per item."""
    total = len(rows)
    unverified = sum(1 for r in rows if r["verified"] != "yes")
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in COLUMNS)
    body = []
    for row in rows:
        cells = "".join(f"<td>{html.escape(row[c])}</td>" for c in COLUMNS)
        body.append(f'<tr class="{"ok" if row["verified"] == "yes" else "todo"}">{cells}</tr>')
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>Clinical content review sheet</title><style>"
        "body{font:11px sans-serif;margin:1cm}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #888;padding:3px;vertical-align:top}"
        "th{background:#eee}tr.todo td:nth-child(7){font-weight:bold;color:#a00}"
        "thead{display:table-header-group}tr{page-break-inside:avoid}"
        "@page{size:A4 landscape;margin:1cm}</style></head><body>"
        "<h1>Clinical content review sheet</h1>"
        f"<p>Generated {generated_on.isoformat()} from content/: {total} items, "
        f"{unverified} not verified. To sign an item off, the reviewer writes into its file "
        "<code>verified: true</code>, <code>verified_by</code>, <code>verified_on</code> and "
        "<code>verified_in: {document, page}</code>; the app refuses to start otherwise, and "
        "refuses any item whose source is memory (M).</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>\n"
    )
