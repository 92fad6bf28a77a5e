"""The dispatcher process: an APScheduler BlockingScheduler running every domain's jobs.

`flask --app backend dispatcher` starts it. SIGTERM (or Ctrl-C) stops it gracefully: the stop
flag makes the running batch release what it has not delivered yet, and the scheduler waits for
the job to return before the process exits.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)


def build(app: Flask, *, worker: str, stop: threading.Event) -> BlockingScheduler:
    """A scheduler with the jobs of every domain that has a jobs module."""
    from backend.domains import DOMAINS

    scheduler = BlockingScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(max_workers=2)}
    )
    for domain in DOMAINS:
        try:
            jobs = importlib.import_module(f"{domain.__name__}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name != f"{domain.__name__}.jobs":
                raise
            continue
        jobs.register(scheduler, app, worker=worker, stop=stop)
    return scheduler


def run(app: Flask, *, worker: str) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully."""
    stop = threading.Event()
    scheduler = build(app, worker=worker, stop=stop)

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("dispatcher %s: signal %s, stopping", worker, signum)
        stop.set()  # the running batch releases what it has not delivered
        scheduler.shutdown(wait=True)  # and the scheduler waits for it to return

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("dispatcher %s: started", worker)
    scheduler.start()  # blocks until shutdown
    log.info("dispatcher %s: stopped", worker)
