"""Care schedules in the database, one module per job; this module re-exports their API.

The engine (`engine.plan`) is pure. `subjects` gathers a subject's facts, `sync` applies the
plan, `schedules` reads schedules and derives date statuses, `results` and `risk` record what
the doctor or mother logged, `options` holds opt-ins, `measurements` the home measurements and
`worklists` the doctors' lists. Callers may import the job module directly.
"""

from __future__ import annotations

from backend.care.measurements import (
    measurement_kinds,
    measurements,
    record_measurement,
)
from backend.care.options import (
    set_care_dates,
    set_options,
)
from backend.care.results import (
    log_result,
    mark_not_done,
)
from backend.care.risk import (
    GRADED,
    assess_risk,
    risk_history,
)
from backend.care.schedules import (
    LIST_DETAIL,
    TIME_STATUSES,
    display_status,
    get_step,
    page_version,
    schedule,
    status_clause,
    step_history,
    step_view,
    subjects_of,
)
from backend.care.subjects import (
    Preloaded,
    Subject,
    child_subject,
    latest_risk,
    pregnancy_subject,
    preload,
    subject_facts,
    woman_subject,
)
from backend.care.sync import (
    SyncReport,
    reassign_child_steps,
    resync_all,
    sync,
    sync_child,
    sync_many,
    sync_pregnancy,
    sync_subject_of,
    sync_woman,
)
from backend.care.worklists import (
    SCREENING_CODES,
    SEVERE,
    WORKLIST_HORIZON_DAYS,
    worklist_abnormal,
    worklist_due,
    worklist_high_risk,
    worklist_overdue,
    worklist_ungraded,
)

__all__ = [
    "GRADED",
    "LIST_DETAIL",
    "SCREENING_CODES",
    "SEVERE",
    "TIME_STATUSES",
    "WORKLIST_HORIZON_DAYS",
    "Preloaded",
    "Subject",
    "SyncReport",
    "assess_risk",
    "child_subject",
    "display_status",
    "get_step",
    "latest_risk",
    "log_result",
    "mark_not_done",
    "measurement_kinds",
    "measurements",
    "page_version",
    "pregnancy_subject",
    "preload",
    "reassign_child_steps",
    "record_measurement",
    "resync_all",
    "risk_history",
    "schedule",
    "set_care_dates",
    "set_options",
    "status_clause",
    "step_history",
    "step_view",
    "subject_facts",
    "subjects_of",
    "sync",
    "sync_child",
    "sync_many",
    "sync_pregnancy",
    "sync_subject_of",
    "sync_woman",
    "woman_subject",
    "worklist_abnormal",
    "worklist_due",
    "worklist_high_risk",
    "worklist_overdue",
    "worklist_ungraded",
]
