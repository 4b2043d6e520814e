"""Campaign jobs: expanding the audience, and send loops that work through the recipients at the platform's
pace without ever sending anyone twice.

A recipient is claimed (pending -> sending) and that claim is committed before the platform is called, one
recipient at a time per worker. The platforms take no idempotency key, so a send cut short by a crash (the
request may or may not have reached the platform) cannot be known: a row left `sending` longer than any
send can last is marked `interrupted`, listed, never resent automatically. A worker killed at any moment
therefore leaves at most one interrupted row, and every other recipient is sent exactly once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from campaigns import audience, optout, ratelimit
from connectors import get_connector
from connectors.base import OutboundMessage, SendError
from inbox import broker, jobs
from inbox.channels import account_settings
from inbox.db import session, utcnow
from inbox.models import Campaign, CampaignRecipient
from inbox.rendering import MissingValue, TemplateRefused, render

log = logging.getLogger(__name__)
SLICE_SECONDS = 10.0  # a send job works this long, then queues its successor (pause and cancel take effect)
PROGRESS_SECONDS = 1.0
MAX_ATTEMPTS = 5  # rate-limited sends of one recipient before it is failed
PARALLEL_SENDERS = 2  # send loops per campaign; more workers share the same account rate
FINAL_CODES = {"131047", "131026"}


def csv_path(campaign_id: int) -> Path:
    """Where a campaign's uploaded CSV is kept until its audience is expanded."""
    folder = Path(current_app.config["INSTANCE_DIR"]) / "campaigns"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{campaign_id}.csv"


def stale_after() -> timedelta:
    """How long a send can possibly last (an upload and a send, each within the HTTP timeout, and a margin)."""
    return timedelta(seconds=2 * current_app.config["HTTP_TIMEOUT"] + 30)


# ---------------------------------------------------------------- the audience


def prepare_audience(campaign_id: int) -> None:
    """RQ job: expand the campaign's CSV or filters into recipient rows, in batches; safe to run twice."""
    db = session()
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or campaign.audience_report is not None:
        return
    spec = campaign.audience or {}
    if spec.get("filters") is not None:
        variables = audience.FILTER_VARIABLES
        rows = audience.filter_rows(spec["filters"], campaign.account_id)
        report = audience.expand(campaign, rows, variables, end_batch=db.commit)
    else:
        with csv_path(campaign_id).open(encoding="utf-8-sig", newline="") as stream:
            variables = set(spec.get("columns") or ())
            rows = audience.csv_rows(stream, campaign.account_id)
            report = audience.expand(campaign, rows, variables, end_batch=db.commit)
    campaign = db.get(Campaign, campaign_id)
    campaign.audience_report = report.as_dict()
    db.commit()
    announce_progress(campaign_id)


# ---------------------------------------------------------------- starting and the send loops


def start(campaign: Campaign) -> None:
    """Mark a campaign running and queue its send loops (the caller has committed nothing yet)."""
    campaign.status = "running"
    campaign.started_at = campaign.started_at or utcnow()
    session().commit()
    for _ in range(PARALLEL_SENDERS):
        jobs.enqueue(send_some, campaign.id, retries=0)


def start_scheduled(campaign_id: int) -> None:
    """RQ job (scheduled): start a campaign at its local time, unless it was changed meanwhile."""
    campaign = session().get(Campaign, campaign_id)
    if campaign is not None and campaign.status == "scheduled":
        start(campaign)


def resume_running() -> int:
    """At a worker's start: give every running campaign its send loops again (a crash or a restart may have
    taken them); claims are atomic, so a loop too many only finds nothing to do."""
    running = session().scalars(select(Campaign.id).where(Campaign.status == "running")).all()
    session().commit()
    for campaign_id in running:
        jobs.enqueue(send_some, campaign_id, retries=0)
    return len(running)


def recover_interrupted(campaign_id: int | None = None) -> int:
    """Mark `interrupted` the sends claimed longer ago than any send lasts (their worker died); returns how many."""
    query = (
        update(CampaignRecipient)
        .where(CampaignRecipient.state == "sending", CampaignRecipient.claimed_at < utcnow() - stale_after())
        .values(
            state="interrupted",
            reason="The worker stopped during this send: it may or may not have reached the customer. "
            "It is not sent again by itself; resend it by hand if needed.",
        )
        .execution_options(synchronize_session=False)
    )
    if campaign_id is not None:
        query = query.where(CampaignRecipient.campaign_id == campaign_id)
    count = session().execute(query).rowcount
    session().commit()
    return count


def _claim(campaign_id: int) -> int | None:
    """Take the next pending recipient for this worker (committed at once); its id, or None when none is due."""
    db = session()
    now = utcnow()
    due = (
        select(CampaignRecipient.id)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state == "pending",
            or_(CampaignRecipient.not_before.is_(None), CampaignRecipient.not_before <= now),
        )
        .order_by(CampaignRecipient.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL: workers take different rows; SQLite: BEGIN IMMEDIATE
        .scalar_subquery()
    )
    claimed = db.scalar(
        update(CampaignRecipient)
        .where(CampaignRecipient.id == due, CampaignRecipient.state == "pending")
        .values(state="sending", claimed_at=now, attempts=CampaignRecipient.attempts + 1)
        .returning(CampaignRecipient.id)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    return claimed


def _finish(recipient_id: int, **values) -> None:
    """Record a claimed send's outcome (only while it is still ours: `sending`)."""
    session().execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.id == recipient_id, CampaignRecipient.state == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session().commit()


def send_some(campaign_id: int) -> None:
    """RQ job: send to pending recipients for a slice of time, then queue the next slice or finish."""
    db = session()
    recover_interrupted(campaign_id)
    deadline = time.monotonic() + SLICE_SECONDS
    last_progress = 0.0
    while time.monotonic() < deadline:
        campaign = db.get(Campaign, campaign_id)
        if campaign is None or campaign.status != "running":
            return  # paused or cancelled: resume queues new loops
        recipient_id = _claim(campaign_id)
        if recipient_id is None:
            break
        _send_one(campaign, db.get(CampaignRecipient, recipient_id))
        if time.monotonic() - last_progress > PROGRESS_SECONDS:
            announce_progress(campaign_id, throttled=True)
            last_progress = time.monotonic()
    _next_slice(campaign_id)


def _next_slice(campaign_id: int) -> None:
    db = session()
    counts = state_counts(campaign_id)
    if counts.get("pending"):
        waiting = db.scalar(
            select(func.min(CampaignRecipient.not_before)).where(
                CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.state == "pending"
            )
        )
        db.commit()
        delay = max(0.0, (waiting - utcnow()).total_seconds()) if waiting else 0.0
        if delay > 1:
            jobs.enqueue_in(delay, send_some, campaign_id)
        else:
            jobs.enqueue(send_some, campaign_id, retries=0)
    elif not counts.get("sending"):
        db.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == "running")
            .values(status="done", finished_at=utcnow())
        )
        db.commit()
    announce_progress(campaign_id)


def _send_one(campaign: Campaign, recipient: CampaignRecipient) -> None:
    account = campaign.account
    if optout.is_opted_out(account.platform, recipient.address):  # said stop since the audience was read
        _finish(recipient.id, state="skipped", reason="opted out")
        return
    pair_wait = ratelimit.pair_wait(account.id, recipient.address)
    if pair_wait:
        _finish(recipient.id, state="pending", not_before=utcnow() + timedelta(milliseconds=pair_wait))
        return
    try:
        outbound = _outbound(campaign, recipient)
    except (MissingValue, TemplateRefused) as problem:
        _finish(recipient.id, state="skipped", reason=str(problem))
        return
    while (wait := ratelimit.wait_ms(account.id, campaign.rate_per_second)) > 0:
        time.sleep(min(wait, 1000) / 1000)
    settings = account_settings(account)
    session().commit()  # no transaction held over the platform call
    try:
        result = get_connector(account.platform).send(settings, outbound)
    except SendError as error:
        _failed(campaign, recipient, error)
        return
    ratelimit.mark_pair(account.id, recipient.address)
    _finish(recipient.id, state="sent", external_id=result.external_id, sent_at=utcnow(), reason=None)


def _outbound(campaign: Campaign, recipient: CampaignRecipient) -> OutboundMessage:
    variables = recipient.variables or {}
    if campaign.platform_template:
        template = campaign.platform_template
        values = []
        for column in template.get("parameters") or ():
            if not variables.get(column):
                raise MissingValue(f"Missing for this message: {column}.")
            values.append(variables[column])
        spec = {"name": template["name"], "language": template["language"], "parameters": values}
        return OutboundMessage(to=recipient.address, template=spec, ref=f"campaign:{recipient.id}")
    columns = set(variables) | set((campaign.audience or {}).get("columns") or ()) | audience.FILTER_VARIABLES
    text = render(campaign.text, variables, columns)
    return OutboundMessage(to=recipient.address, text=text, ref=f"campaign:{recipient.id}")


def _failed(campaign: Campaign, recipient: CampaignRecipient, error: SendError) -> None:
    if error.code in FINAL_CODES or not error.retryable:
        _finish(recipient.id, state="failed", error_code=error.code, reason=error.message)
        return
    base = current_app.config["RETRY_BASE_SECONDS"]
    backoff_seconds = error.retry_after or base * 2 ** min(recipient.attempts, 6)
    if error.code in ("130429", "131056") or error.retry_after:
        ratelimit.slow_down(campaign.account_id, backoff_seconds)  # every worker slows down on this number
    if recipient.attempts >= MAX_ATTEMPTS:
        _finish(recipient.id, state="failed", error_code=error.code, reason=error.message)
        return
    backoff = timedelta(seconds=backoff_seconds)
    _finish(recipient.id, state="pending", not_before=utcnow() + backoff, error_code=error.code, reason=error.message)


# ---------------------------------------------------------------- progress


def state_counts(campaign_id: int) -> dict[str, int]:
    """Recipients per state."""
    rows = session().execute(
        select(CampaignRecipient.state, func.count(CampaignRecipient.id))
        .where(CampaignRecipient.campaign_id == campaign_id)
        .group_by(CampaignRecipient.state)
    )
    return {state: count for state, count in rows}


def recent_rate(campaign_id: int, seconds: int = 10) -> float:
    """Sends per second over the last few seconds."""
    since = utcnow() - timedelta(seconds=seconds)
    sent = session().scalar(
        select(func.count(CampaignRecipient.id)).where(
            and_(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.sent_at >= since)
        )
    )
    return round(sent / seconds, 2)


def progress(campaign_id: int) -> dict:
    """Counts by state, the rate now, and the time left at that rate."""
    counts = state_counts(campaign_id)
    rate = recent_rate(campaign_id)
    left = counts.get("pending", 0) + counts.get("sending", 0)
    return {
        "campaign_id": campaign_id,
        "counts": counts,
        "rate_per_second": rate,
        "seconds_left": round(left / rate) if rate else None,
    }


def announce_progress(campaign_id: int, throttled: bool = False) -> None:
    """Emit campaign.progress to the people who follow campaigns; `throttled`: at most once a second per
    campaign, whatever the number of send loops and workers (a state change is always announced)."""
    from inbox.realtime import campaign_event

    try:
        gate = f"campaigns:progress:{campaign_id}"
        if throttled and not broker.connection().set(gate, 1, nx=True, px=int(PROGRESS_SECONDS * 1000)):
            return
        payload = progress(campaign_id)
        campaign = session().get(Campaign, campaign_id)
        payload["status"] = campaign.status if campaign else None
        session().commit()
        campaign_event("campaign.progress", payload)
    except Exception:  # progress is a view: a failure here must never stop the sends
        log.exception("could not announce the progress of campaign %s", campaign_id)
