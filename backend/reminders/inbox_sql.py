"""A batch for the inbox in one PostgreSQL statement: claim, check, render, record.

One round trip per batch and no reminder row travelling to Python: the ids are picked FOR
UPDATE SKIP LOCKED (a materialized CTE on the (status, next_attempt_at) index), joined with
her account, preferences, the step or regimen and the day's check-in; the still-needed check
(backend/reminders/needed.py, the same rule) is a CASE over that join; the message is rendered
with format() and to_char() from the templates of the batch's (kind, locale) and the step names
of the protocol version in force, passed as two small JSON parameters (backend/reminders/
rendering.py); data-modifying CTEs then insert the inbox rows (ON CONFLICT (reminder_id) DO
NOTHING: shown once), their deliveries, the escalations, and set every status in one UPDATE.

What the statement does not decide it leaves locked and returns the ids of: reminders that also
go through the gateway (a webhook is set and one of her channels is usable: SMS with a phone or
mini-program with an openid and a template, her latest consent for it a grant, the same test
as gateway.usable_channels), and any kind or locale without a SQL template.
backend/reminders/recording.py takes those in the same transaction, so a crash rolls the whole
batch back and another dispatcher takes it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from backend.reminders.context import Context
from backend.reminders.preferences import DEFAULT_CHANNELS
from backend.reminders.rendering import sql_templates, step_names

STATEMENT = """
WITH picked AS MATERIALIZED (
    SELECT id FROM reminders
    WHERE status = 'pending' AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), templates AS (
    SELECT * FROM json_to_recordset(%(templates)s::json)
        AS t (kind text, locale text, title text, body text, date_format text)
), names AS (
    SELECT * FROM json_to_recordset(%(names)s::json)
        AS n (code text, valid_from date, valid_until date, locale text, name text)
), base AS MATERIALIZED (
    SELECT r.id, r.recipient_id, r.kind, r.source_type, r.source_id, r.params, r.attempts,
           CASE WHEN lower(replace(coalesce(nullif(u.locale, ''), %(locale)s), '-', '_'))
                     LIKE 'zh%%' THEN 'zh_CN'
                WHEN lower(replace(coalesce(nullif(u.locale, ''), %(locale)s), '-', '_'))
                     LIKE 'en%%' THEN 'en'
                ELSE coalesce(nullif(u.locale, ''), %(locale)s) END AS locale,
           timezone(coalesce(nullif(u.timezone, ''), %(tz)s), %(now)s)::date AS today,
           u.phone, u.miniprogram_openid AS openid,
           coalesce(p.channels::jsonb, %(channels)s::jsonb) AS channels,
           coalesce(p.opted_out::jsonb, '[]'::jsonb) AS opted_out,
           s.id AS step_id, s.state, s.code, s.opens_on, s.due_on, s.closes_on,
           s.subject_kind, s.subject_id,
           g.status AS regimen_status, g.starts_on, g.ends_on,
           (r.params ->> 'day')::date AS day
    FROM picked
    JOIN reminders r ON r.id = picked.id
    JOIN users u ON u.id = r.recipient_id
    LEFT JOIN reminder_preferences p ON p.user_id = r.recipient_id
    LEFT JOIN care_steps s ON r.source_type = 'care_step' AND s.id = r.source_id
    LEFT JOIN regimens g ON r.source_type = 'regimen' AND g.id = r.source_id
), checked AS (
    SELECT b.*,
           CASE WHEN b.kind <> 'step_escalation' AND b.opted_out ? b.kind THEN false
                WHEN b.source_type = 'care_step' THEN coalesce(
                    b.state = 'pending'
                    AND (b.kind = 'step_escalation' OR b.today <= b.closes_on), false)
                WHEN b.source_type = 'regimen' THEN coalesce(
                    b.regimen_status = 'active' AND b.day >= b.starts_on
                    AND (b.ends_on IS NULL OR b.day <= b.ends_on)
                    AND NOT EXISTS (
                        SELECT 1 FROM regimen_check_ins c
                        WHERE c.regimen_id = b.source_id AND c."on" = b.day AND c.taken
                    ), false)
                ELSE true END AS needed,
           t.title AS title_format, t.body AS body_format, t.date_format, n.name
    FROM base b
    LEFT JOIN templates t ON t.kind = b.kind AND t.locale = b.locale
    LEFT JOIN names n ON n.code = b.code AND n.locale = b.locale
                     AND b.opens_on >= n.valid_from AND b.opens_on < n.valid_until
), decided AS MATERIALIZED (
    SELECT c.*,
           CASE WHEN NOT c.needed THEN 'cancel'
                WHEN c.kind = 'step_escalation' THEN 'escalate'
                WHEN %(external)s AND EXISTS (
                    SELECT 1 FROM jsonb_array_elements_text(c.channels) AS ch (name)
                    WHERE ((ch.name = 'sms' AND coalesce(c.phone, '') <> '')
                           OR (ch.name = 'miniprogram' AND coalesce(c.openid, '') <> ''
                               AND c.kind = ANY(%(mp_kinds)s::text[])))
                      AND (SELECT k.granted FROM consents k
                           WHERE k.user_id = c.recipient_id AND k.purpose = 'reminders'
                             AND k.channel = ch.name
                           ORDER BY k.at DESC, k.id DESC LIMIT 1)) THEN 'python'
                WHEN c.title_format IS NULL THEN 'python'
                WHEN c.step_id IS NOT NULL AND c.name IS NOT NULL THEN 'inbox'
                WHEN c.step_id IS NULL AND c.kind = 'regimen_daily' THEN 'inbox'
                ELSE 'python' END AS route
    FROM checked c
), rendered AS (
    SELECT d.id, d.recipient_id, d.kind, d.locale,
           left(format(d.title_format, d.name, to_char(d.opens_on, d.date_format),
                       to_char(d.due_on, d.date_format), to_char(d.closes_on, d.date_format)),
                200) AS title,
           left(format(d.body_format, d.name, to_char(d.opens_on, d.date_format),
                       to_char(d.due_on, d.date_format), to_char(d.closes_on, d.date_format)),
                1000) AS body,
           CASE WHEN d.step_id IS NULL THEN d.params
                ELSE (d.params::jsonb || jsonb_build_object(
                    'step_id', d.step_id::text, 'subject_kind', d.subject_kind,
                    'subject_id', d.subject_id::text))::json END AS data
    FROM decided d
    WHERE d.route = 'inbox'
), escalated AS (
    INSERT INTO escalations (id, step_id, person_id, created_at)
    SELECT gen_random_uuid(), source_id, recipient_id, %(now)s FROM decided
    WHERE route = 'escalate'
    ON CONFLICT (step_id) DO NOTHING
), shown AS (
    INSERT INTO notifications (id, user_id, reminder_id, kind, title, body, locale, data,
                               created_at)
    SELECT gen_random_uuid(), recipient_id, id, kind, title, body, locale, data, %(now)s
    FROM rendered
    ON CONFLICT (reminder_id) DO NOTHING
    RETURNING reminder_id
), recorded AS (
    INSERT INTO reminder_deliveries (id, reminder_id, attempt, channel, ok, detail, worker, at)
    SELECT gen_random_uuid(), s.reminder_id, d.attempts + 1, 'inbox', true, NULL, %(worker)s,
           %(now)s
    FROM shown s JOIN decided d ON d.id = s.reminder_id
), marked AS (
    UPDATE reminders r SET
        status = CASE WHEN d.route = 'cancel' THEN 'cancelled' ELSE 'delivered' END,
        attempts = r.attempts + CASE WHEN d.route = 'cancel' THEN 0 ELSE 1 END,
        updated_at = %(now)s,
        claimed_by = NULL,
        lease_until = NULL,
        last_error = CASE WHEN d.route = 'cancel' THEN r.last_error END,
        delivered_at = CASE WHEN d.route = 'cancel' THEN r.delivered_at ELSE %(now)s END,
        channel = CASE WHEN d.route = 'cancel' THEN r.channel
                       WHEN d.route = 'escalate' THEN 'worklist' ELSE 'inbox' END,
        effect_deadline = CASE WHEN d.route = 'cancel' THEN r.effect_deadline
                               WHEN d.source_type = 'care_step' THEN d.today + %(window)s::int
                          END
    FROM decided d
    WHERE r.id = d.id AND d.route IN ('cancel', 'escalate', 'inbox')
    RETURNING d.route
)
SELECT (SELECT count(*) FROM decided),
       (SELECT count(*) FROM marked WHERE route = 'cancel'),
       (SELECT count(*) FROM marked WHERE route <> 'cancel'),
       (SELECT array_agg(id) FROM decided WHERE route = 'python')
"""


@dataclass
class Outcome:
    """What the statement did, and the claimed reminders it left to Python (still locked)."""

    claimed: int
    cancelled: int
    delivered: int
    left: list[uuid.UUID]


def _parameters(ctx: Context) -> dict[str, object]:
    """The batch-independent parameters: templates, step names, defaults (built once)."""
    # One JSON text each, dumped once per run: sent as is with every batch (arrays of
    # hundreds of names would be escaped again by the driver for every batch).
    templates = [
        dict(zip(("kind", "locale", "title", "body", "date_format"), t, strict=True))
        for t in sql_templates()
    ]
    names = [
        {
            "code": code,
            "valid_from": start.isoformat(),
            "valid_until": until.isoformat(),
            "locale": locale,
            "name": name,
        }
        for code, start, until, locale, name in step_names(ctx.protocols)
    ]
    return {
        "templates": json.dumps(templates, ensure_ascii=False),
        "names": json.dumps(names, ensure_ascii=False),
        "locale": ctx.default_locale,
        "tz": ctx.default_tz,
        "channels": json.dumps(DEFAULT_CHANNELS),
        "external": bool(ctx.webhook_url),
        "mp_kinds": sorted(k for k, v in ctx.rules.miniprogram_templates.items() if v),
        "window": ctx.rules.effect_window_days,
        "limit": ctx.batch_size,
    }


_cache: dict[int, tuple[Context, dict[str, object]]] = {}


def parameters(ctx: Context) -> dict[str, object]:
    cached = _cache.get(id(ctx))
    if cached is None or cached[0] is not ctx:
        cached = (ctx, _parameters(ctx))
        _cache.clear()
        _cache[id(ctx)] = cached
    return cached[1]


def claim_and_deliver(session: Session, *, worker: str, ctx: Context, now: dt.datetime) -> Outcome:
    """Run the statement for one batch (its transaction stays open for the caller)."""
    params = {**parameters(ctx), "now": now, "worker": worker}
    row = session.connection().exec_driver_sql(STATEMENT, params).one()
    return Outcome(int(row[0]), int(row[1]), int(row[2]), list(row[3] or []))
