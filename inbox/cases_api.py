"""The API of qualification, cases and claims: the catalogue, PATCH of a conversation, cases, proposals."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from inbox import cases as service
from inbox import catalogue
from inbox.access import CONVERSATION_ROLES, can_act, require_visible
from inbox.auth import api_user, require_roles
from inbox.db import session, utcnow
from inbox.errors import ApiError, get_or_404, json_body
from inbox.models import CASE_STATES, CONVERSATION_STATUSES, Case, CatalogueItem, Conversation, ReplyProposal
from inbox.serializers import conversation_json

bp = Blueprint("cases", __name__, url_prefix="/api/v1")
WRITERS = ("agent", "supervisor", "admin")
APPROVERS = ("supervisor", "reviewer")


def _text(body: dict, name: str, required: bool = True, limit: int = 4000) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "missing_field", "%(name)s is required: a non-empty text.", name=name)
    if len(value.strip()) > limit:
        raise ApiError(422, "text_too_long", "%(name)s takes at most %(limit)s characters.", name=name, limit=limit)
    return value.strip()


# ---------------------------------------------------------------- catalogue


@bp.get("/catalogue")
@require_roles(*CONVERSATION_ROLES)
def get_catalogue():
    """The active catalogue (admins may ask ?all=1 for deactivated items too)."""
    everything = request.args.get("all") == "1" and api_user().role == "admin"
    return jsonify(catalogue.tree(include_inactive=everything))


@bp.post("/catalogue/items")
@require_roles("admin")
def create_catalogue_item():
    """Add a family, a nature (in a family) or a service (with its treating team)."""
    item = catalogue.create_item(json_body())
    session().commit()
    return jsonify(catalogue.item_json(item)), 201


@bp.patch("/catalogue/items/<int:item_id>")
@require_roles("admin")
def update_catalogue_item(item_id: int):
    """Rename, move, re-team, reorder, deactivate or reactivate an item (never deleted)."""
    item = catalogue.update_item(get_or_404(CatalogueItem, item_id, "catalogue item"), json_body())
    session().commit()
    return jsonify(catalogue.item_json(item))


# ---------------------------------------------------------------- conversations


def _conversation(conversation_id: int) -> Conversation:
    return require_visible(api_user(), get_or_404(Conversation, conversation_id, "conversation"))


def _acting_on(conversation_id: int) -> Conversation:
    conversation = _conversation(conversation_id)
    if not can_act(api_user(), conversation):
        raise ApiError(403, "forbidden", "You may not change this conversation.")
    return conversation


def _after_status_change(conversation: Conversation, old_status: str) -> None:
    """After a committed status change: the place a resolved conversation held goes to the queue's next one
    (its own transaction, as the minute sweep runs it)."""
    from inbox import assignment
    from inbox.realtime import assignment_events, publish

    if conversation.status != "resolved" and old_status != "resolved":
        return
    events = assignment_events(assignment.fill_places())
    session().commit()
    publish(events)


@bp.patch("/conversations/<int:conversation_id>")
@require_roles(*WRITERS)
def update_conversation(conversation_id: int):
    """Change a conversation's status and qualification; resolving needs a full qualification (422)."""
    from inbox.realtime import case_event, conversation_event

    user = api_user()
    body = json_body()
    known = {"status", *service.FIELDS}
    if not known & set(body):
        raise ApiError(400, "bad_request", "Give status, request_type, family, nature or service.")
    conversation = _acting_on(conversation_id)
    status = body.get("status", conversation.status)
    if status not in CONVERSATION_STATUSES:
        raise ApiError(
            422, "invalid_status", "status is one of %(statuses)s.", statuses=", ".join(CONVERSATION_STATUSES)
        )
    qualification = service.requested_qualification(conversation, body)
    if status == "resolved" and conversation.status != "resolved":
        missing = service.missing_for_resolution(qualification)
        if missing:
            raise ApiError(
                422,
                "unqualified",
                "Qualify the conversation before resolving it: %(missing)s missing.",
                missing=", ".join(missing),
            )
    had_case = conversation.case_id
    changed = service.apply_qualification(conversation, qualification, user)
    old_status = conversation.status
    if status != old_status:
        conversation.status = status
        conversation.resolved_at = utcnow() if status == "resolved" else None
        service.record("status_changed", actor=user, conversation_id=conversation.id, old=old_status, new=status)
    session().commit()
    if status != old_status:
        _after_status_change(conversation, old_status)
    conversation_event("conversation.updated", conversation)
    if conversation.case is not None and (changed or had_case != conversation.case_id):
        case_event(conversation.case)
    return jsonify(conversation_json(conversation))


@bp.post("/conversations/<int:conversation_id>/case-number")
@require_roles(*WRITERS)
def send_case_number(conversation_id: int):
    """Queue the built-in message that gives the customer their case number, in their language."""
    conversation = _acting_on(conversation_id)
    if conversation.case is None:
        raise ApiError(422, "no_case", "This conversation has no case: qualify it as a claim or a request.")
    text = service.case_number_text(conversation.case, conversation.contact)
    message = service.queued_reply(conversation, text, api_user().id)
    service.record("case_number_sent", actor=api_user(), conversation_id=conversation.id, case_id=conversation.case_id)
    return _queued(message, conversation)


def _queued(message, conversation: Conversation):
    """Commit a queued message, hand it to the send job and announce it (as POST .../messages does)."""
    from inbox.api import queue_and_announce

    session().commit()
    return queue_and_announce(message, conversation)


# ---------------------------------------------------------------- cases


def _case(case_id: int) -> Case:
    case = get_or_404(Case, case_id, "case")
    if not service.can_see_case(api_user(), case):
        raise ApiError(404, "not_found", "No case %(id)s.", id=case_id)
    return case


def _answer(case: Case, status: int = 200):
    from inbox.realtime import case_event

    session().commit()
    case_event(case)
    return jsonify(service.case_details(case)), status


@bp.get("/cases")
@require_roles(*CONVERSATION_ROLES)
def list_cases():
    """Cases, newest first: filters state, number, contact, queue=service (escalated to one of my teams)."""
    from inbox.access import team_ids

    user = api_user()
    args = request.args
    query = select(Case).where(service.visible_cases(user))
    if args.get("state"):
        if args["state"] not in CASE_STATES:
            raise ApiError(400, "bad_parameter", "state is one of %(states)s.", states=", ".join(CASE_STATES))
        query = query.where(Case.state == args["state"])
    if args.get("number"):
        query = query.where(Case.number == args["number"].strip())
    if args.get("contact"):
        if not args["contact"].isdigit():
            raise ApiError(400, "bad_parameter", "contact is a contact id.")
        query = query.where(Case.contact_id == int(args["contact"]))
    if args.get("queue"):
        if args["queue"] != "service":
            raise ApiError(400, "bad_parameter", "queue is service (the cases escalated to my teams).")
        query = query.where(Case.escalated_team_id.in_(team_ids(user)))
    rows = session().scalars(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(200))
    return jsonify({"items": [service.case_json(c) for c in rows]})


@bp.get("/cases/<int:case_id>")
@require_roles(*CONVERSATION_ROLES)
def get_case(case_id: int):
    """A case with its conversations, timeline and proposals."""
    return jsonify(service.case_details(_case(case_id)))


@bp.patch("/cases/<int:case_id>")
@require_roles(*WRITERS)
def update_case(case_id: int):
    """Mark a case answered or closed."""
    body = json_body()
    case = _case(case_id)
    service.set_state(case, api_user(), body.get("state"))
    return _answer(case)


@bp.post("/cases/<int:case_id>/escalate")
@require_roles(*WRITERS)
def escalate_case(case_id: int):
    """Escalate a claim to its treating service's team (or the team named), with a note."""
    body = json_body()
    note = _text(body, "note")
    case = _case(case_id)
    service.escalate(case, api_user(), note, body.get("team"))
    return _answer(case)


def _service_member(case: Case) -> None:
    if not service.is_service_member(api_user(), case):
        raise ApiError(403, "forbidden", "Only the people of the team the case is escalated to may do this.")


@bp.post("/cases/<int:case_id>/elements")
@require_roles(*WRITERS)
def add_element(case_id: int):
    """The treating service adds an answer element (kept in the case's timeline)."""
    body = json_body()
    text = _text(body, "text")
    case = _case(case_id)
    _service_member(case)
    service.add_element(case, api_user(), text)
    return _answer(case, 201)


@bp.post("/cases/<int:case_id>/hand-back")
@require_roles(*WRITERS)
def hand_back(case_id: int):
    """The treating service hands the case back to the front office; the assignee is notified."""
    from inbox.realtime import notification_event
    from inbox.workspace_api import notification_json

    body = json_body()
    note = _text(body, "note")
    case = _case(case_id)
    _service_member(case)
    notification = service.hand_back(case, api_user(), note)
    response = _answer(case)
    if notification is not None:
        notification_event(notification.user_id, notification_json(notification))
    return response


@bp.post("/cases/<int:case_id>/proposals")
@require_roles(*WRITERS)
def create_proposal(case_id: int):
    """Propose a reply to a claim; it leaves only once a supervisor or a reviewer approves it."""
    body = json_body()
    text = _text(body, "text")
    case = _case(case_id)
    conversation_id = body.get("conversation_id")
    if conversation_id is None:
        found = service.conversations_of(case)
        if not found:
            raise ApiError(422, "no_conversation", "The case has no conversation to answer in.")
        conversation_id = found[0].id
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise ApiError(400, "bad_request", "conversation_id is a conversation id.")
    conversation = _acting_on(conversation_id)
    if conversation.case_id != case.id:
        raise ApiError(422, "not_in_case", "The conversation does not carry this case.")
    proposal = service.propose(case, conversation, api_user(), text)
    _answer(case)
    return jsonify(service.proposal_json(proposal)), 201


def _proposal(proposal_id: int) -> tuple[ReplyProposal, Case]:
    proposal = get_or_404(ReplyProposal, proposal_id, "proposal")
    return proposal, _case(proposal.case_id)


@bp.post("/proposals/<int:proposal_id>/approve")
@require_roles(*APPROVERS)
def approve_proposal(proposal_id: int):
    """Approve a proposal, possibly edited: the text is queued as the reply and the case is answered."""
    from inbox.realtime import case_event

    body = json_body() if request.get_data() else {}
    text = _text(body, "text", required=False, limit=4096)
    comment = _text(body, "comment", required=False)
    proposal, case = _proposal(proposal_id)
    message = service.approve(proposal, case, api_user(), text, comment)
    conversation = session().get(Conversation, proposal.conversation_id)
    _queued(message, conversation)
    case_event(case)
    return jsonify(service.proposal_json(proposal))


@bp.post("/proposals/<int:proposal_id>/reject")
@require_roles(*APPROVERS)
def reject_proposal(proposal_id: int):
    """Reject a proposal with a comment (required); it is never sent."""
    body = json_body()
    comment = _text(body, "comment")
    proposal, case = _proposal(proposal_id)
    service.reject(proposal, case, api_user(), comment)
    _answer(case)
    return jsonify(service.proposal_json(proposal))
