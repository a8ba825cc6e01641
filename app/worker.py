"""The background worker: drains the mail outbox and runs periodic jobs (the SLA sweep).

`minsheng worker` runs it on its own; `serve` and `demo` run it inside the web process when
MINSHENG_INPROCESS_WORKER is on. Several may run at once against one PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from app.notify import notices
from app.notify.mailer import short_error
from app.notify.worker import DrainResult, OutboxWorker
from app.settings import Settings

log = logging.getLogger("minsheng.worker")

Job = Callable[[], Awaitable[Any]]
PeriodicJob = tuple[float, Job]
POLL_SECONDS = 2.0
SWEEP_SECONDS = 180.0
CLOSED_DEPARTMENTS_SECONDS = 60.0
OPEN_DATA_SECONDS = 600.0
RETRAIN_CHECK_SECONDS = 3600.0
SIMILAR_PRUNE_SECONDS = 3600.0
# 疑似重复: new appeals are compared with the index at every poll, a batch at a time.
SIMILAR_MARK_SECONDS = POLL_SECONDS
ATTACHMENT_PRUNE_SECONDS = 6 * 3600.0
# Hotspots: checked every minute; each slot of hotspots.every_minutes is built once.
HOTSPOTS_CHECK_SECONDS = 60.0


def periodic_jobs(settings: Settings, rules: Any) -> list[PeriodicJob]:
    """The jobs every worker runs, as (interval in seconds, async callable).

    The SLA sweep runs every SWEEP_SECONDS: its marks and notices are exactly-once however
    many workers run it. Given the process's LiveRules (app.services.rules_store), the jobs
    use the database's newest rules, checked every few seconds, and hand back to triage any
    appeal a process routed to a department just deactivated, before it saw the change.
    """
    from app.services import idempotency, model_versions, open_data, similar, throttle
    from app.services.reference_edits import send_back
    from app.services.rules_store import RULES_CHECK_SECONDS, LiveRules
    from app.services.sweep import sweep

    def current():
        return rules.rules if isinstance(rules, LiveRules) else rules

    async def sla_sweep():
        return await sweep(policies=current().policies)

    async def daily_open_data():
        # Today's open data files (/public/data), made once a day by whichever worker or
        # request comes first; a check that finds them there costs a stat().
        found = current().detectors
        return await open_data.ensure_all(settings.var_dir, datetime.now(UTC),
                                          found.stats_min_volume, found.public_min_cell)

    async def scheduled_retrain():
        # The classifier's retraining (routing.yaml retrain:), once per period by one worker.
        policy = current().routing.retrain
        return await model_versions.scheduled_retrain(
            model_versions.model_root(settings.model_dir, settings.var_dir),
            settings.var_dir / "seed-model", policy.every_days, policy.min_examples)

    async def similar_prune():
        # The similarity index keeps the window and a day more (app.services.similar).
        days = current().routing.similar.window_days + 1
        return await similar.prune(datetime.now(UTC) - timedelta(days=days))

    async def similar_marks():
        # Each new appeal's most similar earlier appeal (app.services.similar.mark_pending).
        policy = current().routing.similar
        return await similar.mark_pending(policy)

    async def attachment_prune():
        # Files no row names (an upload whose transaction failed), a day after their write.
        from app.services import attachments

        return await attachments.prune(attachments.Store.of(settings))

    async def hotspot_build():
        # 未诉先办 (app.services.hotspots): one worker builds per slot; 0 minutes is off.
        from app.services import hotspots

        return await hotspots.scheduled(current())

    jobs: list[PeriodicJob] = [(SWEEP_SECONDS, sla_sweep), (OPEN_DATA_SECONDS, daily_open_data),
                               (idempotency.PURGE_SECONDS, idempotency.purge),
                               (throttle.PURGE_SECONDS, throttle.purge),
                               (RETRAIN_CHECK_SECONDS, scheduled_retrain),
                               (SIMILAR_PRUNE_SECONDS, similar_prune),
                               (SIMILAR_MARK_SECONDS, similar_marks),
                               (HOTSPOTS_CHECK_SECONDS, hotspot_build),
                               (ATTACHMENT_PRUNE_SECONDS, attachment_prune)]
    if isinstance(rules, LiveRules):
        async def closed_departments():
            return await send_back(current())

        jobs += [(RULES_CHECK_SECONDS, rules.refresh), (CLOSED_DEPARTMENTS_SECONDS,
                                                        closed_departments)]
    return jobs


async def _run_job(job: Job) -> None:
    name = getattr(job, "__qualname__", repr(job))
    try:
        await job()
    except Exception as exc:  # noqa: BLE001 - one failing job must not stop the worker
        log.error("periodic job %s failed: %s", name, short_error(exc))


async def run_worker(settings: Settings, stop_event: asyncio.Event,
                     periodic_jobs: Sequence[PeriodicJob] = (), *, once: bool = False,
                     poll_seconds: float = POLL_SECONDS,
                     outbox: OutboxWorker | None = None) -> DrainResult:
    """Loop until `stop_event` is set: drain the outbox, run the jobs that are due, sleep.

    With `once`, drain and run every job a single time, then return. Returns what the
    outbox sent (totals over the whole run).
    """
    notices.configure(settings.base_url)
    outbox = outbox or OutboxWorker(settings)
    total = DrainResult()
    next_run = [0.0] * len(periodic_jobs)
    log.info("worker %s started (%d periodic jobs)", outbox.worker_id, len(periodic_jobs))
    while not stop_event.is_set():
        try:
            total.add(await outbox.drain())
        except Exception as exc:  # noqa: BLE001 - e.g. the database is briefly away
            log.error("outbox drain failed: %s", short_error(exc))
        for i, (interval, job) in enumerate(periodic_jobs):
            if stop_event.is_set():
                break
            if time.monotonic() >= next_run[i]:
                await _run_job(job)
                next_run[i] = time.monotonic() + interval
        if once:
            break
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=poll_seconds)
        except TimeoutError:
            pass
    log.info("worker %s stopped", outbox.worker_id)
    return total


class BackgroundWorker:
    """The worker as a task of the web process (started and stopped by the app lifespan)."""

    def __init__(self, settings: Settings, jobs: Sequence[PeriodicJob] = ()):
        self.settings = settings
        self.jobs = list(jobs)
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(run_worker(self.settings, self.stop_event, self.jobs),
                                        name="minsheng-worker")

    async def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self.task is None:
            return
        try:
            await asyncio.wait_for(self.task, timeout=timeout)
        except TimeoutError:
            log.warning("worker did not stop within %.0f s; cancelled", timeout)
        except Exception as exc:  # noqa: BLE001
            log.error("worker ended with %s", short_error(exc))
