"""An audit row in words: what was done to her record, and why that person could do it.

The access log answers "who viewed or changed my record, when and why" (谁看过我的档案) for her
and for her doctor. The audit row holds the facts (action, record type, the actor's role); the
words are data here, so a new record type is one line, not a branch.
"""

from __future__ import annotations

from backend.i18n import _l

# What each audited record type is called in the log; an unknown type shows its own name.
RECORD_NAMES = {
    "Handbook": _l("the handbook"),
    "AccessLog": _l("the access log"),
    "Pregnancy": _l("a pregnancy"),
    "Child": _l("a child's record"),
    "CareStep": _l("a check-up step"),
    "Regimen": _l("a supplement regimen"),
    "ContraceptionFacts": _l("contraception facts"),
    "MethodRecord": _l("a contraception method"),
    "BirthDefect": _l("a birth defect report"),
    "PrenatalDiagnosis": _l("a prenatal diagnosis"),
}

ACTION_WORDS = {
    "read": _l("Viewed %(record)s"),
    "write": _l("Changed %(record)s"),
    "export": _l("Exported %(record)s"),
}

# Why the policy let this role in (backend/auth/policy.py): the basis of the access.
REASONS = {
    "doctor": _l("Care: she is registered (建册) at this doctor's institution"),
    "citizen": _l("Sharing: she granted this partner access"),
}


def what(action: str, record_type: str) -> str:
    """'Viewed the handbook', 'Changed a check-up step', ..."""
    record = RECORD_NAMES.get(record_type, record_type)
    template = ACTION_WORDS.get(action)
    return str(template % {"record": record}) if template else f"{action} {record}"


def why(actor_role: str) -> str | None:
    """The basis on which this role could reach her record (None when none is known)."""
    reason = REASONS.get(actor_role)
    return str(reason) if reason is not None else None
