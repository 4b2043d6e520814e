"""A campaign's audience: a CSV (a `phone` or `cil` column, any others as variables) or directory filters,
expanded into one recipient row per address, in batches, never all in memory."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from connectors import get_connector
from connectors.base import N_
from inbox.db import insert_ignoring_conflicts, session
from inbox.errors import Refusal
from inbox.models import (
    Campaign,
    CampaignRecipient,
    ChannelAccount,
    Contact,
    ContactIdentity,
    CustomerPhone,
    OptOut,
)
from inbox.rendering import MissingValue, TemplateRefused, render

BATCH = 1000
_NOT_DIGITS = re.compile(r"[^\d]")
VARIABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")


class AudienceError(Refusal):
    """The audience cannot be read at all (no header, no phone or cil column)."""


def whatsapp_address(raw: str | None) -> str | None:
    """A phone number as WhatsApp ids write it (country code and number, digits only), or None.

    Moroccan numbers are accepted in every local form: 06 12 34 56 78, +212 6..., 00212 6..., 212 6...;
    other countries with their + or 00 prefix."""
    if not raw:
        return None
    text = raw.strip()
    international = text.startswith("+") or text.startswith("00")
    digits = _NOT_DIGITS.sub("", text)
    if text.startswith("00"):
        digits = digits[2:]
    if not international and len(digits) == 10 and digits[0] == "0":
        digits = "212" + digits[1:]  # a Moroccan national number
    if digits.startswith("2120"):
        digits = "212" + digits[4:]  # +212 (0)6...: the trunk zero written after the country code
    if digits.startswith("212") and len(digits) != 12:
        return None
    return digits if 8 <= len(digits) <= 15 else None


@dataclass
class Row:
    line: int
    address: str | None
    contact_id: int | None
    variables: dict
    problem: str | None = None
    skip: str | None = None  # kept as a skipped recipient with this reason (no identity on the account)


@dataclass
class Report:
    """What reading the audience found, kept on the campaign and shown before anything is sent."""

    rows: int = 0
    recipients: int = 0
    duplicates: int = 0
    opted_out: int = 0
    skipped: int = 0  # a value the message needs is missing for them
    bad_rows: list[dict] = field(default_factory=list)

    BAD_ROWS_KEPT = 200

    def bad(self, line: int, reason: str) -> None:
        if len(self.bad_rows) < self.BAD_ROWS_KEPT:
            self.bad_rows.append({"line": line, "reason": reason})

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "recipients": self.recipients,
            "duplicates": self.duplicates,
            "opted_out": self.opted_out,
            "skipped": self.skipped,
            "bad": self.rows - self.recipients - self.duplicates,
            "bad_rows": self.bad_rows,
        }


def csv_columns(text: str) -> list[str]:
    """The header of a CSV audience (its first line), as variable names; AudienceError when it cannot be used."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first], delimiter=_delimiter(first)), None)
    if not header or not any(name.strip() for name in header):
        raise AudienceError(
            N_("The CSV is empty: its first line must name the columns (phone or cil, then variables).")
        )
    columns = [name.strip().lower() for name in header]
    bad = [name for name in columns if not VARIABLE_NAME.match(name)]
    if bad:
        message = N_("Column names are lower-case words (prenom, cil, montant): not %(names)s.")
        raise AudienceError(message, names=", ".join(bad))
    if "phone" not in columns and "cil" not in columns:
        raise AudienceError(N_("The CSV needs a phone or a cil column to say who receives the message."))
    if len(set(columns)) != len(columns):
        raise AudienceError(N_("Two columns have the same name."))
    return columns


def _delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","  # Excel in Morocco writes ;


def csv_rows(stream: io.TextIOBase, account: ChannelAccount) -> Iterator[Row]:
    """Each data row of a CSV audience read from a stream, with its address on the account (or why not)."""
    connector = get_connector(account.platform)
    first = stream.readline()
    columns = csv_columns(first)
    for line, values in enumerate(csv.reader(stream, delimiter=_delimiter(first)), start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(columns):
            yield Row(line, None, None, {}, f"{len(values)} values for {len(columns)} columns")
            continue
        variables = {name: value.strip() for name, value in zip(columns, values, strict=True)}
        if connector.PHONE_ADDRESSES:
            yield _addressed(line, variables, account.id)
        else:
            yield _identified(line, variables, account.id, connector.IDENTITY)


def _identified(line: int, variables: dict, account_id: int, name: str) -> Row:
    """A row on a platform that reaches people only through an identity the account has seen (a Messenger
    PSID, an X user id), found from the row's cil or phone; without one the row is a skipped recipient."""
    query = select(ContactIdentity.external_id, Contact.id).join(Contact, Contact.id == ContactIdentity.contact_id)
    query = query.where(ContactIdentity.account_id == account_id).order_by(ContactIdentity.id).limit(1)
    placeholder = None
    if variables.get("cil"):
        placeholder = f"cil:{variables['cil']}"
        found = session().execute(query.where(Contact.cil == variables["cil"])).first()
        if found:
            return Row(line, found[0], found[1], variables)
    if variables.get("phone"):
        number = whatsapp_address(variables["phone"])
        if number is None and placeholder is None:
            return Row(line, None, None, variables, f"{variables['phone']!r} is not a phone number")
        if number is not None:
            placeholder = placeholder or f"phone:{number}"
            listed = select(CustomerPhone.customer_id).where(CustomerPhone.number == number)
            found = session().execute(query.where((Contact.phone == number) | Contact.customer_id.in_(listed))).first()
            if found:
                return Row(line, found[0], found[1], variables)
    if placeholder is None:
        return Row(line, None, None, variables, NO_ADDRESS)
    return Row(line, placeholder, None, variables, skip=NO_IDENTITY % {"name": name})


def _addressed(line: int, variables: dict, account_id: int) -> Row:
    contact = None
    if variables.get("cil"):
        contact = session().scalars(select(Contact).where(Contact.cil == variables["cil"]).limit(1)).first()
    if variables.get("phone"):
        address = whatsapp_address(variables["phone"])
        if address is None:
            return Row(line, None, None, variables, f"{variables['phone']!r} is not a phone number")
        return Row(line, address, contact.id if contact else None, variables)
    if contact is None:
        return Row(line, None, None, variables, f"no customer with CIL {variables['cil']!r}")
    identity = (
        session()
        .scalars(
            select(ContactIdentity).where(
                ContactIdentity.contact_id == contact.id, ContactIdentity.account_id == account_id
            )
        )
        .first()
    )
    address = identity.external_id if identity else whatsapp_address(contact.phone)
    if address is None:
        return Row(line, None, contact.id, variables, f"the customer with CIL {variables['cil']!r} has no number")
    return Row(line, address, contact.id, variables)


def filter_rows(filters: dict, account_id: int) -> Iterator[Row]:
    """Contacts reachable on the account (an identity there), narrowed by `language`, `cil_prefix`, `zone`,
    `segment` and `tags` (every one of them; of the directory entry they are linked to), streamed in id order."""
    from inbox.models import Customer, CustomerTag

    query = (
        select(Contact, ContactIdentity.external_id)
        .join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
        .where(ContactIdentity.account_id == account_id)
    )
    if filters.get("language"):
        query = query.where(Contact.language == filters["language"])
    if filters.get("cil_prefix"):
        query = query.where(Contact.cil.startswith(filters["cil_prefix"], autoescape=True))
    for tag in filters.get("tags") or ():
        tagged = select(CustomerTag.id).where(CustomerTag.customer_id == Contact.customer_id, CustomerTag.tag == tag)
        query = query.where(tagged.exists())
    if filters.get("zone") or filters.get("segment"):
        query = query.join(Customer, Customer.id == Contact.customer_id)
        if filters.get("zone"):
            query = query.where(Customer.zone == filters["zone"])
        if filters.get("segment"):
            query = query.where(Customer.segment == filters["segment"])
    last_id, line = 0, 0
    while True:
        page = session().execute(query.where(Contact.id > last_id).order_by(Contact.id).limit(BATCH)).all()
        if not page:
            return
        for contact, external_id in page:
            line += 1
            variables = {
                "name": contact.name,
                "prenom": (contact.name or "").split(" ")[0],
                "cil": contact.cil,
                "contract": contact.contract,
            }
            yield Row(line, external_id, contact.id, {k: v for k, v in variables.items() if v})
        last_id = page[-1][0].id


FILTER_VARIABLES = {"name", "prenom", "cil", "contract"}
OPTED_OUT = N_("opted out")
NO_ADDRESS = N_("no cil and no phone on this line")
NO_IDENTITY = N_("no %(name)s identity")
REASONS = (OPTED_OUT, NO_ADDRESS, NO_IDENTITY)  # what a skipped row or a bad one may say


def expand(campaign: Campaign, rows: Iterator[Row], variables: set[str], end_batch) -> Report:
    """Insert one pending recipient per new address, BATCH rows per statement; `end_batch()` is called after
    each batch (the job commits there, so the transaction stays as flat as the memory). Bad rows, duplicates,
    the opted-out and rows missing a value the message needs are reported."""
    db = session()
    report = Report()
    opted_out = set(
        db.scalars(select(OptOut.address).where(OptOut.platform == campaign.account.platform))
    )  # the suppression list is small beside an audience: one set, not a query per row
    statement = insert_ignoring_conflicts(
        CampaignRecipient, ("campaign_id", "address"), returning=CampaignRecipient.address
    )
    batch: dict[str, dict] = {}

    def insert() -> None:
        # A row whose address is already in the campaign is not inserted, hence not returned: a duplicate.
        inserted = set(db.connection().scalars(statement, list(batch.values())))
        report.duplicates += len(batch) - len(inserted)
        for address in inserted:
            state, reason = batch[address]["state"], batch[address]["reason"]
            report.recipients += 1
            report.opted_out += reason == OPTED_OUT
            report.skipped += state == "skipped" and reason != OPTED_OUT
        batch.clear()
        end_batch()

    for row in rows:
        report.rows += 1
        if row.problem:
            report.bad(row.line, row.problem)
            continue
        if row.address in batch:
            report.duplicates += 1
            continue
        state, reason = "pending", None
        if row.skip:
            state, reason = "skipped", row.skip
        elif row.address in opted_out:
            state, reason = "skipped", OPTED_OUT
        elif campaign.text:
            try:
                render(campaign.text, row.variables, variables)
            except (MissingValue, TemplateRefused) as problem:
                state, reason = "skipped", str(problem)
        batch[row.address] = {
            "campaign_id": campaign.id,
            "account_id": campaign.account_id,
            "address": row.address,
            "contact_id": row.contact_id,
            "variables": row.variables,
            "state": state,
            "reason": reason,
            "attempts": 0,
        }
        if len(batch) >= BATCH:
            insert()
    if batch:
        insert()
    return report
