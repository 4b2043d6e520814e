"""The customer directory: validation and normalisation of its fields (one place, used by the CSV import, the
API and the browser's errors), the streaming CSV import, linking channel contacts, and the change history."""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connectors.base import N_
from inbox.db import session, utcnow
from inbox.errors import Refusal
from inbox.models import Contact, ContactChange, Customer, CustomerContract, CustomerPhone, CustomerTag

# The zones of the utility's area (Rabat-Salé-Témara and around); other zones are accepted as written.
ZONES = (
    "Rabat",
    "Salé",
    "Témara",
    "Skhirat",
    "Harhoura",
    "Aïn Aouda",
    "Bouknadel",
    "Sidi Bouknadel",
    "Tamesna",
    "Ain El Aouda",
)
SEGMENTS = ("individual", "key_account")
_SEGMENT_WORDS = {
    "individual": "individual",
    "particulier": "individual",
    "key_account": "key_account",
    "key account": "key_account",
    "key-account": "key_account",
    "grand compte": "key_account",
    "grand_compte": "key_account",
}
LENGTHS = {"name": 200, "cin": 20, "email": 254, "address": 2000, "landmark": 2000, "zone": 100}
PHONE_PUNCTUATION = re.compile(r"[\s.\-()/]")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
CIN = re.compile(r"^[A-Z]{1,2}[0-9]{3,7}$")
IDENTIFIER = re.compile(r"^[A-Z0-9][A-Z0-9/-]{0,39}$")
TAG = re.compile(r"^\w[\w '.&+-]{0,39}$")  # letters of any script, digits, and a few joiners
LIST_SEPARATOR = "|"
# CSV columns (header names, case-insensitive) and the field each one fills.
COLUMNS = {
    "cil": "cil",
    "name": "name",
    "nom": "name",
    "cin": "cin",
    "email": "email",
    "e-mail": "email",
    "phones": "phones",
    "phone": "phones",
    "telephone": "phones",
    "contracts": "contracts",
    "contract": "contracts",
    "contrat": "contracts",
    "address": "address",
    "adresse": "address",
    "landmark": "landmark",
    "zone": "zone",
    "segment": "segment",
    "tags": "tags",
    "tag": "tags",
    "etiquettes": "tags",
    "étiquettes": "tags",
}
SCALARS = ("cil", "name", "cin", "email", "address", "landmark", "zone", "segment")
BATCH_SIZE = 500
MAX_REJECTED_LISTED = 1000


NOT_A_PHONE = N_(
    "%(value)s is not a Moroccan mobile (06… or 07…) or fixed line (05…): write 10 digits such as 06 61 23 45 67, "
    "or +212 6 61 23 45 67."
)
NOT_A_MOBILE = N_(
    "%(value)s is not a Moroccan mobile (06… or 07…): write 10 digits such as 06 61 23 45 67, or +212 6 61 23 45 67."
)
NOT_A_CIL = N_("%(value)s is not a CIL number: use digits (and letters, - or /), at most 40, without spaces.")
NOT_A_TAG = N_(
    "%(value)s is not a tag: letters, digits, spaces and - _ ' . & +, at most 40 characters, tags separated by |."
)
NOT_A_CONTRACT = N_("%(value)s is not a contract number: use digits (and letters, - or /), at most 40, without spaces.")


class Invalid(Refusal):
    """A value refused, with the sentence shown to the agent (in their language) and a code for API clients."""

    def __init__(self, code: str, message: str, /, **params):
        super().__init__(message, **params)
        self.code = code


# ---------------------------------------------------------------- one field at a time


def normalise_phone(value: str, fixed: bool = True) -> str:
    """A Moroccan number in international digits (2126…, 2127…, and 2125… fixed lines when `fixed`), from any
    usual writing: 06 61 23 45 67, 0661-234567, +212 661 23 45 67, 00212661234567, 212661234567, +212 (0)6…"""
    compact = PHONE_PUNCTUATION.sub("", value or "")
    if compact.startswith("+"):
        compact = compact[1:]
    elif compact.startswith("00"):
        compact = compact[2:]
    if compact.startswith("212"):
        national = compact[3:]
        if national.startswith("0"):  # +212 (0)6…: the trunk 0 written after the country code
            national = national[1:]
    elif compact.startswith("0"):
        national = compact[1:]
    else:
        national = None
    kinds = "567" if fixed else "67"
    if national is None or not national.isdigit() or len(national) != 9 or national[0] not in kinds:
        message = NOT_A_PHONE if fixed else NOT_A_MOBILE
        raise Invalid("invalid_phone", message, value=repr(value))
    return "212" + national


def normalise_email(value: str) -> str:
    """The e-mail in lower case; Invalid when it is not name@domain.tld."""
    email = (value or "").strip().lower()
    if not EMAIL.match(email) or len(email) > LENGTHS["email"]:
        raise Invalid("invalid_email", N_("%(value)s is not an e-mail address (name@example.com)."), value=repr(value))
    return email


def normalise_cin(value: str) -> str:
    """A Moroccan national id card number: one or two letters then digits (AB123456, A12345), in upper case."""
    cin = re.sub(r"[\s-]", "", value or "").upper()
    if not CIN.match(cin):
        message = N_(
            "%(value)s is not a CIN: one or two letters followed by 3 to 7 digits, such as AB123456 or A12345."
        )
        raise Invalid("invalid_cin", message, value=repr(value))
    return cin


def normalise_identifier(value: str, what: str) -> str:
    """A CIL or contract number: letters, digits, - or /, up to 40, no space; letters in upper case."""
    identifier = (value or "").strip().upper()
    if not IDENTIFIER.match(identifier):
        message = NOT_A_CIL if what == "cil" else NOT_A_CONTRACT
        raise Invalid("invalid_" + what, message, value=repr(value))
    return identifier


def normalise_zone(value: str) -> str:
    """The zone's usual spelling when it is a known one (sale -> Salé), else the text as written."""
    zone = " ".join((value or "").split())
    key = _fold(zone)
    for known in ZONES:
        if _fold(known) == key:
            return known
    if len(zone) > LENGTHS["zone"]:
        raise Invalid("too_long", N_("The zone takes at most %(limit)s characters."), limit=LENGTHS["zone"])
    return zone


def normalise_tag(value: str) -> str:
    """A tag as stored and matched: single spaces, case folded (E-Facture and e-facture are one tag)."""
    tag = " ".join((value or "").split()).casefold()
    if not TAG.match(tag):
        raise Invalid("invalid_tag", NOT_A_TAG, value=repr(value))
    return tag


def normalise_segment(value: str) -> str:
    """individual or key_account (also written "key account", "grand compte", "particulier")."""
    segment = _SEGMENT_WORDS.get(" ".join((value or "").lower().split()))
    if segment is None:
        message = N_("%(value)s is not a segment: write individual or key_account.")
        raise Invalid("invalid_segment", message, value=repr(value))
    return segment


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _text(value: str, name: str) -> str:
    if len(value) > LENGTHS[name]:
        raise Invalid(
            "too_long", N_("The %(name)s takes at most %(limit)s characters."), name=name, limit=LENGTHS[name]
        )
    return value


_NORMALISERS: dict[str, Callable[[str], str]] = {
    "cil": lambda v: normalise_identifier(v, "cil"),
    "name": lambda v: _text(" ".join(v.split()), "name"),
    "cin": normalise_cin,
    "email": normalise_email,
    "address": lambda v: _text(v, "address"),
    "landmark": lambda v: _text(v, "landmark"),
    "zone": normalise_zone,
    "segment": normalise_segment,
}
LISTS = {  # the fields that are lists: their normaliser, their rows' model, and the rows' column
    "contracts": (lambda v: normalise_identifier(v, "contract"), CustomerContract, "number"),
    "phones": (normalise_phone, CustomerPhone, "number"),
    "tags": (normalise_tag, CustomerTag, "tag"),
}
CUSTOMER_FIELDS = (*SCALARS, *LISTS)


def clean_customer(values: dict, creating: bool) -> tuple[dict, dict[str, str]]:
    """The fields of a directory entry checked and normalised: (clean values, {field: sentence} refusals).
    Strings are trimmed, empty means none; contracts, phones and tags are lists (or `|`-separated text)."""
    clean: dict = {}
    errors: dict[str, str] = {}
    for name in sorted(set(values) - set(CUSTOMER_FIELDS)):
        errors[name] = f"{name} is not a field of a directory entry."
    for name in SCALARS:
        if name not in values:
            continue
        raw = values[name]
        if raw is not None and not isinstance(raw, str):
            errors[name] = f"{name} must be text or null."
            continue
        raw = (raw or "").strip()
        if not raw:
            if name == "cil":
                errors[name] = "The CIL is required: it identifies the customer."
            else:
                clean[name] = "individual" if name == "segment" else None
            continue
        try:
            clean[name] = _NORMALISERS[name](raw)
        except Invalid as refusal:
            errors[name] = refusal.message
    for name, (normalise, _model, _column) in LISTS.items():
        if name not in values:
            continue
        items = values[name]
        if items is None:
            items = []
        elif isinstance(items, str):
            items = items.split(LIST_SEPARATOR)
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            errors[name] = f"{name} must be a list of text."
            continue
        found, refused = [], []
        for item in (i.strip() for i in items):
            if not item:
                continue
            try:
                number = normalise(item)
            except Invalid as refusal:
                refused.append(refusal.message)
                continue
            if number not in found:
                found.append(number)
        if refused:
            errors[name] = " ".join(refused)
        else:
            clean[name] = found
    if creating and "cil" not in values:
        errors["cil"] = "The CIL is required: it identifies the customer."
    return clean, errors


# ---------------------------------------------------------------- writing entries and their history


def record(
    field: str,
    old,
    new,
    source: str,
    user_id: int | None,
    *,
    customer: Customer | None = None,
    contact: Contact | None = None,
) -> None:
    """Keep one changed field in contact_changes (the caller commits)."""
    session().add(
        ContactChange(
            customer_id=customer.id if customer else None,
            contact_id=contact.id if contact else None,
            user_id=user_id,
            source=source,
            field=field,
            old_value=None if old is None else str(old),
            new_value=None if new is None else str(new),
            created_at=utcnow(),
        )
    )


def contract_holders(numbers: Iterable[str], customer: Customer | None) -> dict[str, str]:
    """{contract: CIL of its holder} for the numbers held by a customer other than `customer`."""
    numbers = list(numbers)
    if not numbers:
        return {}
    query = (
        select(CustomerContract.number, Customer.cil)
        .join(Customer, Customer.id == CustomerContract.customer_id)
        .where(CustomerContract.number.in_(numbers))
    )
    if customer is not None and customer.id is not None:
        query = query.where(CustomerContract.customer_id != customer.id)
    return dict(session().execute(query).all())


def cil_taken(cil: str, customer: Customer | None) -> bool:
    """Whether another directory entry has this CIL."""
    query = select(Customer.id).where(Customer.cil == cil)
    if customer is not None:
        query = query.where(Customer.id != customer.id)
    return session().scalar(query) is not None


def apply_customer(customer: Customer, clean: dict, source: str, user_id: int | None, merge: bool = False) -> bool:
    """Write clean values on an entry, recording each changed field; contracts, phones and tags are replaced, or
    only added to when `merge` (the import). The caller checked contract ownership. True when anything changed.
    A new entry (no id yet) is added and recorded once, as `created`."""
    changed = False
    new = customer.id is None
    for name in SCALARS:
        if name not in clean or getattr(customer, name) == clean[name]:
            continue
        if not new:
            record(name, getattr(customer, name), clean[name], source, user_id, customer=customer)
        setattr(customer, name, clean[name])
        changed = True
    for name, (_normalise, model, column) in LISTS.items():
        if name not in clean:
            continue
        rows = getattr(customer, name)
        before = [getattr(row, column) for row in rows]
        wanted = before + [n for n in clean[name] if n not in before] if merge else clean[name]
        if wanted == before:
            continue
        for row in [row for row in rows if getattr(row, column) not in wanted]:
            rows.remove(row)
        for value in wanted:
            if value not in before:
                rows.append(model(**{column: value}))
        if not new:
            record(name, LIST_SEPARATOR.join(before), LIST_SEPARATOR.join(wanted), source, user_id, customer=customer)
        changed = True
    if new:
        session().add(customer)
        session().flush()
        record("created", None, customer.cil, source, user_id, customer=customer)
    elif changed:
        customer.updated_at = utcnow()
    session().flush()
    return changed


# ---------------------------------------------------------------- the CSV import


class UnreadableFile(Refusal):
    """A file the import cannot read at all (no header, no cil column, not UTF-8)."""


def text_lines(binary) -> Iterator[str]:
    """The lines of a binary stream decoded as UTF-8, with or without BOM, read a chunk at a time (never whole)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    pending = ""
    try:
        while True:
            chunk = binary.read(64 * 1024)
            text = decoder.decode(chunk or b"", final=not chunk)
            # Only \n ends a line here (\r\n keeps its \r for csv); a cell's other breaks stay inside the line.
            *complete, pending = (pending + text).split("\n")
            for line in complete:
                yield line + "\n"
            if not chunk:
                break
    except UnicodeDecodeError as exc:
        raise UnreadableFile(N_('The file is not UTF-8 text: save it from Excel as "CSV UTF-8".')) from exc
    if pending:
        yield pending


def _header(line: str) -> tuple[str, list[str]]:
    delimiter = ";" if line.count(";") > line.count(",") else ","
    names = next(csv.reader([line], delimiter=delimiter))
    return delimiter, [n.strip().lower() for n in names]


def import_customers(binary, user_id: int | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Read a CSV of directory entries (a header row, `;` or `,`, several contracts, phones or tags per cell separated
    by `|`) and upsert them on the CIL, streaming and committing every `batch_size` rows: a job-like task that
    owns its transactions. Returns {created, updated, unchanged, rejected: [{line, cil, reasons}], ...}."""
    db = session()
    lines = text_lines(binary)
    first, header_lines = next(lines, None), 1
    while first is not None and not first.strip():
        first, header_lines = next(lines, None), header_lines + 1
    if first is None:
        raise UnreadableFile(N_("The file is empty: the first line must name the columns (cil;name;phones;...)."))
    delimiter, names = _header(first)
    if "cil" not in names:
        message = N_("The header has no cil column; it reads: %(names)s.")
        raise UnreadableFile(message, names=", ".join(names) or "-")
    fields = [COLUMNS.get(n) for n in names]
    report = {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": [],
        "rejected_count": 0,
        "delimiter": delimiter,
        "ignored_columns": [n for n, f in zip(names, fields, strict=True) if f is None and n],
    }
    reader = csv.reader(lines, delimiter=delimiter)
    in_batch, previous = 0, 0
    for cells in reader:
        line, previous = previous + 1 + header_lines, reader.line_num  # where the row starts
        if not any(c.strip() for c in cells):
            continue
        values = {}
        for field, cell in zip(fields, cells, strict=False):
            if field is not None:
                values[field] = f"{values[field]}{LIST_SEPARATOR}{cell}" if field in values else cell
        outcome, reasons = _import_row(values, user_id)
        if reasons:
            report["rejected_count"] += 1
            if len(report["rejected"]) < MAX_REJECTED_LISTED:
                report["rejected"].append({"line": line, "cil": (values.get("cil") or "").strip(), "reasons": reasons})
        else:
            report[outcome] += 1
        in_batch += 1
        if in_batch >= batch_size:
            db.commit()
            db.expunge_all()  # what a committed batch loaded is not needed again: memory stays flat
            in_batch = 0
    db.commit()
    return report


def _import_row(values: dict, user_id: int | None) -> tuple[str | None, list[str]]:
    clean, errors = clean_customer(values, creating=True)
    if errors:
        return None, list(errors.values())
    db = session()
    customer = db.scalars(select(Customer).where(Customer.cil == clean["cil"])).first()
    held = contract_holders(clean.get("contracts", []), customer)
    if held:
        return None, [f"Contract {n} belongs to the customer with CIL {cil}." for n, cil in sorted(held.items())]
    if customer is not None:
        # An empty cell never erases what the directory already holds: the import adds and corrects.
        clean = {k: v for k, v in clean.items() if v not in (None, [])}
        if not (values.get("segment") or "").strip():
            clean.pop("segment", None)
    created = customer is None
    try:
        with db.begin_nested():
            changed = apply_customer(customer or Customer(), clean, "import", user_id, merge=True)
    except IntegrityError:
        return None, ["The row conflicts with another one written at the same time; import it again."]
    if created:
        return "created", []
    return ("updated" if changed else "unchanged"), []


# ---------------------------------------------------------------- linking channel contacts


def link_contact(contact: Contact, customer: Customer, contract: str | None, user_id: int | None) -> None:
    """Link a channel contact to a directory entry: copy the CIL and the chosen (or only) contract, fill the
    contact's empty name, CIN, e-mail and address, each copied field recorded with source link."""
    numbers = [c.number for c in customer.contracts]
    if contract is not None:
        contract = contract.strip().upper()
        if contract not in numbers:
            message = N_("Contract %(contract)s is not one of CIL %(cil)s's contracts.")
            raise Invalid("unknown_contract", message, contract=contract, cil=customer.cil)
    elif len(numbers) == 1:
        contract = numbers[0]
    elif numbers:
        message = N_("CIL %(cil)s has %(count)s contracts (%(numbers)s): choose the one this is about.")
        raise Invalid("contract_required", message, cil=customer.cil, count=len(numbers), numbers=", ".join(numbers))
    copies = {"customer_id": customer.id, "cil": customer.cil, "contract": contract}
    for name in ("name", "cin", "email", "address"):
        if not getattr(contact, name) and getattr(customer, name):
            copies[name] = getattr(customer, name)
    for name, value in copies.items():
        if getattr(contact, name) != value:
            record(name, getattr(contact, name), value, "link", user_id, contact=contact)
            setattr(contact, name, value)
    contact.updated_at = utcnow()


def unlink_contact(contact: Contact, user_id: int | None) -> None:
    """Undo a link: the contact is no longer that entry; the CIL and contract copied from it go too."""
    for name in ("customer_id", "cil", "contract"):
        if getattr(contact, name) is not None:
            record(name, getattr(contact, name), None, "link", user_id, contact=contact)
            setattr(contact, name, None)
    contact.updated_at = utcnow()


def change_json(change: ContactChange) -> dict:
    """One recorded change as the API shows it."""
    user = change.user
    return {
        "id": change.id,
        "contact_id": change.contact_id,
        "customer_id": change.customer_id,
        "field": change.field,
        "old": change.old_value,
        "new": change.new_value,
        "source": change.source,
        "user": {"id": user.id, "name": user.name} if user else None,
        "created_at": change.created_at.isoformat(),
    }


def changes_of(*, contact_id: int | None = None, customer_id: int | None = None, limit: int = 200) -> list[dict]:
    """The latest changes of a contact or a directory entry, newest first."""
    column = ContactChange.contact_id if contact_id is not None else ContactChange.customer_id
    query = (
        select(ContactChange)
        .where(column == (contact_id if contact_id is not None else customer_id))
        .order_by(ContactChange.created_at.desc(), ContactChange.id.desc())
        .limit(limit)
    )
    return [change_json(c) for c in session().scalars(query)]
