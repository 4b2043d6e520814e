"""Campaigns under /api/v1/campaigns: create (audience checked first), preview, start, pause, resume, cancel,
progress, recipients, exports; and the suppression list under /api/v1/opt-outs."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import case, distinct, func, select

from campaigns import audience, limits, optout, sending
from connectors import get_connector
from inbox import directory, jobs, media
from inbox.auth import api_user, require_roles
from inbox.db import reading_only, session, utcnow
from inbox.errors import ApiError, get_or_404, json_body
from inbox.models import (
    Campaign,
    CampaignRecipient,
    ChannelAccount,
    ContactIdentity,
    Conversation,
    DeliveryReceipt,
    OptOut,
    StopWord,
)
from inbox.rendering import MissingValue, TemplateRefused, check, render
from inbox.serializers import iso, shown_failure

bp = Blueprint("campaigns", __name__, url_prefix="/api/v1")
ROLES = ("marketing", "admin")  # issue 7: marketing only, and admins
CAMPAIGN_PLATFORMS = ("whatsapp", "facebook", "twitter")  # the channels campaigns are sent on
NAME_MAX = 200
PREVIEW_COUNT = 5


# ---------------------------------------------------------------- creating


def _account(body: dict) -> ChannelAccount:
    db = session()
    if body.get("account_id") is not None:
        account = db.get(ChannelAccount, body["account_id"]) if isinstance(body["account_id"], int) else None
    else:
        channel = body.get("channel")
        if not isinstance(channel, str) or not channel:
            raise ApiError(
                422, "bad_channel", "Say which channel (whatsapp, facebook, twitter) or channel account (account_id)."
            )
        account = db.scalars(
            select(ChannelAccount).where(ChannelAccount.platform == channel).order_by(ChannelAccount.id)
        ).first()
    if account is None:
        raise ApiError(422, "bad_channel", "There is no such channel account.")
    if account.platform not in CAMPAIGN_PLATFORMS:
        raise ApiError(422, "channel_not_supported", "Campaigns are sent on WhatsApp, Messenger and X accounts.")
    return account


def _rate(body: dict, allowed: limits.Limits) -> float:
    cap = allowed.rate
    rate = body.get("rate_per_second", cap)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= cap:
        raise ApiError(
            422,
            "bad_rate",
            "rate_per_second is more than 0 and at most this account's cap, %(cap)s.",
            cap=format(cap, "g"),
        )
    return float(rate)


def _tag(body: dict, allowed: limits.Limits) -> str | None:
    """The message tag a Messenger campaign declares for people outside the 24-hour window (optional)."""
    tag = body.get("tag")
    if tag in (None, ""):
        return None
    if not allowed.tags:
        raise ApiError(422, "bad_tag", "This channel takes no message tag.")
    if tag not in allowed.tags:
        raise ApiError(422, "bad_tag", "tag is one of %(tags)s (or none).", tags=", ".join(allowed.tags))
    return tag


def _schedule(body: dict) -> datetime | None:
    raw = body.get("scheduled_at")
    if raw in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise ApiError(422, "bad_schedule", "scheduled_at is a local time, e.g. 2026-12-03T10:00.") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    if when <= utcnow():
        raise ApiError(422, "bad_schedule", "scheduled_at is in the past.")
    return when


def _message(body: dict, variables: set[str]) -> tuple[str | None, dict | None]:
    text, template = body.get("text"), body.get("template")
    if (text is None) == (template is None):
        raise ApiError(422, "bad_message", "Give either a text or a platform template.")
    if text is not None:
        try:
            check(text, variables)
        except TemplateRefused as refused:
            raise refused.api_error(422, "template_refused") from refused
        return text, None
    if not isinstance(template, dict) or not template.get("name") or not template.get("language"):
        raise ApiError(422, "bad_template", "template is {name, language, parameters: [column, ...]}.")
    parameters = template.get("parameters") or []
    if not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters):
        raise ApiError(422, "bad_template", "template parameters are column names, in the order of {{1}}, {{2}}...")
    unknown = [p for p in parameters if p not in variables]
    if unknown:
        raise ApiError(422, "bad_template", "No column %(unknown)s in the audience.", unknown=", ".join(unknown))
    return None, {"name": str(template["name"]), "language": str(template["language"]), "parameters": parameters}


def _filters(filters: dict) -> dict:
    """The directory filters written as the directory keeps its values (sale -> Salé, Key account -> key_account,
    E-Facture -> e-facture), so that they match; `tags` is a list, every one of which a customer must have."""
    tags = filters.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ApiError(422, "bad_audience", "filters.tags is a list of tags.")
    clean = {k: v for k, v in filters.items() if k != "tags" and v not in (None, "")}
    for name, value in clean.items():
        if not isinstance(value, str):
            raise ApiError(422, "bad_audience", "filters.%(name)s is text.", name=name)
    try:
        if clean.get("zone"):
            clean["zone"] = directory.normalise_zone(clean["zone"])
        if clean.get("segment"):
            clean["segment"] = directory.normalise_segment(clean["segment"])
        if tags:
            clean["tags"] = sorted({directory.normalise_tag(tag) for tag in tags})
    except directory.Invalid as refusal:
        raise refusal.api_error(422, "bad_audience") from refusal
    return clean


def _audience(body: dict) -> tuple[dict, str | None, set[str]]:
    spec = body.get("audience")
    if not isinstance(spec, dict) or (("csv" in spec) == ("filters" in spec)):
        raise ApiError(422, "bad_audience", 'audience is {"csv": "<CSV text>"} or {"filters": {...}}.')
    if "filters" in spec:
        filters = spec["filters"]
        allowed = {"language", "cil_prefix", "zone", "segment", "tags"}
        if not isinstance(filters, dict) or set(filters) - allowed:
            raise ApiError(422, "bad_audience", "filters take %(allowed)s.", allowed=", ".join(sorted(allowed)))
        return {"filters": _filters(filters)}, None, set(audience.FILTER_VARIABLES)
    text = spec["csv"]
    if not isinstance(text, str):
        raise ApiError(422, "bad_audience", "audience.csv is the CSV text.")
    try:
        columns = audience.csv_columns(text)
    except audience.AudienceError as problem:
        raise problem.api_error(422, "bad_audience") from problem
    return {"csv": True, "columns": columns}, text, set(columns)


@bp.post("/campaigns")
@require_roles(*ROLES)
def create():
    """Check a campaign and read its audience in a job (202); GET shows the report and a preview before start."""
    body = json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise ApiError(422, "bad_name", "name is required (at most %(limit)s characters).", limit=NAME_MAX)
    account = _account(body)
    allowed = limits.for_account(account)
    spec, csv_text, variables = _audience(body)
    text, template = _message(body, variables)
    if template is not None and not allowed.templates:
        raise ApiError(422, "bad_template", "This channel has no approved templates: give a text.")
    campaign = Campaign(
        name=name.strip(),
        account_id=account.id,
        status="draft",  # startable once the audience job has written its report
        text=text,
        platform_template=template,
        tag=_tag(body, allowed),
        rate_per_second=_rate(body, allowed),
        audience=spec,
        scheduled_at=_schedule(body),
        created_by_id=api_user().id,
    )
    db = session()
    db.add(campaign)
    db.flush()
    if csv_text is not None:
        sending.csv_path(campaign.id).write_text(csv_text.lstrip("\ufeff"), encoding="utf-8")
    db.commit()
    jobs.enqueue(sending.prepare_audience, campaign.id)
    return jsonify(campaign_json(campaign)), 202


# ---------------------------------------------------------------- reading


def _outcomes(campaign: Campaign) -> dict:
    """Delivered, read, failed (by reason) and replied, from the platform's statuses and the conversations."""
    db = session()
    sent = select(CampaignRecipient.external_id).where(
        CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.external_id.is_not(None)
    )
    receipts = dict(
        db.execute(
            select(DeliveryReceipt.status, func.count(distinct(DeliveryReceipt.external_id)))
            .where(DeliveryReceipt.account_id == campaign.account_id, DeliveryReceipt.external_id.in_(sent))
            .group_by(DeliveryReceipt.status)
        ).all()
    )
    failures = db.execute(
        select(func.coalesce(CampaignRecipient.error_code, "unknown"), func.count(CampaignRecipient.id))
        .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.state == "failed")
        .group_by(CampaignRecipient.error_code)
    ).all()
    replied = db.scalar(select(func.count(Conversation.id)).where(Conversation.campaign_id == campaign.id))
    return {
        "delivered": receipts.get("delivered", 0) + receipts.get("read", 0) - _both(campaign),
        "read": receipts.get("read", 0),
        "failed_by_reason": {code: count for code, count in failures},
        "replied": replied,
    }


def _both(campaign: Campaign) -> int:
    """Messages with both a delivered and a read receipt, counted once as delivered."""
    db = session()
    sent = select(CampaignRecipient.external_id).where(CampaignRecipient.campaign_id == campaign.id)
    delivered = select(DeliveryReceipt.external_id).where(
        DeliveryReceipt.account_id == campaign.account_id,
        DeliveryReceipt.status == "delivered",
        DeliveryReceipt.external_id.in_(sent),
    )
    return db.scalar(
        select(func.count(DeliveryReceipt.id)).where(
            DeliveryReceipt.account_id == campaign.account_id,
            DeliveryReceipt.status == "read",
            DeliveryReceipt.external_id.in_(delivered),
        )
    )


def _preview(campaign: Campaign) -> list[dict]:
    rows = session().scalars(
        select(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.state != "skipped")
        .order_by(CampaignRecipient.id)
        .limit(PREVIEW_COUNT)
    )
    shown = []
    for row in rows:
        if campaign.text:
            columns = set((campaign.audience or {}).get("columns") or audience.FILTER_VARIABLES)
            try:
                text = render(campaign.text, row.variables or {}, columns)
            except MissingValue as missing:
                text = f"[{missing}]"
        else:
            values = [(row.variables or {}).get(p, "?") for p in campaign.platform_template.get("parameters", [])]
            text = f"{campaign.platform_template['name']} ({', '.join(values)})"
        shown.append({"address": row.address, "text": text})
    return shown


def campaign_json(campaign: Campaign, details: bool = False) -> dict:
    data = {
        "id": campaign.id,
        "name": campaign.name,
        "account_id": campaign.account_id,
        "channel": campaign.account.platform if campaign.account else None,
        "status": campaign.status,
        "text": campaign.text,
        "template": campaign.platform_template,
        "tag": campaign.tag,
        "rate_per_second": campaign.rate_per_second,
        "audience": campaign.audience,
        "audience_report": campaign.audience_report,
        "scheduled_at": iso(campaign.scheduled_at),
        "started_at": iso(campaign.started_at),
        "finished_at": iso(campaign.finished_at),
        "created_at": iso(campaign.created_at),
        "file": {k: campaign.file[k] for k in ("filename", "mime_type", "size")} if campaign.file else None,
    }
    if details:
        progress, outcomes = sending.progress(campaign.id), _outcomes(campaign)
        data["counts"] = _counts(progress["counts"], outcomes["delivered"], outcomes["read"])
        data.update(progress=progress, outcomes=outcomes, preview=_preview(campaign))
    return data


def _counts(by_state: dict[str, int], delivered: int, read: int) -> dict[str, int]:
    """The counts a campaign shows, from its recipients per state and its delivered and read messages."""
    return {
        "total": sum(by_state.values()),
        "pending": by_state.get("pending", 0) + by_state.get("sending", 0),
        "sent": by_state.get("sent", 0),
        "delivered": delivered,
        "read": read,
        "failed": by_state.get("failed", 0),
        "skipped": by_state.get("skipped", 0),
        "interrupted": by_state.get("interrupted", 0),
    }


def _list_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """The counts of many campaigns in one grouped query: recipients per state, and among them the messages
    delivered (a delivered or a read receipt) and read, each message counted once."""
    if not campaign_ids:
        return {}
    r, d = CampaignRecipient, DeliveryReceipt
    delivered = func.count(distinct(case((d.status.in_(("delivered", "read")), d.external_id))))
    read = func.count(distinct(case((d.status == "read", d.external_id))))
    rows = session().execute(
        select(r.campaign_id, r.state, func.count(distinct(r.id)), delivered, read)
        .outerjoin(d, (d.account_id == r.account_id) & (d.external_id == r.external_id))
        .where(r.campaign_id.in_(campaign_ids))
        .group_by(r.campaign_id, r.state)
    )
    grouped: dict[int, list] = {campaign_id: [{}, 0, 0] for campaign_id in campaign_ids}
    for campaign_id, state, count, delivered_count, read_count in rows:
        entry = grouped[campaign_id]
        entry[0][state] = count
        entry[1] += delivered_count  # a message has one recipient row, hence one state: the sums count it once
        entry[2] += read_count
    return {campaign_id: _counts(*entry) for campaign_id, entry in grouped.items()}


@bp.get("/campaigns")
@reading_only
@require_roles(*ROLES)
def list_campaigns():
    """Campaigns, newest first, with their counts."""
    campaigns = list(session().scalars(select(Campaign).order_by(Campaign.id.desc()).limit(100)))
    counts = _list_counts([c.id for c in campaigns])
    return jsonify({"items": [{**campaign_json(c), "counts": counts[c.id]} for c in campaigns]})


@bp.get("/campaigns/<int:campaign_id>")
@reading_only
@require_roles(*ROLES)
def get_campaign(campaign_id: int):
    """A campaign with its audience report, progress, outcomes and five rendered messages."""
    return jsonify(campaign_json(get_or_404(Campaign, campaign_id, "campaign"), details=True))


# ---------------------------------------------------------------- control

TRANSITIONS = {
    "start": ("draft",),
    "pause": ("running", "scheduled"),
    "resume": ("paused",),
    "cancel": ("draft", "scheduled", "running", "paused"),
}


@bp.post("/campaigns/<int:campaign_id>/<any(start, pause, resume, cancel):action>")
@require_roles(*ROLES)
def control(campaign_id: int, action: str):
    """Start (now, or at its scheduled local time), pause, resume or cancel a campaign."""
    db = session()
    campaign = db.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise ApiError(404, "not_found", "No campaign %(id)s.", id=campaign_id)
    if campaign.status not in TRANSITIONS[action]:
        raise ApiError(
            409, "bad_state", "A %(status)s campaign cannot %(action)s.", status=campaign.status, action=action
        )
    if action == "start" and campaign.audience_report is None:
        raise ApiError(409, "audience_not_ready", "The audience is still being read; start it in a moment.")
    body = request.get_json(silent=True)
    if action == "start" and isinstance(body, dict) and "scheduled_at" in body:
        campaign.scheduled_at = _schedule(body)  # chosen after the preview: a local time, or null for now
    if action == "start" and campaign.scheduled_at and campaign.scheduled_at > utcnow():
        campaign.status = "scheduled"
        db.commit()
        jobs.enqueue_in((campaign.scheduled_at - utcnow()).total_seconds(), sending.start_scheduled, campaign.id)
    elif action in ("start", "resume"):
        sending.start(campaign)
    else:
        campaign.status = "paused" if action == "pause" else "cancelled"
        if action == "cancel":
            campaign.finished_at = utcnow()
        db.commit()
    sending.announce_progress(campaign.id, force=True)
    return jsonify(campaign_json(campaign, details=True))


# ---------------------------------------------------------------- the file sent with the text


def _draft_for_file(campaign_id: int) -> Campaign:
    campaign = session().get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise ApiError(404, "not_found", "No campaign %(id)s.", id=campaign_id)
    if campaign.status != "draft":
        raise ApiError(409, "bad_state", "The file of a %(status)s campaign cannot change.", status=campaign.status)
    return campaign


@bp.put("/campaigns/<int:campaign_id>/file")
@require_roles(*ROLES)
def put_file(campaign_id: int):
    """Attach a file or image (multipart `file`) to a draft campaign's text, which becomes its caption."""
    campaign = _draft_for_file(campaign_id)
    if not limits.for_account(campaign.account).files:
        raise ApiError(422, "file_not_allowed", "Campaigns on this channel send texts only.")
    if campaign.platform_template is not None:
        raise ApiError(422, "file_not_allowed", "A campaign with an approved template sends no file of its own.")
    limit = get_connector(campaign.account.platform).MAX_CAPTION_LENGTH
    if len(campaign.text or "") > limit:
        raise ApiError(422, "text_too_long", "With a file, the text is a caption of at most %(limit)s characters.",
                       limit=limit)
    if "file" not in request.files:
        raise ApiError(400, "no_file", "Send the file as multipart form data, in a field named file.")
    try:
        upload = media.receive(request.files["file"])
    except media.FileRejected as rejected:
        raise rejected.api_error(rejected.status, rejected.code) from rejected
    campaign.file = asdict(upload)  # mime_type, filename, path (under MEDIA_DIR), sha256, size
    session().commit()
    return jsonify(campaign_json(campaign, details=True))


@bp.delete("/campaigns/<int:campaign_id>/file")
@require_roles(*ROLES)
def delete_file(campaign_id: int):
    """Send the draft campaign's text alone again."""
    campaign = _draft_for_file(campaign_id)
    campaign.file = None
    session().commit()
    return jsonify(campaign_json(campaign, details=True))


# ---------------------------------------------------------------- recipients and exports


def recipient_json(row: CampaignRecipient) -> dict:
    return {
        "id": row.id,
        "address": row.address,
        "contact_id": row.contact_id,
        "variables": row.variables or {},
        "state": row.state,
        "reason": shown_failure(row.error_code, row.reason, sending.RECIPIENT_REASONS),
        "error_code": row.error_code,
        "external_id": row.external_id,
        "sent_at": iso(row.sent_at),
    }


@bp.get("/campaigns/<int:campaign_id>/recipients")
@reading_only
@require_roles(*ROLES)
def recipients(campaign_id: int):
    """A campaign's recipients, by `state` if given, 500 at a time after `after` (an id)."""
    get_or_404(Campaign, campaign_id, "campaign")
    query = select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id)
    if state := request.args.get("state"):
        query = query.where(CampaignRecipient.state == state)
    after = request.args.get("after", "0")
    if not after.isdigit():
        raise ApiError(400, "bad_parameter", "after is a recipient id.")
    rows = list(
        session().scalars(query.where(CampaignRecipient.id > int(after)).order_by(CampaignRecipient.id).limit(500))
    )
    return jsonify(
        {"items": [recipient_json(r) for r in rows], "next_after": rows[-1].id if len(rows) == 500 else None}
    )


@bp.post("/campaigns/<int:campaign_id>/recipients/<int:recipient_id>/resend")
@require_roles(*ROLES)
def resend(campaign_id: int, recipient_id: int):
    """A person decides to send again a send that was interrupted (it may have reached the customer)."""
    db = session()
    row = db.get(CampaignRecipient, recipient_id)
    if row is None or row.campaign_id != campaign_id:
        raise ApiError(404, "not_found", "No recipient %(id)s in this campaign.", id=recipient_id)
    if row.state != "interrupted":
        raise ApiError(409, "bad_state", "Only an interrupted send is sent again by hand.")
    row.state, row.reason, row.not_before = "pending", f"resent by {api_user().name}", None
    campaign = db.get(Campaign, campaign_id)
    restart = campaign.status == "done"
    if restart:
        campaign.status, campaign.finished_at = "running", None
    db.commit()
    if restart or campaign.status == "running":
        jobs.enqueue(sending.send_some, campaign_id)
    return jsonify(recipient_json(row))


EXPORT_COLUMNS = ("address", "state", "reason", "error_code", "external_id", "sent_at", "delivered", "read", "replied")


def _export_rows(campaign: Campaign):
    db = session()
    statuses: dict[str, set] = {}
    for external_id, status in db.execute(
        select(DeliveryReceipt.external_id, DeliveryReceipt.status).where(
            DeliveryReceipt.account_id == campaign.account_id,
            DeliveryReceipt.external_id.in_(
                select(CampaignRecipient.external_id).where(CampaignRecipient.campaign_id == campaign.id)
            ),
        )
    ):
        statuses.setdefault(external_id, set()).add(status)
    replied = set(
        db.scalars(
            select(ContactIdentity.external_id)
            .join(Conversation, Conversation.identity_id == ContactIdentity.id)
            .where(Conversation.campaign_id == campaign.id)
        )
    )
    after = 0
    while True:
        page = list(
            db.scalars(
                select(CampaignRecipient)
                .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.id > after)
                .order_by(CampaignRecipient.id)
                .limit(1000)
            )
        )
        if not page:
            return
        for row in page:
            seen = statuses.get(row.external_id, set())
            yield [
                row.address,
                row.state,
                row.reason or "",
                row.error_code or "",
                row.external_id or "",
                iso(row.sent_at) or "",
                "yes" if seen & {"delivered", "read"} else "",
                "yes" if "read" in seen else "",
                "yes" if row.address in replied else "",
            ]
        after = page[-1].id


@bp.get("/campaigns/<int:campaign_id>/export")
@reading_only
@require_roles(*ROLES)
def export(campaign_id: int):
    """Every recipient with its outcome, as CSV (`format=csv`, the default) or XLSX."""
    campaign = get_or_404(Campaign, campaign_id, "campaign")
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        raise ApiError(400, "bad_parameter", "format is csv or xlsx.")
    filename = f"campaign-{campaign.id}.{kind}"
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(_safe(row) for row in _export_rows(campaign))
        body, mimetype = "\ufeff" + buffer.getvalue(), "text/csv"  # the BOM: Excel reads UTF-8 then
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("recipients")
        sheet.append(EXPORT_COLUMNS)
        for row in _export_rows(campaign):
            sheet.append(_safe(row))
        stream = io.BytesIO()
        book.save(stream)
        body, mimetype = stream.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(row: list) -> list:
    """Cells a spreadsheet would run as formulas (=, +, -, @ first) are kept as text."""
    return [f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value for value in row]


@bp.get("/opt-outs")
@reading_only
@require_roles(*ROLES)
def opt_outs():
    """The suppression list (`format=csv` to export it)."""
    rows = session().scalars(select(OptOut).order_by(OptOut.id))
    items = [
        {
            "platform": r.platform,
            "address": r.address,
            "contact_id": r.contact_id,
            "word": r.word,
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]
    if request.args.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["platform", "address", "contact_id", "word", "created_at"])
        writer.writeheader()
        writer.writerows({k: _safe([v])[0] for k, v in item.items()} for item in items)
        response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="opt-outs.csv"'
        return response
    return jsonify({"items": items})


# ---------------------------------------------------------------- the stop and start words


def stop_word_json(row: StopWord) -> dict:
    return {"id": row.id, "word": row.word, "action": row.action}


@bp.get("/stop-words")
@reading_only
@require_roles(*ROLES)
def stop_words():
    """The messages that, alone, opt their sender out of campaigns (`stop`) or back in (`start`)."""
    rows = session().scalars(select(StopWord).order_by(StopWord.action.desc(), StopWord.word))
    return jsonify({"items": [stop_word_json(row) for row in rows]})


@bp.post("/stop-words")
@require_roles(*ROLES)
def add_stop_word():
    """Add a word, kept as messages are compared with it (lower case, no accents or punctuation)."""
    body = json_body()
    action = body.get("action", "stop")
    if action not in ("stop", "start"):
        raise ApiError(422, "bad_word", "action is stop or start.")
    word = optout.normalise(body.get("word")) if isinstance(body.get("word"), str) else ""
    if not word or len(word) > optout.MAX_WORDS_LENGTH:
        raise ApiError(
            422, "bad_word", "word is a message of 1 to %(limit)s letters, as a customer writes it.",
            limit=optout.MAX_WORDS_LENGTH,
        )
    db = session()
    if db.scalar(select(StopWord.id).where(StopWord.word == word)) is not None:
        raise ApiError(409, "word_exists", "%(word)s is already in the list.", word=word)
    row = StopWord(word=word, action=action)
    db.add(row)
    db.commit()
    return jsonify(stop_word_json(row)), 201


@bp.delete("/stop-words/<int:word_id>")
@require_roles(*ROLES)
def delete_stop_word(word_id: int):
    """Take a word off the list: from now on that message is an ordinary one."""
    session().delete(get_or_404(StopWord, word_id, "stop word"))
    session().commit()
    return "", 204
