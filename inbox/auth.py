"""Users, passwords (argon2), API tokens, and who may do what."""

from __future__ import annotations

import hashlib
import secrets
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from flask_login import LoginManager, current_user
from sqlalchemy import func, select

from inbox.db import is_reading, session, utcnow, write_turn
from inbox.errors import ApiError
from inbox.models import ROLES, ApiToken, User

login_manager = LoginManager()
login_manager.login_view = "web.login"
_hasher = PasswordHasher()
# A hash to verify against when the e-mail is unknown, so that timing does not tell which e-mails exist.
_DUMMY_HASH = _hasher.hash("not a password")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = session().get(User, int(user_id)) if user_id.isdigit() else None
    return user if user and user.active else None


def hash_password(password: str) -> str:
    """An argon2id hash."""
    return _hasher.hash(password)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = session().scalars(select(User).where(func.lower(User.email) == (email or "").strip().lower())).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    return user if user and user.active else None


def create_user(email: str, name: str, role: str, password: str) -> User:
    """Add a user (the caller commits)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = User(email=email.strip().lower(), name=name, role=role, password_hash=hash_password(password))
    session().add(user)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    """A new API token for the user; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session().add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    return token


def user_for_token(token: str) -> User | None:
    """The active user an API token belongs to."""
    row = session().scalars(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or not row.user.active:
        return None
    return row.user


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_user() -> User:
    """The caller of an API request, by bearer token or browser session; 401 otherwise."""
    if "api_user" in g:
        return g.api_user
    token = bearer_token()
    if token:
        user = user_for_token(token)
        if user is None:
            raise ApiError(401, "unauthorized", "The token is not valid.")
        _record_use(token)
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
    else:
        raise ApiError(401, "unauthorized", "Log in or pass Authorization: Bearer <token>.")
    g.api_user = user
    return user


def _record_use(token: str) -> None:
    used = ApiToken.__table__.update().where(ApiToken.token_hash == _token_hash(token)).values(last_used_at=utcnow())
    if not is_reading():
        session().execute(used)  # committed with the request's own writes
        return
    engine = current_app.extensions["db_engine"]  # a reading view's session does not write: a short one of its own
    with write_turn(engine), engine.begin() as connection:
        connection.execute(used)


def require_roles(*roles: str):
    """Decorate an API view: 401 without a user, 403 for a role not listed."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = api_user()
            if user.role not in roles:
                raise ApiError(403, "forbidden", "The %(role)s role may not do this.", role=user.role)
            return view(*args, **kwargs)

        wrapper.roles = roles
        return wrapper

    return decorator
