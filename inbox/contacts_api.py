"""The contacts directory under /api/v1/contacts: search, details with every channel, edits, link suggestions
and merges (one customer across WhatsApp, Messenger, Page comments and X)."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from inbox import directory
from inbox.auth import api_user, bearer_token, require_roles
from inbox.db import session, utcnow
from inbox.errors import ApiError, get_or_404, json_body
from inbox.models import Contact, ContactIdentity, Conversation
from inbox.serializers import contact_json, conversation_json

bp = Blueprint("contacts", __name__, url_prefix="/api/v1/contacts")
READERS = ("agent", "supervisor", "admin", "reviewer")
WRITERS = ("agent", "supervisor", "admin")
# The fields an agent may edit, with the column's length.
EDITABLE = {
    "name": 200,
    "cil": 40,
    "contract": 40,
    "cin": 20,
    "phone": 32,
    "email": 254,
    "address": 2000,
    "language": 8,
}
# The directory's rules (inbox/directory.py): Moroccan mobiles and fixed lines, e-mail, CIN.
VALIDATED = {"phone": directory.normalise_phone, "email": directory.normalise_email, "cin": directory.normalise_cin}
PHONE_PUNCTUATION = re.compile(r"[\s.\-()/]")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
# Phones are compared on their last digits: a national significant number, so that "+212 661-234567",
# "00212661234567" and the WhatsApp id "212661234567" are the same line (nine digits in Morocco).
PHONE_MATCH_DIGITS = 9
SUGGESTION_LIMIT = 20
_CONVERSATION_LOADS = (
    joinedload(Conversation.account),
    joinedload(Conversation.contact),
    joinedload(Conversation.identity),
    joinedload(Conversation.assignee),
)


def _limit(default: int = 50, high: int = 200) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise ApiError(400, "bad_parameter", "limit must be a whole number from 1 to %(high)s.", high=high)
    return int(raw)


def normalise_phone(value: str) -> str:
    """Digits only, without the international prefix (+ or 00); raises ApiError when it is not a phone number.
    Used by the search, which also finds contacts of other countries; edits take Moroccan numbers only."""
    compact = PHONE_PUNCTUATION.sub("", value)
    if compact.startswith("+"):
        compact = compact[1:]
    elif compact.startswith("00"):
        compact = compact[2:]
    if not compact.isdigit() or not 8 <= len(compact) <= 15:
        raise ApiError(
            422,
            "invalid_phone",
            "The phone number must have 8 to 15 digits, optionally after + (e.g. +212 661 23 45 67).",
        )
    return compact


def _phone_key(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits[-PHONE_MATCH_DIGITS:] if len(digits) >= PHONE_MATCH_DIGITS else None


def identity_json(identity: ContactIdentity) -> dict:
    """A contact's identity on one channel account."""
    account = identity.account
    return {
        "id": identity.id,
        "channel": account.platform,
        "account_id": account.id,
        "account_name": account.name,
        "external_id": identity.external_id,
        "display_name": identity.display_name,
        "handle": identity.handle,
    }


def _identities(contact_ids: list[int]) -> dict[int, list[ContactIdentity]]:
    found: dict[int, list[ContactIdentity]] = {contact_id: [] for contact_id in contact_ids}
    if contact_ids:
        query = (
            select(ContactIdentity)
            .where(ContactIdentity.contact_id.in_(contact_ids))
            .options(joinedload(ContactIdentity.account))
            .order_by(ContactIdentity.id)
        )
        for identity in session().scalars(query):
            found[identity.contact_id].append(identity)
    return found


def contact_details(contact: Contact) -> dict:
    """The contact, its identities on every channel and its conversations on every channel, newest first."""
    conversations = session().scalars(
        select(Conversation)
        .where(Conversation.contact_id == contact.id)
        .options(*_CONVERSATION_LOADS)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )
    return {
        **contact_json(contact),
        "identities": [identity_json(i) for i in _identities([contact.id])[contact.id]],
        "conversations": [conversation_json(c) for c in conversations.unique()],
    }


def _contact(contact_id: int) -> Contact:
    return get_or_404(Contact, contact_id, "contact")


@bp.get("")
@require_roles(*READERS)
def search():
    """The directory: contacts by text (name, phone, e-mail, CIL, contract) or exactly by CIL, contract or phone."""
    args = request.args
    filters = []
    if args.get("q", "").strip():
        words = args["q"].strip()
        filters.append(
            or_(
                *(
                    column.icontains(words, autoescape=True)
                    for column in (Contact.name, Contact.phone, Contact.email, Contact.cil, Contact.contract)
                )
            )
        )
    for name in ("cil", "contract"):
        if args.get(name, "").strip():
            filters.append(getattr(Contact, name) == args[name].strip())
    if args.get("phone", "").strip():
        try:
            key = _phone_key(normalise_phone(args["phone"]))
        except ApiError as exc:
            raise ApiError(400, "bad_parameter", exc.msgid, **exc.params) from exc
        filters.append(Contact.phone.endswith(key, autoescape=True))
    query = (
        select(Contact)
        .where(*filters)
        .order_by(Contact.name.is_(None), func.lower(Contact.name), Contact.id)
        .limit(_limit())
    )
    contacts = list(session().scalars(query))
    identities = _identities([c.id for c in contacts])
    items = [{**contact_json(c), "channels": sorted({i.account.platform for i in identities[c.id]})} for c in contacts]
    return jsonify({"items": items})


@bp.get("/<int:contact_id>")
@require_roles(*READERS)
def details(contact_id: int):
    """One contact with its identities and every conversation on every channel."""
    return jsonify(contact_details(_contact(contact_id)))


def _cleaned(body: dict) -> dict:
    """The body's editable fields, trimmed and checked; raises ApiError(422) naming the first bad one."""
    unknown = sorted(set(body) - set(EDITABLE))
    if unknown:
        raise ApiError(422, "unknown_field", "These fields cannot be edited: %(unknown)s.", unknown=", ".join(unknown))
    values = {}
    for name, value in body.items():
        if value is not None and not isinstance(value, str):
            raise ApiError(422, "invalid_field", "%(name)s must be a string or null.", name=name)
        value = (value or "").strip() or None
        try:
            if value is not None and name in VALIDATED:
                value = VALIDATED[name](value)
        except directory.Invalid as refusal:
            raise refusal.api_error(422, refusal.code) from refusal
        if value is not None and name == "language" and not LANGUAGE.match(value):
            raise ApiError(422, "invalid_language", "language is a language code such as fr, ar or ar-MA.")
        if value is not None and len(value) > EDITABLE[name]:
            raise ApiError(
                422, "too_long", "%(name)s takes at most %(limit)s characters.", name=name, limit=EDITABLE[name]
            )
        values[name] = value
    return values


@bp.patch("/<int:contact_id>")
@require_roles(*WRITERS)
def edit(contact_id: int):
    """Change a contact's name, CIL, contract, CIN, phone, e-mail, address or language (null clears); each
    changed field is kept in the contact's history (source api for tokens, inbox for the browser)."""
    from inbox.realtime import conversation_event

    contact = _contact(contact_id)
    values = _cleaned(json_body())
    source, user_id = ("api" if bearer_token() else "inbox"), api_user().id
    for name, value in values.items():
        if getattr(contact, name) != value:
            directory.record(name, getattr(contact, name), value, source, user_id, contact=contact)
        setattr(contact, name, value)
    contact.updated_at = utcnow()
    session().commit()
    answer = contact_details(contact)
    conversations = _conversations_of(contact.id)
    session().commit()  # end the read before the emits
    # Conversations show their contact: the list and open panes update at once.
    for conversation in conversations:
        conversation_event("conversation.updated", conversation)
    session().commit()
    return jsonify(answer)


def _conversations_of(contact_id: int) -> list[Conversation]:
    query = select(Conversation).where(Conversation.contact_id == contact_id).options(*_CONVERSATION_LOADS)
    return list(session().scalars(query).unique())


def _reasons(contact: Contact, other: Contact) -> list[str]:
    reasons = []
    key = _phone_key(contact.phone)
    if key and key == _phone_key(other.phone):
        reasons.append("phone")
    if contact.email and other.email and contact.email.lower() == other.email.lower():
        reasons.append("email")
    for name in ("cil", "contract"):
        if getattr(contact, name) and getattr(contact, name) == getattr(other, name):
            reasons.append(name)
    return reasons


@bp.get("/<int:contact_id>/suggestions")
@require_roles(*READERS)
def suggestions(contact_id: int):
    """Other contacts that may be the same customer: sharing a phone, an e-mail, a CIL or a contract."""
    contact = _contact(contact_id)
    matches = []
    key = _phone_key(contact.phone)
    if key:
        matches.append(Contact.phone.endswith(key, autoescape=True))
    if contact.email:
        matches.append(func.lower(Contact.email) == contact.email.lower())
    for name in ("cil", "contract"):
        if getattr(contact, name):
            matches.append(getattr(Contact, name) == getattr(contact, name))
    if not matches:
        return jsonify({"items": []})
    query = (
        select(Contact)
        .where(Contact.id != contact.id, or_(*matches))
        .order_by(Contact.updated_at.desc(), Contact.id.desc())
        .limit(SUGGESTION_LIMIT * 2)
    )
    found = [(other, _reasons(contact, other)) for other in session().scalars(query)]
    found = [(other, reasons) for other, reasons in found if reasons][:SUGGESTION_LIMIT]
    identities = _identities([other.id for other, _ in found])
    items = [
        {
            "contact": contact_json(other),
            "reasons": reasons,
            "identities": [identity_json(i) for i in identities[other.id]],
        }
        for other, reasons in found
    ]
    return jsonify({"items": items})


@bp.get("/<int:contact_id>/changes")
@require_roles(*READERS)
def changes(contact_id: int):
    """The contact's recorded changes, newest first: who, when, field, old and new value, source."""
    return jsonify({"items": directory.changes_of(contact_id=_contact(contact_id).id)})


@bp.post("/<int:contact_id>/merge")
@require_roles(*WRITERS)
def merge(contact_id: int):
    """Merge another contact into this one: its identities and conversations move here, this contact's empty
    fields take its values, and it is deleted; all in one transaction."""
    from inbox.realtime import conversation_event

    body = json_body()
    other_id = body.get("contact_id")
    if isinstance(other_id, bool) or not isinstance(other_id, int):
        raise ApiError(422, "bad_contact_id", "contact_id must be the id of the contact to merge into this one.")
    if other_id == contact_id:
        raise ApiError(422, "same_contact", "A contact cannot be merged into itself.")
    db = session()
    # Both rows locked in id order, so that two merges of the same pair wait for each other instead of deadlocking.
    locked = {
        c.id: c
        for c in db.scalars(
            select(Contact).where(Contact.id.in_([contact_id, other_id])).order_by(Contact.id).with_for_update()
        )
    }
    if contact_id not in locked:
        raise ApiError(404, "not_found", "No contact %(id)s.", id=contact_id)
    if other_id not in locked:
        raise ApiError(404, "not_found", "No contact %(id)s to merge.", id=other_id)
    contact, other = locked[contact_id], locked[other_id]
    # Identities first, under lock: an ingest that holds one (ingest._identity_for) finishes before they move.
    list(db.scalars(select(ContactIdentity.id).where(ContactIdentity.contact_id == other_id).with_for_update()))
    moved = list(db.scalars(select(Conversation.id).where(Conversation.contact_id == other_id)))
    db.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == other_id)
        .values(contact_id=contact_id)
        .execution_options(synchronize_session=False)
    )
    db.execute(
        update(Conversation)
        .where(Conversation.contact_id == other_id)
        .values(contact_id=contact_id)
        .execution_options(synchronize_session=False)
    )
    for name in EDITABLE:
        if not getattr(contact, name) and getattr(other, name):
            setattr(contact, name, getattr(other, name))
    contact.updated_at = utcnow()
    db.flush()
    db.execute(delete(Contact).where(Contact.id == other_id).execution_options(synchronize_session=False))
    db.commit()
    db.expire_all()
    answer = contact_details(contact)
    conversations = [c for c in _conversations_of(contact_id) if c.id in moved]
    db.commit()  # end the read before the emits
    for conversation in conversations:
        conversation_event("conversation.updated", conversation)
    db.commit()
    return jsonify(answer)
