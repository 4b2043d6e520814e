"""The data model: users, channel accounts, contacts, conversations, messages and what comes with them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inbox.db import Base, UTCDateTime, utcnow

ROLES = ("agent", "supervisor", "marketing", "admin", "reviewer")
AVAILABILITIES = ("online", "away", "offline")
CONVERSATION_STATUSES = ("open", "pending", "resolved")
REQUEST_TYPES = ("information", "claim", "request")
CATALOGUE_KINDS = ("family", "nature", "service")
CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "paused", "done", "cancelled")
# A recipient moves pending -> sending -> sent | failed | skipped; a send cut short by a crash is interrupted.
RECIPIENT_STATES = ("pending", "sending", "sent", "failed", "skipped", "interrupted")
CASE_STATES = ("open", "escalated", "awaiting_approval", "answered", "closed")
PROPOSAL_STATES = ("pending", "approved", "rejected")
SEGMENTS = ("individual", "key_account")
# Outbound statuses only move forward along this order; `failed` is terminal (see ingest).
MESSAGE_STATUSES = ("received", "queued", "sent", "delivered", "read", "failed")
ATTACHMENT_STATES = ("pending", "ready", "failed")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    availability: Mapped[str] = mapped_column(String(10), default="offline", server_default="offline")
    availability_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Simultaneous open conversations the agent is given (set by a supervisor).
    capacity: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Round-robin: the agent assigned least recently goes first.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user's own settings (desktop notifications, sound), as the browser shows them.
    preferences: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    teams: Mapped[list[Team]] = relationship(secondary="team_members", back_populates="members", lazy="selectin")

    # Flask-Login's interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ChannelAccount(Base):
    """One number, Page or X account the service answers on."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # Tokens and app secrets; never serialised to clients nor logged.
    secrets: Mapped[dict] = mapped_column(JSON, default=dict)
    api_base_url: Mapped[str | None] = mapped_column(String(500))
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    # Opening hours {"mon": [["10:00", "20:00"]], ...} in TIMEZONE; None: the contract's default (business_time).
    business_hours: Mapped[dict | None] = mapped_column(JSON)
    # Business minutes to take a first contact and to answer each new message; None: FIRST_RESPONSE_MINUTES and
    # NEXT_RESPONSE_MINUTES (the contract: 15 for both).
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    # Campaign limits of this account; None: its platform's default (campaigns/limits.py).
    campaign_rate: Mapped[float | None] = mapped_column(Float)
    campaign_daily_cap: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

team_accounts = Table(
    "team_accounts",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Team(Base):
    """A group of agents serving some channel accounts (the key-accounts line) or treating a service's claims."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=team_members, back_populates="teams", lazy="selectin")
    accounts: Mapped[list[ChannelAccount]] = relationship(secondary=team_accounts, lazy="selectin")


class Customer(Base):
    """An entry of the utility's customer directory (imported from CSV, edited by agents)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    cil: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), index=True)
    cin: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    landmark: Mapped[str | None] = mapped_column(Text)
    zone: Mapped[str | None] = mapped_column(String(100), index=True)
    segment: Mapped[str] = mapped_column(String(20), default="individual", server_default="individual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contracts: Mapped[list[CustomerContract]] = relationship(
        order_by="CustomerContract.id", lazy="selectin", cascade="all, delete-orphan"
    )
    phones: Mapped[list[CustomerPhone]] = relationship(
        order_by="CustomerPhone.id", lazy="selectin", cascade="all, delete-orphan"
    )
    tags: Mapped[list[CustomerTag]] = relationship(
        order_by="CustomerTag.id", lazy="selectin", cascade="all, delete-orphan"
    )


class CustomerContract(Base):
    __tablename__ = "customer_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)


class CustomerPhone(Base):
    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32), index=True)  # digits, international form (212...)


class CustomerTag(Base):
    """A marketing tag on a directory entry (e-facture, gros consommateur...), chosen in campaign audiences."""

    __tablename__ = "customer_tags"
    __table_args__ = (UniqueConstraint("customer_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(40), index=True)  # normalised: single spaces, case folded


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    cil: Mapped[str | None] = mapped_column(String(40), index=True)
    contract: Mapped[str | None] = mapped_column(String(40), index=True)
    cin: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    # The directory entry an agent linked this contact to; cil and contract above are then copied from it.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer | None] = relationship()


class ContactChange(Base):
    """One field of a contact or directory entry changed: who, when, from what to what."""

    __tablename__ = "contact_changes"
    __table_args__ = (
        Index("ix_contact_changes_contact", "contact_id", "created_at"),
        Index("ix_contact_changes_customer", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(20))  # api, inbox, import, link, merge
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class ContactIdentity(Base):
    """A contact as one channel account knows them (a WhatsApp number, a PSID, an X user id)."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(200))
    handle: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship()
    account: Mapped[ChannelAccount] = relationship()


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_last", "status", "last_message_at"),
        Index("ix_conversations_last", "last_message_at", "id"),
        Index("ix_conversations_identity_status", "identity_id", "status"),
        Index("ix_conversations_identity_thread", "identity_id", "thread_ref"),
        Index("ix_conversations_queue", "queued_at", "id"),
        Index("ix_conversations_assignee_status", "assignee_id", "status"),
        Index("ix_conversations_awaiting", "status", "awaiting_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("contact_identities.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    # A public thread (a Page post, an author's X mentions); None for private conversations.
    thread_ref: Mapped[str | None] = mapped_column(String(200))
    thread: Mapped[dict | None] = mapped_column(JSON)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The team whose queue the conversation is in (None: the queue of every agent); set from the account's
    # team or by a transfer.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    # Waiting in the queue since (open, unassigned); None once someone holds it.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_type: Mapped[str | None] = mapped_column(String(20))
    family_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    nature_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The campaign this conversation answers (the customer replied to a campaign message).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    # Copied from the case, so that lists and the contract's API read it without a join.
    case_number: Mapped[str | None] = mapped_column(String(40), index=True)
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer's language (fr, en, ar, ary), from their latest message that said it clearly.
    language: Mapped[str | None] = mapped_column(String(8))
    # The service commitments' clock (inbox/sla.py): since when the customer waits for an agent's answer, the
    # due times of the current wait, and when an agent last answered.
    awaiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[ChannelAccount] = relationship()
    contact: Mapped[Contact] = relationship()
    identity: Mapped[ContactIdentity] = relationship()
    assignee: Mapped[User | None] = relationship()
    team: Mapped[Team | None] = relationship()
    family: Mapped[CatalogueItem | None] = relationship(foreign_keys=[family_id])
    nature: Mapped[CatalogueItem | None] = relationship(foreign_keys=[nature_id])
    service: Mapped[CatalogueItem | None] = relationship(foreign_keys=[service_id])
    case: Mapped[Case | None] = relationship(foreign_keys=[case_id])


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_messages_conversation_time", "conversation_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    direction: Mapped[str] = mapped_column(String(3))
    type: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))  # detected on inbound texts (inbox/language.py)
    status: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(200))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(200))
    # Type-specific fields (location, shared contacts, button ids, referral...) in one shape.
    data: Mapped[dict | None] = mapped_column(JSON)
    raw: Mapped[dict | None] = mapped_column(JSON, deferred=True)  # loaded only when asked for
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who wrote an outbound message the service did not send ("Page inbox", "X app").
    author_label: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str | None] = mapped_column(String(20))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    private_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", lazy="selectin")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    # The platform's handle on the file: a media id or a URL, to fetch it again.
    media_ref: Mapped[str | None] = mapped_column(Text)
    mime_type: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    platform_sha256: Mapped[str | None] = mapped_column(String(100))
    path: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryReceipt(Base):
    """A status the platform reported for an outbound message, kept even before the message is known."""

    __tablename__ = "delivery_receipts"
    __table_args__ = (UniqueConstraint("account_id", "external_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnroutedDelivery(Base):
    """A signed webhook delivery, or part of one, that could not be turned into messages."""

    __tablename__ = "unrouted_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    account_ref: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class InboundDelivery(Base):
    """A signed webhook delivery kept exactly as received (INTAKE_MODE=deferred), until a job ingests it."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (Index("ix_inbound_deliveries_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CatalogueItem(Base):
    """The qualification catalogue admins edit: families, natures (within a family) and treating services."""

    __tablename__ = "catalogue_items"
    __table_args__ = (UniqueConstraint("kind", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    # A nature's family; None for families and services.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    # The request types a family applies to (None: all).
    request_types: Mapped[list | None] = mapped_column(JSON)
    # A service's treating team: its people see the escalated claims.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    team: Mapped[Team | None] = relationship()


class CaseCounter(Base):
    """The last case number given in a year; incremented under a row lock, so numbers never repeat."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    """A claim or request with its readable number, followed across conversations until it is closed."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_contact_state", "contact_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", use_alter=True, ondelete="SET NULL")
    )
    request_type: Mapped[str] = mapped_column(String(20))
    family_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    nature_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    state: Mapped[str] = mapped_column(String(20), default="open")
    # The treating team it is escalated to, while escalated.
    escalated_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A claim's answer is due by the end of the next business day after the customer filed it (J+1, CCTP).
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship()
    family: Mapped[CatalogueItem | None] = relationship(foreign_keys=[family_id])
    nature: Mapped[CatalogueItem | None] = relationship(foreign_keys=[nature_id])
    service: Mapped[CatalogueItem | None] = relationship(foreign_keys=[service_id])
    escalated_team: Mapped[Team | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class ReplyProposal(Base):
    """An answer to a claim, written by an agent, that leaves only once a supervisor or reviewer approves it."""

    __tablename__ = "reply_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The message that carried the approved text.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])


class TimelineEvent(Base):
    """Something that happened to a conversation or a case: assigned, transferred, qualified, escalated..."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_conversation", "conversation_id", "created_at"),
        Index("ix_timeline_case", "case_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


class Note(Base):
    """A private note in a conversation, for colleagues only; never sent to the customer."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_conversation", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list | None] = mapped_column(JSON)  # user ids
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class Notification(Base):
    """Something a user must see (an @mention, a claim handed back), kept until they read it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    data: Mapped[dict | None] = mapped_column(JSON)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Holiday(Base):
    """A day the centre is closed: a fixed date every year (Throne Day) or one year's date (an Eid)."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("day", "recurring", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # For a recurring holiday only the month and day count (stored in year 2000, a leap year).
    day: Mapped[date] = mapped_column(Date)
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    # None: every channel account.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))


class SlaWarning(Base):
    """A warning sent about a timer (at risk, breached), recorded so that it is sent exactly once."""

    __tablename__ = "sla_warnings"
    __table_args__ = (UniqueConstraint("conversation_id", "timer", "level", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    timer: Mapped[str] = mapped_column(String(20))  # first_response, next_response, answer
    level: Mapped[str] = mapped_column(String(10))  # at_risk, breached
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


ANOMALY_KINDS = ("late_answer", "late_claim", "late_first_take", "low_take_rate")


class Anomaly(Base):
    """A breach of the contract the data shows (CCTP article 9), recorded once under its key, annotated by
    supervisors, listed per month."""

    __tablename__ = "anomalies"
    __table_args__ = (Index("ix_anomalies_month", "month", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What makes it one anomaly: kind and conversation and due time, or kind and hour slot.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM in TIMEZONE
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    data: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    noted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    noted_by: Mapped[User | None] = relationship()


class CannedReply(Base):
    """A prototype message the utility validated, in one language, picked by agents with "/" in the composer."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("shortcut", "language"), Index("ix_canned_replies_language", "language"))

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    shortcut: Mapped[str] = mapped_column(String(40))  # what an agent types after "/"
    language: Mapped[str] = mapped_column(String(8))  # fr, ar, ary, en
    body: Mapped[str] = mapped_column(Text)
    validated: Mapped[bool] = mapped_column(Boolean, default=False)
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Campaign(Base):
    """A personalised outbound message to an audience, sent at the platform's pace."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # A text template (Jinja, sandboxed; the audience's columns as variables) or a platform template.
    text: Mapped[str | None] = mapped_column(Text)
    platform_template: Mapped[dict | None] = mapped_column(JSON)  # {name, language, parameters: [column...]}
    # A Messenger message tag declared for people outside the 24-hour window (None: they are skipped).
    tag: Mapped[str | None] = mapped_column(String(40))
    # An optional file or image sent with the text (its caption), stored under MEDIA_DIR like attachments.
    file: Mapped[dict | None] = mapped_column(JSON)  # {mime_type, filename, path, sha256, size}
    rate_per_second: Mapped[float] = mapped_column(default=80.0)
    audience: Mapped[dict | None] = mapped_column(JSON)  # {"filters": {...}} or {"csv": true, "columns": [...]}
    audience_report: Mapped[dict | None] = mapped_column(JSON)  # rows read, bad rows, duplicates, opted out
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[ChannelAccount] = relationship()


class CampaignRecipient(Base):
    """One person of a campaign's audience: at most one row per address, so never sent twice."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "address"),
        Index("ix_campaign_recipients_state", "campaign_id", "state", "id"),
        Index("ix_campaign_recipients_external", "account_id", "external_id"),
        Index("ix_campaign_recipients_address", "account_id", "address", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    address: Mapped[str] = mapped_column(String(128))  # the platform's form: WhatsApp digits, a PSID, an X id
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    variables: Mapped[dict | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)  # why skipped, failed or interrupted
    error_code: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a retry after a rate limit
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(200))  # the platform's message id, for statuses
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OptOut(Base):
    """Someone who said stop: no campaign reaches them until they say start again (the suppression list)."""

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("platform", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(128))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    word: Mapped[str | None] = mapped_column(String(100))  # what they wrote
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StopWord(Base):
    """A message that, alone, opts its sender out of campaigns (or back in, for `start` words)."""

    __tablename__ = "stop_words"
    __table_args__ = (UniqueConstraint("word"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(100))  # normalised: lower case, no accents, single spaces
    action: Mapped[str] = mapped_column(String(10), default="stop")  # stop or start


class SelfServiceState(Base):
    """Where a conversation's self-service flow stands (inbox/selfservice.py): one row per conversation, so a
    restart loses nothing."""

    __tablename__ = "self_service_states"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # menu, meter_contract, meter_kind, meter_index, meter_confirm, meter_photo; None: nothing asked.
    step: Mapped[str | None] = mapped_column(String(20))
    # What the flow has gathered so far (contract, meter, index) and how many wrong answers it took.
    data: Mapped[dict | None] = mapped_column(JSON)
    # The next opening the out-of-hours answer announced: one answer per closed period.
    closed_notice_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An agent wrote: the flow says nothing more (the out-of-hours answer still goes).
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


METER_KINDS = ("water", "electricity")


class MeterReading(Base):
    """An index a customer sent through self-service, with its receipt number."""

    __tablename__ = "meter_readings"
    __table_args__ = (Index("ix_meter_readings_contract", "contract", "meter", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(40), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    contract: Mapped[str] = mapped_column(String(40))
    meter: Mapped[str] = mapped_column(String(20))  # water or electricity
    index_value: Mapped[int] = mapped_column(BigInteger)
    # The jump from the last reading was unusual and the customer confirmed it.
    confirmed_unusual: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    photo_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    contact: Mapped[Contact] = relationship()
