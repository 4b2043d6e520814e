"""Campaign jobs: expanding the audience, and send loops that work through the recipients at the platform's
pace without ever sending anyone twice.

A recipient is claimed (pending -> sending) and that claim is committed before the platform is called, one
recipient at a time per send loop, and a worker runs one loop at a time. The platforms take no idempotency
key, so a send cut short by a crash (the request may or may not have reached the platform) cannot be known: a
row left `sending` longer than any send can last (CAMPAIGN_STALE_SECONDS) is marked `interrupted`, listed,
never resent automatically; so is a send whose answer never came (a read timeout, a connection cut after the
request went). A worker killed at any moment therefore leaves at most one interrupted row, and every other
recipient is sent exactly once.

Each send costs one write transaction: the outcome of the previous send and the claim of the next are
committed together (a crash between them leaves the previous row `sending`, i.e. interrupted, and the next
one pending: still one ambiguous row). The statements are built once and run on the session's connection,
outside the ORM's unit of work (bench/README.md, "Campaigns": where the time per send went).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import requests
from flask import current_app
from sqlalchemy import bindparam, case, func, or_, select, update

from campaigns import audience, limits, ratelimit
from connectors import get_connector
from connectors.base import N_, AccountSettings, OutboundFile, OutboundMessage, SendError
from inbox import broker, jobs
from inbox.channels import account_settings
from inbox.db import reading, session, utcnow, write_turn
from inbox.media import media_root
from inbox.models import Campaign, CampaignRecipient, ContactIdentity, Conversation, OptOut
from inbox.rendering import MISSING, MissingValue, TemplateRefused, render

log = logging.getLogger(__name__)
SLICE_SECONDS = 10.0  # a send job works this long, then queues its successor
STATUS_SECONDS = 1.0  # how often a loop reads its campaign's status again (pause and cancel take effect)
IDLE_SECONDS = 0.25  # a loop with nothing due now looks again after this long
PROGRESS_SECONDS = 1.0  # campaign.progress at most this often per campaign, whatever the number of loops
MAX_ATTEMPTS = 5  # rate-limited sends of one recipient before it is failed
HOLD_SECONDS = 1.0  # a claimed row waits this long at most for the account (slow-down) or the person (pair rule)
FINAL_CODES = {"131047", "131026"}
UPLOAD_KEPT_SECONDS = 29 * 24 * 3600  # Meta keeps an uploaded media id 30 days
OPTED_OUT = audience.OPTED_OUT
INTERRUPTED = N_(
    "The worker stopped during this send: it may or may not have reached the customer. "
    "It is not sent again by itself; resend it by hand if needed."
)
DAILY_CAP = N_("The account's cap of %(cap)s sends in 24 hours was reached: sent from %(when)s (UTC).")
NO_ANSWER = N_(
    "The platform did not answer this send (%(code)s): it may or may not have reached the customer. "
    "It is not sent again by itself; resend it by hand if needed."
)
# The reasons a recipient row may keep (stored in English, shown in the reader's language).
RECIPIENT_REASONS = (INTERRUPTED, DAILY_CAP, NO_ANSWER, *audience.REASONS)


def csv_path(campaign_id: int) -> Path:
    """Where a campaign's uploaded CSV is kept until its audience is expanded."""
    folder = Path(current_app.config["INSTANCE_DIR"]) / "campaigns"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{campaign_id}.csv"


def stale_after() -> timedelta:
    """How long a claimed send can possibly last (CAMPAIGN_STALE_SECONDS: by default an upload and a send,
    each within the HTTP timeout, and a margin for a database busy with other writers)."""
    return timedelta(seconds=current_app.config["CAMPAIGN_STALE_SECONDS"])


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
        rows = audience.filter_rows(spec["filters"], campaign.account_id)  # contacts with an identity there
        report = audience.expand(campaign, rows, variables, end_batch=db.commit)
    else:
        with csv_path(campaign_id).open(encoding="utf-8-sig", newline="") as stream:
            variables = set(spec.get("columns") or ())
            rows = audience.csv_rows(stream, campaign.account)
            report = audience.expand(campaign, rows, variables, end_batch=db.commit)
    campaign = db.get(Campaign, campaign_id)
    campaign.audience_report = report.as_dict()
    db.commit()
    announce_progress(campaign_id, force=True)


# ---------------------------------------------------------------- starting


def start(campaign: Campaign) -> None:
    """Mark a campaign running and queue its send loops (the caller has committed nothing yet)."""
    campaign.status = "running"
    campaign.started_at = campaign.started_at or utcnow()
    session().commit()
    jobs.enqueue_each(send_some, [(campaign.id,)] * current_app.config["CAMPAIGN_SENDERS"])


def start_scheduled(campaign_id: int) -> None:
    """RQ job (scheduled): start a campaign at its local time, unless it was changed meanwhile."""
    campaign = session().get(Campaign, campaign_id)
    if campaign is not None and campaign.status == "scheduled":
        start(campaign)


def resume_running() -> int:
    """At a worker's start: give every running campaign a send loop again (a crash or a restart may have
    taken one); claims are atomic, so a loop too many only shares the work."""
    running = session().scalars(select(Campaign.id).where(Campaign.status == "running")).all()
    session().commit()
    jobs.enqueue_each(send_some, [(campaign_id,) for campaign_id in running])
    return len(running)


def recover_interrupted(campaign_id: int | None = None) -> int:
    """Mark `interrupted` the sends claimed longer ago than any send lasts (their worker died); returns how many."""
    query = (
        update(CampaignRecipient)
        .where(CampaignRecipient.state == "sending", CampaignRecipient.claimed_at < utcnow() - stale_after())
        .values(state="interrupted", reason=INTERRUPTED)
        .execution_options(synchronize_session=False)
    )
    if campaign_id is not None:
        query = query.where(CampaignRecipient.campaign_id == campaign_id)
    with write_turn(session().get_bind()):
        count = session().execute(query).rowcount
        session().commit()
    return count


# ---------------------------------------------------------------- the statements of a send loop

_R = CampaignRecipient
_DUE = (
    select(_R.id)
    .where(
        _R.campaign_id == bindparam("p_campaign"),
        _R.state == "pending",
        or_(_R.not_before.is_(None), _R.not_before <= bindparam("p_now")),
    )
    .order_by(_R.id)
    .limit(1)
    .with_for_update(skip_locked=True)  # PostgreSQL: workers take different rows; SQLite: BEGIN IMMEDIATE
    .scalar_subquery()
)
# The claim skips a person who said stop since the audience was read, in the same statement (the suppression
# list is read under the claim's lock): the row is recorded `skipped` with its reason and the loop claims again.
_STOPPED = select(OptOut.id).where(OptOut.platform == bindparam("p_platform"), OptOut.address == _R.address).exists()
_CLAIM = (
    update(_R)
    .where(_R.id == _DUE, _R.state == "pending")
    .values(
        state=case((_STOPPED, "skipped"), else_="sending"),
        reason=case((_STOPPED, OPTED_OUT), else_=_R.reason),
        error_code=case((_STOPPED, None), else_=_R.error_code),
        not_before=case((_STOPPED, None), else_=_R.not_before),
        claimed_at=bindparam("p_now"),
        attempts=_R.attempts + 1,
    )
    .returning(_R.id, _R.address, _R.variables, _R.attempts, _R.state)
)
# An outcome is recorded only on the claim it belongs to (id and attempt): never over a later claim of the row.
# A row already marked interrupted because its send outlasted CAMPAIGN_STALE_SECONDS gets its real outcome.
_OURS = (_R.id == bindparam("p_id"), _R.attempts == bindparam("p_claim"), _R.state.in_(("sending", "interrupted")))
_OUTCOME = (
    update(_R)
    .where(*_OURS)
    .values(
        state=bindparam("v_state"),
        reason=bindparam("v_reason"),
        error_code=bindparam("v_error_code"),
        external_id=bindparam("v_external_id"),
        sent_at=bindparam("v_sent_at"),
        not_before=bindparam("v_not_before"),
    )
)
# Put back untried (the account slowed down, or the person's six seconds): the claim does not count as an attempt.
_RELEASE = (
    update(_R).where(*_OURS).values(state="pending", not_before=bindparam("v_not_before"), attempts=_R.attempts - 1)
)
_RELEASE_WHY = _RELEASE.values(reason=bindparam("v_reason"))  # put back for a reason shown meanwhile (a daily cap)
# The rest of the campaign waits too (the account's daily cap): one statement, not a claim and release per row.
_DEFER = (
    update(_R)
    .where(
        _R.campaign_id == bindparam("p_campaign"),
        _R.state == "pending",
        or_(_R.not_before.is_(None), _R.not_before < bindparam("v_not_before")),
    )
    .values(not_before=bindparam("v_not_before"), reason=bindparam("v_reason"))
)
# When the person last wrote to the account (platforms whose campaign sends depend on the reply window).
_LAST_INBOUND = (
    select(func.max(Conversation.last_inbound_at))
    .join(ContactIdentity, Conversation.identity_id == ContactIdentity.id)
    .where(ContactIdentity.account_id == bindparam("p_account"), ContactIdentity.external_id == bindparam("p_address"))
)
_STATUS = select(Campaign.status).where(Campaign.id == bindparam("p_campaign"))
_LEFT = (
    select(_R.state, func.count(), func.min(_R.not_before), func.min(_R.claimed_at))
    .where(_R.campaign_id == bindparam("p_campaign"), _R.state.in_(("pending", "sending")))
    .group_by(_R.state)
)


@dataclass
class Claimed:
    """A recipient this loop holds (`sending`); `claim` is its attempt number, the claim's identity."""

    id: int
    address: str
    variables: dict
    claim: int
    last_inbound_at: datetime | None = None


@dataclass
class Outcome:
    """What became of a claimed send, recorded with the next claim."""

    recipient_id: int
    claim: int
    state: str
    reason: str | None = None
    error_code: str | None = None
    external_id: str | None = None
    sent_at: object = None
    not_before: object = None
    release: bool = False

    def record(self, connection) -> None:
        keys = {"p_id": self.recipient_id, "p_claim": self.claim, "v_not_before": self.not_before}
        if self.release:
            if self.reason:
                connection.execute(_RELEASE_WHY, {**keys, "v_reason": self.reason})
            else:
                connection.execute(_RELEASE, keys)
            return
        connection.execute(
            _OUTCOME,
            {
                **keys,
                "v_state": self.state,
                "v_reason": self.reason,
                "v_error_code": self.error_code,
                "v_external_id": self.external_id,
                "v_sent_at": self.sent_at,
            },
        )


@dataclass
class Sender:
    """What a send loop needs of its campaign, read once per slice."""

    campaign_id: int
    account_id: int
    platform: str
    settings: AccountSettings
    rate: float
    text: str | None
    template: dict | None
    columns: frozenset
    hold_seconds: float
    tag: str | None = None
    window: bool = False  # the connector decides on the person's last message (Messenger's 24 hours)
    daily_cap: int | None = None
    file: OutboundFile | None = None  # with the platform's id (`_uploaded_file`): uploaded once for the campaign

    @classmethod
    def load(cls, campaign: Campaign) -> Sender:
        account = campaign.account
        columns = set((campaign.audience or {}).get("columns") or ()) | audience.FILTER_VARIABLES
        allowed = limits.for_account(account)
        return cls(
            campaign_id=campaign.id,
            account_id=account.id,
            platform=account.platform,
            settings=account_settings(account),
            rate=min(campaign.rate_per_second, allowed.rate),  # an account's cap lowered since creation holds
            text=campaign.text,
            template=campaign.platform_template,
            columns=frozenset(columns),
            hold_seconds=current_app.config["CAMPAIGN_STALE_SECONDS"],
            tag=campaign.tag,
            window=allowed.window,
            daily_cap=allowed.daily_cap,
        )


def _uploaded_file(campaign: Campaign) -> OutboundFile:
    """The campaign's file as the platform knows it: uploaded by the first loop that needs it, its id shared with
    the others through Redis for as long as the platform keeps it (two loops starting together may both upload:
    harmless). A failed upload raises SendError: the job fails and RQ tries it again later."""
    stored = campaign.file
    file = OutboundFile(str(media_root() / stored["path"]), stored["mime_type"], stored["filename"])
    key = f"campaigns:file:{campaign.id}:{stored['sha256']}"
    cached = broker.connection().get(key)
    if cached is not None:
        return replace(file, platform_id=cached.decode())
    platform_id = get_connector(campaign.account.platform).upload(account_settings(campaign.account), file)
    broker.connection().set(key, platform_id, ex=UPLOAD_KEPT_SECONDS)
    return replace(file, platform_id=platform_id)


def _claim_next(
    connection, sender: Sender, outcome: Outcome | None, check_status: bool = False
) -> tuple[Claimed | None, bool]:
    """Record the previous outcome and take the next due recipient, in one committed transaction on the loop's
    connection; returns the claim and whether the campaign still runs (read in the same transaction when
    `check_status`, so that the status check costs no write transaction of its own: nothing is claimed for a
    paused or cancelled campaign). Recipients who said stop since the audience was read are skipped on the way
    (the claim's own statement reads the suppression list and records them `skipped`)."""
    with write_turn(connection.engine), connection.begin():
        if outcome is not None:
            outcome.record(connection)
        if check_status and connection.scalar(_STATUS, {"p_campaign": sender.campaign_id}) != "running":
            return None, False
        return _claim_due(connection, sender), True


def _claim_due(connection, sender: Sender) -> Claimed | None:
    keys = {"p_campaign": sender.campaign_id, "p_platform": sender.platform}
    while True:
        row = connection.execute(_CLAIM, {**keys, "p_now": utcnow()}).first()
        if row is None:
            return None
        if row.state == "sending":  # else skipped by the claim (opted out): the next one
            claimed = Claimed(row.id, row.address, row.variables or {}, row.attempts)
            if sender.window:
                where = {"p_account": sender.account_id, "p_address": row.address}
                claimed.last_inbound_at = connection.scalar(_LAST_INBOUND, where)
            return claimed


def _flush(connection, outcome: Outcome | None) -> None:
    if outcome is None:
        return
    with write_turn(connection.engine), connection.begin():
        outcome.record(connection)


@dataclass
class Left:
    """What remains of a campaign: pending rows (and when the first is due), rows in flight (and the oldest claim)."""

    pending: int = 0
    due: datetime | None = None
    sending: int = 0
    oldest_claim: datetime | None = None


def _left(campaign_id: int) -> Left:
    db = session()
    left = Left()
    with write_turn(db.get_bind()):
        rows = db.connection().execute(_LEFT, {"p_campaign": campaign_id}).all()
        db.commit()
    for state, count, not_before, claimed_at in rows:
        if state == "pending":
            left.pending, left.due = count, not_before
        else:
            left.sending, left.oldest_claim = count, claimed_at
    return left


# ---------------------------------------------------------------- the send loop


def send_some(campaign_id: int) -> None:
    """RQ job: send to due recipients for a slice of time, then queue the next slice or finish the campaign."""
    db = session()
    with write_turn(db.get_bind()):
        campaign = db.get(Campaign, campaign_id)
        sender = Sender.load(campaign) if campaign is not None and campaign.status == "running" else None
        db.commit()
    if sender is None:
        return  # paused or cancelled: resume queues new loops
    if campaign.file:  # the platform is called outside the write turn: an upload may take seconds
        sender.file = _uploaded_file(campaign)
    recover_interrupted(campaign_id)
    with db.get_bind().connect() as connection:  # the loop's own: no pool checkout, ping or reset per send
        running = _send_slice(connection, sender)
    if running:
        _next_slice(campaign_id)


def _send_slice(connection, sender: Sender) -> bool:
    """Claim and send one recipient after another for SLICE_SECONDS; returns whether the campaign still runs."""
    campaign_id = sender.campaign_id
    # Loops started together would end their slices together, and all count what is left at the same moment.
    deadline = time.monotonic() + SLICE_SECONDS * random.uniform(0.75, 1.25)
    checked = progressed = time.monotonic()
    outcome: Outcome | None = None
    told: ratelimit.Sent | None = None  # the last send, told to Redis with the next take (one round trip less)
    try:
        while time.monotonic() < deadline:
            check = time.monotonic() - checked >= STATUS_SECONDS
            claimed, running = _claim_next(connection, sender, outcome, check)
            outcome = None
            if not running:
                return False
            if check:
                checked = time.monotonic()
            if claimed is None:
                ratelimit.flush(told)
                told = None
                left = _left(campaign_id)
                if not left.pending:
                    break  # what is left is in flight (here or in a dead worker): _next_slice sees to it
                if left.due and (left.due - utcnow()).total_seconds() > SLICE_SECONDS:
                    break  # all deferred (a daily cap, a long Retry-After): _next_slice queues the loop for then
                time.sleep(IDLE_SECONDS)  # retries due a little later (a rate limit, the pair rule)
                continue
            outcome, told = _send_one(sender, claimed, told)
            if time.monotonic() - progressed >= PROGRESS_SECONDS:
                announce_progress(campaign_id)
                progressed = time.monotonic()
    finally:
        try:
            ratelimit.flush(told)
        finally:
            _flush(connection, outcome)
    return True


def _next_slice(campaign_id: int) -> None:
    """Queue the loop's next slice while recipients are pending; when only sends in flight are left, look again
    once the oldest could be declared interrupted; when nothing is left, the campaign is done."""
    left = _left(campaign_id)
    if left.pending:
        delay = max(0.0, (left.due - utcnow()).total_seconds()) if left.due else 0.0
        if delay > SLICE_SECONDS:
            jobs.enqueue_in(delay, send_some, campaign_id)  # a long Retry-After: free the worker meanwhile
        else:
            jobs.enqueue(send_some, campaign_id)
    elif left.sending:
        stale_at = left.oldest_claim + stale_after()
        jobs.enqueue_in(max(1.0, (stale_at - utcnow()).total_seconds() + 1), send_some, campaign_id)
    else:
        db = session()
        with write_turn(db.get_bind()):
            db.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id, Campaign.status == "running")
                .values(status="done", finished_at=utcnow())
            )
            db.commit()
    # While recipients are pending the loops announce as they go; a count per slice end, forced, would be one
    # more scan of the campaign under the write lock per loop.
    announce_progress(campaign_id, force=not left.pending)


def _send_one(
    sender: Sender, claimed: Claimed, told: ratelimit.Sent | None = None
) -> tuple[Outcome, ratelimit.Sent | None]:
    """Send one claimed message at the account's pace; returns what became of it (not yet recorded) and, when
    it reached the person, the send still to tell Redis (`told`, the previous one, goes with the first take)."""
    outcome = _send_claimed(sender, claimed, told)
    if outcome.state == "sent":
        return outcome, ratelimit.Sent(sender.account_id, claimed.address, sender.campaign_id, int(time.time()))
    return outcome, None


def _send_claimed(sender: Sender, claimed: Claimed, told: ratelimit.Sent | None) -> Outcome:
    connector = get_connector(sender.platform)
    if sender.window:  # decided at the send, not when the audience was read: the window may close meanwhile
        refusal = connector.campaign_refusal(claimed.last_inbound_at, utcnow(), sender.tag)
        if refusal:
            ratelimit.flush(told)
            return Outcome(claimed.id, claimed.claim, "skipped", reason=refusal)
    try:
        outbound = _outbound(sender, claimed)
    except (MissingValue, TemplateRefused) as problem:
        ratelimit.flush(told)
        return Outcome(claimed.id, claimed.claim, "skipped", reason=str(problem))
    slot = ratelimit.take(sender.account_id, claimed.address, sender.rate, sender.hold_seconds, told)
    while slot.kind == "slowed" and slot.wait <= HOLD_SECONDS:
        time.sleep(slot.wait)
        slot = ratelimit.take(sender.account_id, claimed.address, sender.rate, sender.hold_seconds)
    slot = ratelimit.send_at_slot(slot, sender.account_id, claimed.address, sender.rate, sender.hold_seconds)
    if slot.kind != "go":  # slowed down for long, or the person received a message moments ago: later
        return Outcome(
            claimed.id, claimed.claim, "pending", not_before=utcnow() + timedelta(seconds=slot.wait), release=True
        )
    if sender.daily_cap:
        wait = ratelimit.take_daily(sender.account_id, sender.daily_cap)
        if wait:
            return _defer(sender, claimed, wait)
    try:
        result = connector.send(sender.settings, outbound)
    except SendError as error:
        return _failed(sender, claimed, error)
    return Outcome(claimed.id, claimed.claim, "sent", external_id=result.external_id, sent_at=utcnow())


def _defer(sender: Sender, claimed: Claimed, wait: float) -> Outcome:
    """The account's daily cap is reached: this send and the campaign's other pending ones wait until a place
    frees (the campaign stays running; each row says why it waits)."""
    ratelimit.release_pair(sender.account_id, claimed.address)  # not sent: the person's window is free
    until = utcnow() + timedelta(seconds=wait)
    reason = DAILY_CAP % {"cap": sender.daily_cap, "when": until.strftime("%Y-%m-%d %H:%M")}
    db = session()
    with write_turn(db.get_bind()):
        db.connection().execute(_DEFER, {"p_campaign": sender.campaign_id, "v_not_before": until, "v_reason": reason})
        db.commit()
    return Outcome(claimed.id, claimed.claim, "pending", reason=reason, not_before=until, release=True)


def _outbound(sender: Sender, claimed: Claimed) -> OutboundMessage:
    variables = claimed.variables
    ref = f"campaign:{claimed.id}"
    first = {"proactive": True, "tag": sender.tag, "last_inbound_at": claimed.last_inbound_at}
    if sender.template:
        values = []
        for column in sender.template.get("parameters") or ():
            if not variables.get(column):
                raise MissingValue(MISSING, values=column)
            values.append(variables[column])
        spec = {"name": sender.template["name"], "language": sender.template["language"], "parameters": values}
        return OutboundMessage(to=claimed.address, template=spec, ref=ref, **first)
    columns = sender.columns if variables.keys() <= sender.columns else sender.columns | set(variables)
    text = render(sender.text, variables, columns)
    return OutboundMessage(to=claimed.address, text=text, file=sender.file, ref=ref, **first)


def _unanswered(error: SendError) -> bool:
    """Whether the request may have reached the platform although no answer came (a read timeout, a connection
    cut after the request was written): resending could deliver the message twice."""
    cause = error.__cause__
    if isinstance(cause, requests.ConnectTimeout):
        return False  # never connected: nothing was sent
    if isinstance(cause, requests.ConnectionError):
        reason = cause.args[0] if cause.args else None
        return "NewConnectionError" not in type(getattr(reason, "reason", reason)).__name__
    return isinstance(cause, requests.Timeout)


def _failed(sender: Sender, claimed: Claimed, error: SendError) -> Outcome:
    if _unanswered(error):
        return Outcome(
            claimed.id, claimed.claim, "interrupted", reason=NO_ANSWER % {"code": error.code}, error_code=error.code
        )
    ratelimit.release_pair(sender.account_id, claimed.address)  # refused: the person received nothing
    if error.code in FINAL_CODES or not error.retryable:
        return Outcome(claimed.id, claimed.claim, "failed", error_code=error.code, reason=error.message)
    base = current_app.config["RETRY_BASE_SECONDS"]
    backoff_seconds = error.retry_after or base * 2 ** min(claimed.claim, 6)
    if error.rate_limited or error.retry_after:
        ratelimit.slow_down(sender.account_id, backoff_seconds)  # every worker slows down on this account
    if claimed.claim >= MAX_ATTEMPTS:
        return Outcome(claimed.id, claimed.claim, "failed", error_code=error.code, reason=error.message)
    return Outcome(
        claimed.id,
        claimed.claim,
        "pending",
        not_before=utcnow() + timedelta(seconds=backoff_seconds),
        error_code=error.code,
        reason=error.message,
    )


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
    """Sends per second over the last few seconds (counted in Redis as they are made)."""
    return ratelimit.recent_rate(campaign_id, seconds)


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


def announce_progress(campaign_id: int, force: bool = False) -> None:
    """Emit campaign.progress to the people who follow campaigns: at most once per PROGRESS_SECONDS per
    campaign across all loops and workers (counting 100,000 rows per send would cost more than the send),
    unless `force`d (a change of status, the end of a slice)."""
    from inbox.realtime import campaign_event

    try:
        key = f"campaigns:progress:{campaign_id}"
        if not broker.connection().set(key, 1, nx=not force, px=int(PROGRESS_SECONDS * 1000)):
            return
        with reading():  # counting a campaign's rows must not hold the write lock the send loops queue for
            payload = progress(campaign_id)
            payload["status"] = session().scalar(_STATUS, {"p_campaign": campaign_id})
        campaign_event("campaign.progress", payload)
    except Exception:  # progress is a view: a failure here must never stop the sends
        log.exception("could not announce the progress of campaign %s", campaign_id)
