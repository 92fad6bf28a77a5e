"""The dispatcher's real scheduler registers every job the code defines.

A job is a function of a domain's jobs module that takes the app (`def job(app, ...)`);
lesson news (`plan_lesson_reminders`) was once written and never scheduled, so no reminder
of a new lesson was ever planned.
"""

from __future__ import annotations

import importlib
import inspect
import threading

from backend import scheduler as dispatcher_process
from backend.domains import DOMAINS


def _defined_jobs() -> set[object]:
    found: set[object] = set()
    for domain in DOMAINS:
        try:
            module = importlib.import_module(f"{domain.__name__}.jobs")
        except ModuleNotFoundError:
            continue
        for name, func in inspect.getmembers(module, inspect.isfunction):
            params = list(inspect.signature(func).parameters)
            if (
                func.__module__ == module.__name__
                and not name.startswith("_")
                and params[:1] == ["app"]
            ):
                found.add(func)
    return found


def test_every_defined_job_is_scheduled(app):
    scheduler = dispatcher_process.build(app, worker="test", stop=threading.Event())
    scheduled = {job.func for job in scheduler.get_jobs()}
    defined = _defined_jobs()
    assert defined, "the domains define jobs"
    assert defined - scheduled == set()


def test_lesson_news_is_planned_hourly(app):
    from backend.reminders import jobs

    scheduler = dispatcher_process.build(app, worker="test", stop=threading.Event())
    (job,) = [j for j in scheduler.get_jobs() if j.func is jobs.plan_lesson_reminders]
    assert job.trigger.interval.total_seconds() == 3600
