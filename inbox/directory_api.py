"""The customer directory under /api/v1/customers (search, details, create, edit, CSV import) and the link of a
channel contact to a directory entry under /api/v1/contacts/<id>/customer."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload

from connectors.base import N_
from inbox import directory
from inbox.auth import api_user, require_roles
from inbox.db import session
from inbox.errors import ApiError, get_or_404, json_body
from inbox.models import Contact, Conversation, Customer, CustomerContract, CustomerPhone
from inbox.serializers import contact_json

bp = Blueprint("directory", __name__, url_prefix="/api/v1")
READERS = ("agent", "supervisor", "admin", "reviewer")
WRITERS = ("agent", "supervisor", "admin")
MAX_LIMIT = 200


def customer_json(customer: Customer) -> dict:
    """A directory entry with its contracts, phones and tags."""
    return {
        "id": customer.id,
        "cil": customer.cil,
        "name": customer.name,
        "cin": customer.cin,
        "email": customer.email,
        "address": customer.address,
        "landmark": customer.landmark,
        "zone": customer.zone,
        "segment": customer.segment,
        "contracts": [c.number for c in customer.contracts],
        "phones": [p.number for p in customer.phones],
        "tags": [t.tag for t in customer.tags],
        "created_at": customer.created_at.isoformat(),
        "updated_at": customer.updated_at.isoformat(),
    }


def customer_details(customer: Customer) -> dict:
    """The entry, the channel contacts linked to it and its change history, newest first."""
    contacts = session().scalars(select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.id))
    return {
        **customer_json(customer),
        "contacts": [contact_json(c) for c in contacts],
        "changes": directory.changes_of(customer_id=customer.id),
    }


def _refuse(errors: dict[str, str]):
    """422 naming the first refused field in its code (invalid_<field>), so the browser shows it by the field."""
    name, message = next(iter(errors.items()))
    raise ApiError(422, "invalid_" + name if name in directory.CUSTOMER_FIELDS else "unknown_field", message)


def _int_arg(name: str, default: int | None, low: int, high: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        if high is None:
            raise ApiError(400, "bad_parameter", "%(name)s must be a whole number from %(low)s.", name=name, low=low)
        message = N_("%(name)s must be a whole number from %(low)s to %(high)s.")
        raise ApiError(400, "bad_parameter", message, name=name, low=low, high=high)
    return int(raw)


@bp.get("/customers")
@require_roles(*READERS)
def search():
    """Directory entries by text (name, CIL, contract, phone, CIN) or exactly by CIL, contract or phone."""
    args = request.args
    filters = []
    words = args.get("q", "").strip()
    if words:
        text = [
            Customer.name.icontains(words, autoescape=True),
            Customer.cil.icontains(words, autoescape=True),
            Customer.cin.icontains(words, autoescape=True),
            exists().where(
                CustomerContract.customer_id == Customer.id,
                CustomerContract.number.icontains(words, autoescape=True),
            ),
        ]
        digits = "".join(c for c in words if c.isdigit())
        try:
            phone = directory.normalise_phone(words)
        except directory.Invalid:
            phone = None
        # Digits (a part of a phone number, written 0661… or 212661…) are looked for in the stored 212… form.
        needle = phone or (digits.lstrip("0") if len(digits) >= len(words.replace(" ", "")) - 1 else "")
        if len(needle) >= 4:
            text.append(exists().where(CustomerPhone.customer_id == Customer.id, CustomerPhone.number.contains(needle)))
        filters.append(or_(*text))
    if args.get("cil", "").strip():
        filters.append(Customer.cil == args["cil"].strip().upper())
    if args.get("contract", "").strip():
        number = args["contract"].strip().upper()
        filters.append(exists().where(CustomerContract.customer_id == Customer.id, CustomerContract.number == number))
    if args.get("phone", "").strip():
        try:
            phone = directory.normalise_phone(args["phone"])
        except directory.Invalid as refusal:
            raise refusal.api_error(400, "bad_parameter") from refusal
        filters.append(exists().where(CustomerPhone.customer_id == Customer.id, CustomerPhone.number == phone))
    limit = _int_arg("limit", 50, 1, MAX_LIMIT)
    after = _int_arg("cursor", None, 0)
    if after is not None:
        filters.append(Customer.id > after)
    found = list(session().scalars(select(Customer).where(*filters).order_by(Customer.id).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    return jsonify(
        {"items": [customer_json(c) for c in found], "next_cursor": str(found[-1].id) if more and found else None}
    )


@bp.get("/customers/<int:customer_id>")
@require_roles(*READERS)
def details(customer_id: int):
    """One entry with its contracts, phones, linked contacts and change history."""
    return jsonify(customer_details(get_or_404(Customer, customer_id, "customer")))


def _check_ownership(clean: dict, customer: Customer | None) -> None:
    if "cil" in clean and directory.cil_taken(clean["cil"], customer):
        raise ApiError(409, "cil_taken", "Another directory entry already has CIL %(cil)s.", cil=clean["cil"])
    held = directory.contract_holders(clean.get("contracts", []), customer)
    if held:
        number, cil = sorted(held.items())[0]
        raise ApiError(
            409,
            "contract_taken",
            "Contract %(number)s belongs to the customer with CIL %(cil)s.",
            number=number,
            cil=cil,
        )


@bp.post("/customers")
@require_roles(*WRITERS)
def create():
    """Add a directory entry (cil required)."""
    clean, errors = directory.clean_customer(json_body(), creating=True)
    if errors:
        _refuse(errors)
    _check_ownership(clean, None)
    customer = Customer()
    directory.apply_customer(customer, clean, _source(), api_user().id)
    session().commit()
    return jsonify(customer_details(customer)), 201


@bp.patch("/customers/<int:customer_id>")
@require_roles(*WRITERS)
def edit(customer_id: int):
    """Correct a directory entry; contracts, phones and tags, when given, replace the lists; each change is
    recorded."""
    customer = get_or_404(Customer, customer_id, "customer")
    clean, errors = directory.clean_customer(json_body(), creating=False)
    if errors:
        _refuse(errors)
    _check_ownership(clean, customer)
    user_id = api_user().id
    directory.apply_customer(customer, clean, _source(), user_id)
    linked = list(session().scalars(select(Contact).where(Contact.customer_id == customer.id)))
    for contact in linked:
        # Linked contacts carry copies of the CIL and contract, which the conversation filters read.
        if contact.cil != customer.cil:
            directory.record("cil", contact.cil, customer.cil, "link", user_id, contact=contact)
            contact.cil = customer.cil
    session().commit()
    answer = customer_details(customer)
    _announce([c.id for c in linked])
    return jsonify(answer)


@bp.post("/customers/import")
@require_roles("admin")
def import_csv():
    """Import a CSV (multipart `file`, or a text/csv body): upsert on the CIL, a report of every rejected row."""
    if request.files:
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "bad_request", "Send the CSV as the multipart field named file.")
        stream = upload.stream
    elif request.mimetype in ("text/csv", "text/plain", "application/csv"):
        stream = request.stream
    else:
        raise ApiError(400, "bad_request", "Send a CSV: multipart/form-data with a file field, or a text/csv body.")
    try:
        report = directory.import_customers(stream, api_user().id)
    except directory.UnreadableFile as failure:
        session().rollback()
        raise failure.api_error(422, "unreadable_file") from failure
    return jsonify(report)


def _source() -> str:
    from inbox.auth import bearer_token

    return "api" if bearer_token() else "inbox"


def _announce(contact_ids: list[int]) -> None:
    """conversation.updated for the conversations of these contacts, after the commit."""
    from inbox.realtime import conversation_event

    if not contact_ids:
        return
    query = (
        select(Conversation)
        .where(Conversation.contact_id.in_(contact_ids))
        .options(
            joinedload(Conversation.account),
            joinedload(Conversation.contact),
            joinedload(Conversation.identity),
            joinedload(Conversation.assignee),
        )
    )
    conversations = list(session().scalars(query).unique())
    session().commit()  # end the read before the emits
    for conversation in conversations:
        conversation_event("conversation.updated", conversation)
    session().commit()


@bp.post("/contacts/<int:contact_id>/customer")
@require_roles(*WRITERS)
def link(contact_id: int):
    """Link a channel contact to a directory entry: {"customer_id", "contract"?}."""
    from inbox.contacts_api import contact_details

    contact = get_or_404(Contact, contact_id, "contact")
    body = json_body()
    customer_id, contract = body.get("customer_id"), body.get("contract")
    if isinstance(customer_id, bool) or not isinstance(customer_id, int):
        raise ApiError(422, "bad_customer_id", "customer_id must be the id of a directory entry.")
    if contract is not None and not isinstance(contract, str):
        raise ApiError(422, "invalid_contract", "contract must be one of the entry's contract numbers, or absent.")
    customer = session().get(Customer, customer_id)
    if customer is None:
        raise ApiError(404, "not_found", "No customer %(id)s.", id=customer_id)
    try:
        directory.link_contact(contact, customer, contract or None, api_user().id)
    except directory.Invalid as refusal:
        raise refusal.api_error(422, refusal.code) from refusal
    session().commit()
    answer = contact_details(contact)
    _announce([contact.id])
    return jsonify(answer)


@bp.delete("/contacts/<int:contact_id>/customer")
@require_roles(*WRITERS)
def unlink(contact_id: int):
    """Unlink a contact from its directory entry (its copied CIL and contract are cleared)."""
    from inbox.contacts_api import contact_details

    contact = get_or_404(Contact, contact_id, "contact")
    if contact.customer_id is None:
        raise ApiError(409, "not_linked", "This contact is not linked to a directory entry.")
    directory.unlink_contact(contact, api_user().id)
    session().commit()
    answer = contact_details(contact)
    _announce([contact.id])
    return jsonify(answer)


def count() -> int:
    """How many entries the directory holds (the admin page shows it)."""
    return session().scalar(select(func.count(Customer.id))) or 0
