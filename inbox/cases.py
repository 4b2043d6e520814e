"""Qualification, cases and claims: the rules, case numbers, follow-ups, escalation and reply proposals.

A service: it adds and changes rows in the request's session and never commits (STYLE.md 9)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, or_, select, true, update

from connectors.base import PRIVATE_REPLY
from inbox import sla
from inbox.access import sees_everything, team_ids, visible_conversations
from inbox.catalogue import ref_json
from inbox.db import insert_ignoring_conflicts, session, utcnow
from inbox.errors import ApiError
from inbox.models import (
    REQUEST_TYPES,
    Case,
    CaseCounter,
    CatalogueItem,
    Conversation,
    Message,
    Notification,
    ReplyProposal,
    User,
)
from inbox.serializers import iso, user_json
from inbox.timeline import record

CASE_REQUEST_TYPES = ("claim", "request")
# The one-click "send the case number" texts, by contact language (issue 5 makes templates editable).
CASE_NUMBER_TEXTS = {
    "fr": "Votre demande est enregistrée sous le numéro {number}. Gardez-le pour suivre son traitement.",
    "ar": "تم تسجيل طلبكم تحت رقم {number}. احتفظوا به باش تتبعو الملف ديالكم.",
    "en": "Your request is registered under number {number}. Keep it to follow its progress.",
}
FIELDS = ("request_type", "family", "nature", "service")


# ---------------------------------------------------------------- numbers


def case_year(now: datetime | None = None) -> int:
    """The year of a case number, in the service's local time (TIMEZONE)."""
    return (now or utcnow()).astimezone(ZoneInfo(current_app.config["TIMEZONE"])).year


def next_number(now: datetime | None = None) -> str:
    """The next case number, YYYY-NNNNNN; the year's counter row is incremented by one atomic UPDATE, which
    locks the row (PostgreSQL) or runs under the write lock BEGIN IMMEDIATE takes (SQLite): never twice."""
    db = session()
    year = case_year(now)
    db.execute(insert_ignoring_conflicts(CaseCounter, ("year",)), {"year": year, "last": 0})
    last = db.execute(
        update(CaseCounter)
        .where(CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return f"{year}-{last:06d}"


def language_of(contact) -> str:
    """fr, ar or en from the contact's language code (fr when unknown)."""
    code = (contact.language or "fr").lower().split("-")[0]
    return code if code in CASE_NUMBER_TEXTS else "fr"


def case_number_text(case: Case, contact) -> str:
    """The built-in text that gives the customer their case number, in their language."""
    return CASE_NUMBER_TEXTS[language_of(contact)].format(number=case.number)


# ---------------------------------------------------------------- qualification


def _catalogue_ref(value, kind: str) -> CatalogueItem | None:
    if value is None:
        return None
    item = session().get(CatalogueItem, value) if isinstance(value, int) and not isinstance(value, bool) else None
    if item is None or item.kind != kind:
        raise ApiError(422, "invalid_" + kind, "%(kind)s must be the id of a catalogue %(kind)s.", kind=kind)
    if not item.active:
        raise ApiError(
            422, "invalid_" + kind, "The %(kind)s %(name)s is no longer in use.", kind=kind, name=repr(item.name)
        )
    return item


def requested_qualification(conversation: Conversation, body: dict) -> dict:
    """The conversation's qualification once the body's fields apply, checked for consistency (422)."""
    result = {
        "request_type": conversation.request_type,
        "family": conversation.family,
        "nature": conversation.nature,
        "service": conversation.service,
    }
    if "request_type" in body:
        if body["request_type"] is not None and body["request_type"] not in REQUEST_TYPES:
            raise ApiError(
                422,
                "invalid_request_type",
                "request_type is one of %(request_types)s.",
                request_types=", ".join(REQUEST_TYPES),
            )
        result["request_type"] = body["request_type"]
    for kind in ("family", "nature", "service"):
        if kind in body:
            result[kind] = _catalogue_ref(body[kind], kind)
    family, nature = result["family"], result["nature"]
    if nature is not None and (family is None or nature.parent_id != family.id):
        raise ApiError(
            422, "inconsistent_nature", "The nature %(name)s is not in the chosen family.", name=repr(nature.name)
        )
    if family is not None and family.request_types and result["request_type"] not in family.request_types:
        kinds = ", ".join(family.request_types)
        raise ApiError(
            422,
            "inconsistent_family",
            "The family %(name)s applies to: %(kinds)s.",
            name=repr(family.name),
            kinds=kinds,
        )
    if result["request_type"] == "claim" and family is not None and result["service"] is None:
        raise ApiError(422, "missing_service", "A claim needs its treating service.")
    return result


def missing_for_resolution(qualification: dict) -> list[str]:
    """The fields a conversation still needs before it can be resolved (empty: qualified)."""
    missing = [name for name in ("request_type", "family", "nature") if qualification[name] is None]
    if qualification["request_type"] == "claim" and qualification["service"] is None:
        missing.append("service")
    return missing


def _label(value):
    return value.name if isinstance(value, CatalogueItem) else value


def apply_qualification(conversation: Conversation, qualification: dict, user: User) -> dict:
    """Set the qualification; a claim or a request gets a case (or updates the one it carries).
    Returns what changed, {field: [old, new]} (names of catalogue items)."""
    changed = {}
    for name in FIELDS:
        old = conversation.request_type if name == "request_type" else getattr(conversation, name)
        new = qualification[name]
        if old is not new and old != new:
            changed[name] = [_label(old), _label(new)]
            if name == "request_type":
                conversation.request_type = new
            else:
                setattr(conversation, f"{name}_id", new.id if new else None)
                setattr(conversation, name, new)
    if changed:
        case = conversation.case
        if conversation.request_type in CASE_REQUEST_TYPES:
            if case is None:
                case = open_case(conversation, user)
            else:
                _copy_qualification(case, conversation)
        record("qualified", actor=user, conversation_id=conversation.id, case_id=case.id if case else None, **changed)
    return changed


def _copy_qualification(case: Case, conversation: Conversation) -> None:
    case.request_type = conversation.request_type
    case.family_id, case.nature_id = conversation.family_id, conversation.nature_id
    case.service_id = conversation.service_id
    sla.claim_filed(case, conversation)


def open_case(conversation: Conversation, user: User | None) -> Case:
    """A new case for a conversation qualified as a claim or a request."""
    case = Case(
        number=next_number(),
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
        request_type=conversation.request_type,
        state="open",
        follow_ups=0,
        created_by_id=user.id if user else None,
    )
    _copy_qualification(case, conversation)
    session().add(case)
    session().flush()
    conversation.case_id, conversation.case_number, conversation.case = case.id, case.number, case
    record("case_opened", actor=user, conversation_id=conversation.id, case_id=case.id, number=case.number)
    return case


def attach_follow_up(conversation: Conversation) -> Case | None:
    """A new conversation of a contact who has a case that is not closed lands on it: a "rappel" (CCTP 3.2).
    Called by ingest in the transaction that creates the conversation."""
    db = session()
    case = db.scalars(
        select(Case)
        .where(Case.contact_id == conversation.contact_id, Case.state != "closed")
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
    ).first()
    if case is None:
        return None
    conversation.case_id, conversation.case_number = case.id, case.number
    db.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(follow_ups=Case.follow_ups + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    record("follow_up", conversation_id=conversation.id, case_id=case.id, number=case.number, state=case.state)
    return case


# ---------------------------------------------------------------- visibility


def visible_cases(user: User):
    """A WHERE clause for the cases the user may read: agents, the cases of conversations they see or
    escalated to one of their teams; supervisors, admins and reviewers all."""
    if user.role in ("supervisor", "admin", "reviewer") or sees_everything(user):
        return true()
    seen = exists().where(Conversation.case_id == Case.id, visible_conversations(user))
    teams = team_ids(user)
    return or_(seen, Case.escalated_team_id.in_(teams)) if teams else seen


def can_see_case(user: User, case: Case) -> bool:
    """Whether the user may read this case."""
    return session().scalar(select(Case.id).where(Case.id == case.id, visible_cases(user))) is not None


def conversations_of(case: Case) -> list[Conversation]:
    """The case's conversations, newest activity first."""
    query = select(Conversation).where(Conversation.case_id == case.id)
    return list(session().scalars(query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())))


def is_service_member(user: User, case: Case) -> bool:
    """Whether the user belongs to the team the case is escalated to (the treating service's people)."""
    return case.escalated_team_id is not None and case.escalated_team_id in team_ids(user)


# ---------------------------------------------------------------- claims


def escalate(case: Case, user: User, note: str, team_id) -> None:
    """Send a claim to its treating service's team (or the team named), with a note."""
    from inbox.models import Team

    if case.request_type != "claim":
        raise ApiError(422, "not_a_claim", "Only a claim is escalated to a treating service.")
    if case.state in ("closed", "escalated"):
        raise ApiError(409, "bad_state", "The case is %(state)s.", state=case.state)
    if team_id is not None:
        team = session().get(Team, team_id) if isinstance(team_id, int) and not isinstance(team_id, bool) else None
        if team is None:
            raise ApiError(422, "invalid_team", "There is no team %(team_id)s.", team_id=team_id)
    else:
        service = case.service
        team = service.team if service else None
        if team is None:
            raise ApiError(422, "no_team", "The case's service has no treating team: name one (team).")
    case.state, case.escalated_team_id = "escalated", team.id
    record("escalated", actor=user, case_id=case.id, note=note, team={"id": team.id, "name": team.name})


def add_element(case: Case, user: User, text: str) -> None:
    """An answer element from the treating service, kept in the case's timeline."""
    if case.state != "escalated":
        raise ApiError(409, "bad_state", "Answer elements are added while the case is escalated.")
    record("element", actor=user, case_id=case.id, text=text)


def hand_back(case: Case, user: User, note: str) -> Notification | None:
    """Back to the front office (state open); the assignee of the case's conversation is notified (returned)."""
    if case.state != "escalated":
        raise ApiError(409, "bad_state", "Only an escalated case is handed back.")
    team_id = case.escalated_team_id
    case.state, case.escalated_team_id = "open", None
    record("handed_back", actor=user, case_id=case.id, note=note, team_id=team_id)
    conversations = conversations_of(case)
    assigned = next((c for c in conversations if c.assignee_id), None)
    if assigned is None:
        return None
    notification = Notification(
        user_id=assigned.assignee_id,
        kind="case_handed_back",
        conversation_id=assigned.id,
        case_id=case.id,
        data={"number": case.number, "text": f"{case.number}: {note}"[:200], "by": user.name},
        created_at=utcnow(),
    )
    session().add(notification)
    session().flush()
    return notification


def set_state(case: Case, user: User, state: str) -> None:
    """Mark a case answered or closed."""
    if state not in ("answered", "closed"):
        raise ApiError(422, "invalid_state", "state is answered or closed.")
    if case.state == state:
        return
    if case.state == "closed":
        raise ApiError(409, "bad_state", "The case is closed.")
    old, case.state = case.state, state
    now = utcnow()
    if state == "answered":
        case.answered_at = now
    else:
        case.closed_at, case.escalated_team_id = now, None
    record("state_changed", actor=user, case_id=case.id, old=old, new=state)


def propose(case: Case, conversation: Conversation, user: User, text: str) -> ReplyProposal:
    """A reply to a claim, waiting for approval."""
    if case.request_type != "claim":
        raise ApiError(422, "not_a_claim", "Only a claim's reply goes to approval; answer a request directly.")
    if case.state == "closed":
        raise ApiError(409, "bad_state", "The case is closed.")
    proposal = ReplyProposal(
        case_id=case.id, conversation_id=conversation.id, text=text, state="pending", author_id=user.id
    )
    session().add(proposal)
    session().flush()
    case.state = "awaiting_approval"
    record("proposal", actor=user, case_id=case.id, conversation_id=conversation.id, proposal_id=proposal.id)
    return proposal


def check_reviewable(proposal: ReplyProposal, user: User) -> None:
    if proposal.author_id == user.id:
        raise ApiError(403, "self_approval", "The author of a proposal cannot review it.")
    if proposal.state != "pending":
        raise ApiError(409, "already_reviewed", "This proposal was already %(state)s.", state=proposal.state)


def queued_reply(conversation: Conversation, text: str, author_id: int) -> Message:
    """A queued outbound text in the conversation, through the reply-mode and window checks of a reply."""
    from connectors import get_connector
    from inbox.api import check_reply_mode, reply_target
    from inbox.serializers import reply_modes

    mode = reply_modes(conversation)[0]["mode"]
    target = reply_target(conversation, None, mode)
    check_reply_mode(conversation, mode, target)
    limit = get_connector(conversation.account.platform).MAX_TEXT_LENGTH
    if len(text) > limit:
        raise ApiError(422, "text_too_long", "This channel takes at most %(limit)s characters here.", limit=limit)
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        account_id=conversation.account_id,
        direction="out",
        type="text",
        text=text,
        status="queued",
        author_id=author_id,
        mode=mode,
        reply_to_external_id=target.external_id if target else None,
    )
    if mode == PRIVATE_REPLY:
        target.private_replied_at = now
    conversation.last_message_at = now
    session().add(message)
    session().flush()
    return message


def approve(proposal: ReplyProposal, case: Case, user: User, text: str | None, comment: str | None) -> Message:
    """Approve a proposal (possibly edited): its text is queued as the reply, the case is answered."""
    check_reviewable(proposal, user)
    conversation = session().get(Conversation, proposal.conversation_id)
    final = text if text is not None else proposal.text
    message = queued_reply(conversation, final, proposal.author_id)
    edited = final != proposal.text
    now = utcnow()
    proposal.state, proposal.reviewer_id, proposal.reviewed_at = "approved", user.id, now
    proposal.comment, proposal.message_id = comment, message.id
    if edited:
        proposal.text = final
    case.state, case.answered_at = "answered", now
    record(
        "proposal_approved",
        actor=user,
        case_id=case.id,
        conversation_id=conversation.id,
        proposal_id=proposal.id,
        edited=edited,
        comment=comment,
        message_id=message.id,
    )
    return message


def reject(proposal: ReplyProposal, case: Case, user: User, comment: str) -> None:
    """Reject a proposal with a comment: never sent; the case is back with the front office."""
    check_reviewable(proposal, user)
    proposal.state, proposal.reviewer_id, proposal.reviewed_at = "rejected", user.id, utcnow()
    proposal.comment = comment
    pending = session().scalar(
        select(ReplyProposal.id).where(
            ReplyProposal.case_id == case.id, ReplyProposal.state == "pending", ReplyProposal.id != proposal.id
        )
    )
    if case.state == "awaiting_approval" and pending is None:
        case.state = "open"
    record(
        "proposal_rejected",
        actor=user,
        case_id=case.id,
        conversation_id=proposal.conversation_id,
        proposal_id=proposal.id,
        comment=comment,
    )


# ---------------------------------------------------------------- JSON


def case_ref(case: Case | None) -> dict | None:
    """A case as a conversation shows it."""
    return {"id": case.id, "number": case.number, "state": case.state} if case else None


def proposal_json(proposal: ReplyProposal) -> dict:
    return {
        "id": proposal.id,
        "case_id": proposal.case_id,
        "conversation_id": proposal.conversation_id,
        "text": proposal.text,
        "state": proposal.state,
        "author": user_json(proposal.author),
        "reviewer": user_json(proposal.reviewer),
        "comment": proposal.comment,
        "reviewed_at": iso(proposal.reviewed_at),
        "message_id": proposal.message_id,
        "created_at": iso(proposal.created_at),
    }


def case_json(case: Case) -> dict:
    team = case.escalated_team
    return {
        "id": case.id,
        "number": case.number,
        "state": case.state,
        "request_type": case.request_type,
        "family": ref_json(case.family),
        "nature": ref_json(case.nature),
        "service": ref_json(case.service),
        "contact": {"id": case.contact.id, "name": case.contact.name, "cil": case.contact.cil},
        "conversation_id": case.conversation_id,
        "escalated_team": {"id": team.id, "name": team.name} if team else None,
        "follow_ups": case.follow_ups,
        "created_by": user_json(case.created_by),
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "answered_at": iso(case.answered_at),
        "closed_at": iso(case.closed_at),
    }


def case_details(case: Case) -> dict:
    """A case with its conversations, timeline and proposals."""
    from inbox.timeline import events_of, timeline_json

    proposals = session().scalars(
        select(ReplyProposal).where(ReplyProposal.case_id == case.id).order_by(ReplyProposal.id)
    )
    return {
        **case_json(case),
        "conversations": [
            {
                "id": c.id,
                "channel": c.account.platform,
                "status": c.status,
                "assignee": user_json(c.assignee),
                "created_at": iso(c.created_at),
                "last_message_at": iso(c.last_message_at),
            }
            for c in conversations_of(case)
        ],
        "timeline": [timeline_json(e) for e in events_of(case_id=case.id)],
        "proposals": [proposal_json(p) for p in proposals],
    }
