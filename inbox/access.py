"""Who may see which conversation, as a query filter and as Socket.IO rooms: one place for both.

A conversation is in a team's queue (`team_id`, from the channel account's team or a transfer) or in the
general queue (`team_id` None: every agent serves it, as before teams are set up). Agents see the general
queue, their teams' conversations and the ones assigned to them; supervisors all of their teams' (all, when
they lead no team); admins and reviewers everything; marketing no conversation content."""

from __future__ import annotations

from sqlalchemy import false, or_, true

from inbox.errors import ApiError
from inbox.models import Conversation, User

EVERYTHING_ROLES = ("admin", "reviewer")
CONVERSATION_ROLES = ("agent", "supervisor", "admin", "reviewer")
ALL_ROOM = "conversations:all"
GENERAL_ROOM = "conversations:general"
CAMPAIGN_ROLES = ("marketing", "admin")  # who hears campaign.progress: the roles of the campaigns API
CAMPAIGNS_ROOM = "campaigns"
# The supervisor's board: who hears that it changed (the event carries no conversation, only a reason).
BOARD_ROLES = ("supervisor", "admin")
BOARD_ROOM = "board"


def team_ids(user: User) -> list[int]:
    """The ids of the user's teams."""
    return [team.id for team in user.teams]


def sees_everything(user: User) -> bool:
    """Admins, reviewers and supervisors who lead no team see every conversation."""
    return user.role in EVERYTHING_ROLES or (user.role == "supervisor" and not user.teams)


def visible_conversations(user: User):
    """A WHERE clause for the conversations the user may read."""
    if user.role not in CONVERSATION_ROLES:
        return false()
    if sees_everything(user):
        return true()
    clauses = [Conversation.team_id.is_(None), Conversation.assignee_id == user.id]
    if user.teams:
        clauses.append(Conversation.team_id.in_(team_ids(user)))
    return or_(*clauses)


def can_see(user: User, conversation: Conversation) -> bool:
    """Whether the user may read this conversation."""
    if user.role not in CONVERSATION_ROLES:
        return False
    if sees_everything(user) or conversation.team_id is None or conversation.assignee_id == user.id:
        return True
    return conversation.team_id in team_ids(user)


def require_visible(user: User, conversation: Conversation) -> Conversation:
    """The conversation, or 404 when the user may not see it (its existence is not disclosed)."""
    if not can_see(user, conversation):
        raise ApiError(404, "not_found", "There is no conversation with this id.")
    return conversation


def can_act(user: User, conversation: Conversation) -> bool:
    """Whether the user may write in the conversation: reviewers only read."""
    return user.role in ("agent", "supervisor", "admin") and can_see(user, conversation)


def rooms_for(user: User) -> list[str]:
    """The Socket.IO rooms the user's rights put them in; clients never choose."""
    rooms = [f"user:{user.id}"]
    if user.role in CAMPAIGN_ROLES:
        rooms.append(CAMPAIGNS_ROOM)
    if user.role in BOARD_ROLES:
        rooms.append(BOARD_ROOM)
    if user.role not in CONVERSATION_ROLES:
        return rooms
    rooms += supervisor_rooms(user)
    if sees_everything(user):
        return [*rooms, ALL_ROOM]
    return [*rooms, GENERAL_ROOM, *(f"team:{team_id}" for team_id in team_ids(user))]


def supervisor_rooms(user: User) -> list[str]:
    """The rooms where a supervisor hears warnings: all of them, or their teams' and the general queue's."""
    if user.role != "supervisor":
        return []
    if not user.teams:
        return ["supervisors:all"]
    return ["supervisors:general", *(f"supervisors:team:{team_id}" for team_id in team_ids(user))]


def warning_rooms(conversation: Conversation, include_assignee: bool) -> list[str]:
    """Who hears a commitment warning about a conversation: its supervisors (and its assignee when asked)."""
    queue = "supervisors:general" if conversation.team_id is None else f"supervisors:team:{conversation.team_id}"
    rooms = ["supervisors:all", queue]
    if include_assignee and conversation.assignee_id:
        rooms.append(f"user:{conversation.assignee_id}")
    return rooms


def conversation_rooms(conversation: Conversation) -> list[str]:
    """Who hears about a conversation: everyone who sees everything, its queue's room, its assignee."""
    rooms = [ALL_ROOM, GENERAL_ROOM if conversation.team_id is None else f"team:{conversation.team_id}"]
    if conversation.assignee_id:
        rooms.append(f"user:{conversation.assignee_id}")
    return rooms
