"""Enqueueing jobs with retries and jittered exponential backoff, and the worker that runs them."""

from __future__ import annotations

import math
import random

from flask import current_app
from rq import Queue, Retry, SimpleWorker, get_current_job

from inbox import broker


def backoff_intervals(retries: int, base: float) -> list[int]:
    """Exponential waits with full jitter between half and one and a half of each step, in seconds."""
    return [int(round(base * 2**i * random.uniform(0.5, 1.5))) for i in range(retries)]


def enqueue(function, *args, retries: int | None = None):
    """Queue a job (a module-level function of ids) with the configured retries and job timeout."""
    retry = _retry(retries)
    return broker.queue().enqueue(function, *args, retry=retry, job_timeout=current_app.config["JOB_TIMEOUT"])


def _retry(retries: int | None = None) -> Retry | None:
    config = current_app.config
    retries = config["SEND_MAX_RETRIES"] if retries is None else retries
    return Retry(max=retries, interval=backoff_intervals(retries, config["RETRY_BASE_SECONDS"])) if retries else None


def enqueue_each(function, arguments: list[tuple]) -> list:
    """Queue one job of `function` per tuple of `arguments`, in one Redis round trip (a pipeline), with the
    retries and job timeout of `enqueue`."""
    retry, timeout = _retry(), current_app.config["JOB_TIMEOUT"]
    prepared = [Queue.prepare_data(function, args, timeout=timeout, retry=retry) for args in arguments]
    return broker.queue().enqueue_many(prepared)  # RQ writes them all through one pipeline


def enqueue_in(seconds: float, function, *args):
    """Queue a job to run after a delay (RQ's scheduler, which the worker runs, moves it to the queue)."""
    from datetime import timedelta

    config = current_app.config
    return broker.queue().enqueue_in(timedelta(seconds=seconds), function, *args, job_timeout=config["JOB_TIMEOUT"])


def retries_left() -> int:
    """How many retries the running job has after this attempt (0 outside a job)."""
    job = get_current_job()
    return (job.retries_left or 0) if job is not None else 0


def wait_before_retry(seconds: float | None) -> None:
    """Make the running job's next retry wait at least `seconds` (a platform's Retry-After or reset time)."""
    job = get_current_job()
    if job is None or not seconds or not job.retries_left or not job.retry_intervals:
        return
    index = max(len(job.retry_intervals) - job.retries_left, 0)
    intervals = list(job.retry_intervals)
    if index < len(intervals):
        intervals[index] = max(intervals[index], int(math.ceil(seconds)))
        job.retry_intervals = intervals


class AppWorker(SimpleWorker):
    """An RQ worker whose jobs run in-process inside one Flask app, built when the worker is made.

    In-process rather than forked: a fork per job would cap campaign sends far below the platform rate,
    and the app, its engine and its Socket.IO emitter are built once. RQ still enforces job timeouts."""

    def __init__(self, *args, app, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job, queue, *args, **kwargs):
        # RQ 3 passes the execution along too; forward whatever this RQ version gives.
        with self.app.app_context():
            return super().perform_job(job, queue, *args, **kwargs)
