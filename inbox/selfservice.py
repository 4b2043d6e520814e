"""Self-service on channels that show choices (WhatsApp): the menu, the meter-reading flow and the
out-of-hours answer, run on each customer message inside the ingest's transaction.

The conversation is queued as any other before any of this runs: the menu never delays an agent, and a
choice only pre-qualifies and routes it while it waits. The flow keeps its place in `self_service_states`
and says nothing more once an agent has written. Every message it sends is an automatic one
(`data.automatic`, no author), which never stops a service clock (inbox/sla.py).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from campaigns.optout import normalise
from connectors import get_connector
from inbox import timeline
from inbox.business_time import Calendar, ClosedCalendar
from inbox.calendars import calendar_for
from inbox.db import session, utcnow
from inbox.models import (
    METER_KINDS,
    Attachment,
    CatalogueItem,
    ChannelAccount,
    Conversation,
    CustomerContract,
    Message,
    MeterReading,
    SelfServiceState,
)
from inbox.selfservice_texts import MENU_ORDER, TEXTS, WEEKDAYS

MAX_WRONG_ANSWERS = 3  # then an agent takes over (the conversation is in the queue all along)
MAX_INDEX_DIGITS = 10
# An index is "unusual" when the consumption since the last reading is more than this per day (at least one
# day counted): about six times what a large household uses (0.5 m3 of water, 10 kWh a day).
UNUSUAL_PER_DAY = {"water": 3, "electricity": 60}
# The catalogue entries a choice pre-qualifies with (inbox/catalogue.py DEFAULT_FAMILIES and DEFAULT_SERVICES);
# a service with a team routes the conversation to that team's queue.
QUALIFICATION = {
    "information": ("information", None, None, None),
    "claim": ("claim", None, None, "Cellule de traitement des réclamations"),
    "meter": ("request", "Compteur", "Relève", "Service facturation"),
}
# The meter named in words instead of a tap (normalised: lower case, no accents).
METER_WORDS = {
    **dict.fromkeys(("eau", "water", "l eau", "الماء", "الما", "lma", "compteur d eau"), "water"),
    **dict.fromkeys(("electricite", "electricity", "الكهرباء", "الضو", "dow", "daw"), "electricity"),
}


def enabled(account: ChannelAccount) -> bool:
    """Whether self-service runs on this account (SELF_SERVICE, and a platform that shows choices)."""
    return bool(current_app.config.get("SELF_SERVICE")) and get_connector(account.platform).CHOICES


def on_customer_message(conversation: Conversation, message: Message, received_at: datetime, is_new: bool, outcome):
    """Answer a customer's private message: the out-of-hours answer, then the menu or the flow's next step."""
    if not enabled(conversation.account) or conversation.thread_ref is not None or message.type == "reaction":
        return
    state, created = _state(conversation)
    flow = _Flow(conversation, state, outcome)
    new_period = flow.closed_notice(received_at)
    if flow.state.stopped_at is None and _agent_wrote(conversation):
        flow.state.stopped_at, flow.state.step = utcnow(), None
    if flow.state.stopped_at is not None or conversation.status == "resolved":
        return
    reply = (message.data or {}).get("reply_id") or ""
    if reply.startswith("menu:") and reply[5:] in MENU_ORDER:
        flow.chose(reply[5:])
    elif (flow.state.step or "").startswith("meter_"):
        STEPS[flow.state.step](flow, message, reply)
    elif (is_new and created) or new_period:  # a batch's second message in a new conversation is not new
        flow.menu()


def _state(conversation: Conversation) -> tuple[SelfServiceState, bool]:
    """The conversation's flow state, locked, and whether it was just created."""
    db = session()
    state = db.get(SelfServiceState, conversation.id, with_for_update=True)
    if state is not None:
        return state, False
    state = SelfServiceState(conversation_id=conversation.id, data={})
    db.add(state)
    db.flush()
    return state, True


def _agent_wrote(conversation: Conversation) -> bool:
    query = select(Message.id).where(
        Message.conversation_id == conversation.id, Message.direction == "out", Message.author_id.is_not(None)
    )
    return session().scalar(query.limit(1)) is not None


class _Flow:
    """One customer message's turn of the flow: reads and moves the state, queues the automatic answers."""

    def __init__(self, conversation: Conversation, state: SelfServiceState, outcome):
        self.conversation, self.state, self.outcome = conversation, state, outcome
        self.language = conversation.language or conversation.contact.language or "fr"
        if self.language not in TEXTS["menu"]:
            self.language = "fr"

    # ------------------------------------------------------------------ saying things

    def text(self, key: str, **values) -> str:
        return TEXTS[key][self.language].format(**values)

    def say(self, kind: str, text: str, options: list[str] | None = None, **extra) -> Message:
        """Queue an automatic message (with choices to tap when options are given)."""
        data: dict = {"automatic": kind, **extra}
        if options:
            data["choices"] = {
                "body": text,
                "button": self.text("menu_button"),
                "options": [self.option(key) for key in options],
            }
        message = Message(
            conversation_id=self.conversation.id,
            account_id=self.conversation.account_id,
            direction="out",
            type="interactive" if options else "text",
            text=text,
            status="queued",
            mode="direct",
            data=data,
        )
        session().add(message)
        session().flush()
        self.outcome.new_messages.append(message.id)
        self.outcome.messages_to_send.append(message.id)
        return message

    def option(self, key: str) -> dict:
        title = TEXTS[f"option_{key.replace(':', '_')}"][self.language]
        option = {"id": key, "title": title}
        description = TEXTS.get(f"describe_{key.replace(':', '_')}")
        if description:
            option["description"] = description[self.language]
        return option

    def move(self, step: str | None, **data) -> None:
        self.state.step = step
        self.state.data = {**(self.state.data or {}), **data}

    def wrong(self, key: str, options: list[str] | None = None, **values) -> None:
        """A wrong answer: ask again, or after MAX_WRONG_ANSWERS leave it to an agent."""
        tries = (self.state.data or {}).get("wrong", 0) + 1
        if tries >= MAX_WRONG_ANSWERS:
            self.move(None, wrong=0)
            self.say("handed_over", self.text("handed_over"))
            return
        self.move(self.state.step, wrong=tries)
        self.say(f"retry_{self.state.step}", self.text(key, **values), options)

    # ------------------------------------------------------------------ the out-of-hours answer

    def closed_notice(self, received_at: datetime) -> bool:
        """Tell a customer writing while closed when agents are back, once per closed period; True if told."""
        calendar = calendar_for(self.conversation.account)
        if calendar.is_open(received_at):
            return False
        try:
            reopens = calendar.next_open(received_at)
        except ClosedCalendar:
            return False
        if self.state.closed_notice_for is not None and self.state.closed_notice_for == reopens:
            return False
        self.state.closed_notice_for = reopens
        self.say("closed", self.text("closed", when=when_text(calendar, received_at, reopens, self.language)))
        return True

    # ------------------------------------------------------------------ the menu

    def menu(self) -> None:
        self.move("menu", wrong=0)
        self.say("menu", self.text("menu"), [f"menu:{key}" for key in MENU_ORDER])

    def chose(self, choice: str) -> None:
        """A choice of the menu: pre-qualify and route, then answer it (or start the reading flow)."""
        self.prequalify(choice)
        if choice != "meter":
            self.move(None, wrong=0, choice=choice)
            self.say(f"chose_{choice}", self.text(f"chose_{choice}"))
            return
        self.state.data = {"choice": "meter", "wrong": 0}
        contract = self.conversation.contact.contract
        if contract:
            self.move("meter_kind", contract=contract)
            self.say("ask_meter", self.text("ask_meter_known", contract=contract), ["meter:water", "meter:electricity"])
        else:
            self.move("meter_contract")
            self.say("ask_contract", self.text("ask_contract"))

    def prequalify(self, choice: str) -> None:
        if choice not in QUALIFICATION or self.conversation.request_type is not None:
            return  # an agent's (or an earlier) qualification stands
        request_type, family_name, nature_name, service_name = QUALIFICATION[choice]
        conversation = self.conversation
        conversation.request_type = request_type
        family = _catalogue("family", family_name)
        nature = _catalogue("nature", nature_name, family.id if family else None) if family else None
        service = _catalogue("service", service_name)
        conversation.family_id = family.id if family else None
        conversation.nature_id = nature.id if nature else None
        if request_type == "claim" and service is not None:
            conversation.service_id = service.id
        timeline.record("prequalified", conversation_id=conversation.id, choice=choice, request_type=request_type)
        if service is not None and service.team_id and conversation.assignee_id is None:
            if conversation.team_id != service.team_id:
                conversation.team_id = service.team_id
                timeline.record("routed", conversation_id=conversation.id, team=service.team_id, auto=True)
                self.fill_places()

    def fill_places(self) -> None:
        from inbox.assignment import fill_places

        session().flush()
        self.outcome.assignments.extend(fill_places(wait=False))

    # ------------------------------------------------------------------ the meter reading

    def contract_answer(self, message: Message, reply: str) -> None:
        number = re.sub(r"[\s-]", "", message.text or "") if message.type == "text" else ""
        known = number and session().scalar(select(CustomerContract.number).where(CustomerContract.number == number))
        if not known:
            self.wrong("bad_contract")
            return
        self.move("meter_kind", contract=known, wrong=0)
        self.say("ask_meter", self.text("ask_meter"), ["meter:water", "meter:electricity"])

    def kind_answer(self, message: Message, reply: str) -> None:
        kind = reply.removeprefix("meter:") if reply else METER_WORDS.get(normalise(message.text), "")
        if kind not in METER_KINDS:
            self.wrong("ask_meter", ["meter:water", "meter:electricity"])
            return
        self.move("meter_index", meter=kind, wrong=0)
        self.say("ask_index", self.text("ask_index"))

    def index_answer(self, message: Message, reply: str) -> None:
        raw = re.sub(r"\s", "", message.text or "") if message.type == "text" else ""
        if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_INDEX_DIGITS:
            self.wrong("bad_index")
            return
        value, data = int(raw), self.state.data
        last = last_reading(data["contract"], data["meter"])
        if last is not None and value < last.index_value:
            self.wrong("index_below", last=last.index_value)
            return
        if last is not None and is_unusual(data["meter"], last, value, utcnow()):
            self.move("meter_confirm", index=value, wrong=0)
            self.say(
                "confirm_index",
                self.text("index_unusual", index=value, last=last.index_value),
                ["index:confirm", "index:correct"],
            )
            return
        self.move("meter_photo", index=value, unusual=False, wrong=0)
        self.say("ask_photo", self.text("ask_photo"), ["photo:skip"])

    def confirm_answer(self, message: Message, reply: str) -> None:
        if reply == "index:confirm":
            self.move("meter_photo", unusual=True, wrong=0)
            self.say("ask_photo", self.text("ask_photo"), ["photo:skip"])
        elif reply == "index:correct":
            self.move("meter_index", wrong=0)
            self.say("ask_index", self.text("ask_index"))
        else:
            last = last_reading(self.state.data["contract"], self.state.data["meter"])
            values = {"index": self.state.data["index"], "last": last.index_value if last else ""}
            self.wrong("index_unusual", ["index:confirm", "index:correct"], **values)

    def photo_answer(self, message: Message, reply: str) -> None:
        """An image is the meter's photo; anything else (the skip button, a text) records without one."""
        photo = None
        if message.type == "image":
            photo = session().scalar(select(Attachment.id).where(Attachment.message_id == message.id).limit(1))
        reading = self.record(photo)
        meter = self.text(f"meter_{reading.meter}")
        text = self.text(
            "receipt", index=reading.index_value, meter=meter, contract=reading.contract, receipt=reading.receipt_number
        )
        self.say("receipt", text, meter_reading_id=reading.id, receipt_number=reading.receipt_number)
        self.resolve()

    def record(self, photo_attachment_id: int | None) -> MeterReading:
        data, db = self.state.data, session()
        reading = MeterReading(
            receipt_number=f"pending-{uuid.uuid4().hex}",
            conversation_id=self.conversation.id,
            contact_id=self.conversation.contact_id,
            contract=data["contract"],
            meter=data["meter"],
            index_value=data["index"],
            confirmed_unusual=bool(data.get("unusual")),
            photo_attachment_id=photo_attachment_id,
            created_at=utcnow(),
        )
        db.add(reading)
        db.flush()
        reading.receipt_number = f"REL-{reading.created_at.year}-{reading.id:06d}"  # readable, never repeated
        self.move(None, wrong=0, reading_id=reading.id)
        timeline.record("meter_reading", conversation_id=self.conversation.id, reading=reading.receipt_number)
        return reading

    def resolve(self) -> None:
        """A path completed alone: the conversation is resolved, qualified as a meter reading."""
        conversation = self.conversation
        conversation.request_type = "request"
        family = _catalogue("family", "Compteur")
        nature = _catalogue("nature", "Relève", family.id) if family else None
        conversation.family_id = family.id if family else conversation.family_id
        conversation.nature_id = nature.id if nature else conversation.nature_id
        old = conversation.status
        conversation.status, conversation.resolved_at, conversation.queued_at = "resolved", utcnow(), None
        timeline.record("status_changed", conversation_id=conversation.id, old=old, new="resolved", auto=True)
        self.fill_places()


STEPS = {
    "meter_contract": _Flow.contract_answer,
    "meter_kind": _Flow.kind_answer,
    "meter_index": _Flow.index_answer,
    "meter_confirm": _Flow.confirm_answer,
    "meter_photo": _Flow.photo_answer,
}


def _catalogue(kind: str, name: str | None, parent_id: int | None = None) -> CatalogueItem | None:
    if name is None:
        return None
    query = select(CatalogueItem).where(
        CatalogueItem.kind == kind, CatalogueItem.name == name, CatalogueItem.active.is_(True)
    )
    if parent_id is not None:
        query = query.where(CatalogueItem.parent_id == parent_id)
    return session().scalars(query.limit(1)).first()


def last_reading(contract: str, meter: str) -> MeterReading | None:
    """The latest reading recorded for a contract's meter."""
    query = select(MeterReading).where(MeterReading.contract == contract, MeterReading.meter == meter)
    return session().scalars(query.order_by(MeterReading.created_at.desc(), MeterReading.id.desc()).limit(1)).first()


def is_unusual(meter: str, last: MeterReading, value: int, now: datetime) -> bool:
    """Whether the consumption since `last` exceeds UNUSUAL_PER_DAY (at least one day counted)."""
    days = max(1.0, (now - last.created_at).total_seconds() / 86400)
    return (value - last.index_value) > UNUSUAL_PER_DAY[meter] * days


def when_text(calendar: Calendar, now: datetime, reopens: datetime, language: str) -> str:
    """When agents are back, in the customer's words: "tomorrow at 10:00", "on Monday 07/12 at 10:00"."""
    local, today = reopens.astimezone(calendar.zone), now.astimezone(calendar.zone).date()
    clock = local.strftime("%H:%M")
    days = (local.date() - today).days
    if days == 0:
        return TEXTS["when_today"][language].format(time=clock)
    if days == 1:
        return TEXTS["when_tomorrow"][language].format(time=clock)
    day = WEEKDAYS[language][local.weekday()]
    return TEXTS["when_day"][language].format(day=day, date=local.strftime("%d/%m"), time=clock)
