"""The UI's language: French by default, Arabic (right to left) and English, chosen per user or per browser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, force_locale, get_locale, get_translations, gettext, lazy_gettext
from flask_login import current_user

UI_LANGUAGES = ("fr", "ar", "en")
DEFAULT_UI_LANGUAGE = "fr"
RIGHT_TO_LEFT = frozenset({"ar"})
SESSION_KEY = "ui_language"

babel = Babel()
# Set while a payload shared by many readers (a realtime event) is built: it is written in English.
_SHARED_PAYLOAD: ContextVar[bool] = ContextVar("shared_payload", default=False)

ROLE_NAMES = {
    "agent": lazy_gettext("Agent"),
    "supervisor": lazy_gettext("Supervisor"),
    "marketing": lazy_gettext("Marketing"),
    "admin": lazy_gettext("Administrator"),
    "reviewer": lazy_gettext("Reviewer"),
}


def choose_language() -> str:
    """`?lang=` (kept for the session), then the user's choice, then Accept-Language, then French."""
    asked = request.args.get("lang")
    if asked in UI_LANGUAGES:
        session[SESSION_KEY] = asked
        return asked
    if current_user and current_user.is_authenticated:
        chosen = (current_user.preferences or {}).get("language")
        if chosen in UI_LANGUAGES:
            return chosen
    kept = session.get(SESSION_KEY)
    if kept in UI_LANGUAGES:
        return kept
    return request.accept_languages.best_match(UI_LANGUAGES) or DEFAULT_UI_LANGUAGE


def api_language() -> str | None:
    """The language the API answers in: `?lang=`, the user's choice, the session's, then Accept-Language;
    a signed-in browser falls back to French like its pages; None when a machine client states nothing."""
    if _SHARED_PAYLOAD.get() or not has_request_context():
        return None
    asked = request.args.get("lang")
    if asked in UI_LANGUAGES:
        return asked
    browser = current_user and current_user.is_authenticated
    user = g.get("api_user") or (current_user if browser else None)
    chosen = (user.preferences or {}).get("language") if user is not None else None
    if chosen in UI_LANGUAGES:
        return chosen
    kept = session.get(SESSION_KEY)
    if kept in UI_LANGUAGES:
        return kept
    return request.accept_languages.best_match(UI_LANGUAGES) or (DEFAULT_UI_LANGUAGE if browser else None)


def in_api_language(text, **params) -> str:
    """An English sentence (a msgid or a lazy string) in the API's language, its `%(name)s` params filled after."""
    with force_locale(api_language() or "en"):
        sentence = gettext(text) if isinstance(text, str) else str(text)
        return sentence % params if params else sentence


@contextmanager
def shared_payload() -> Iterator[None]:
    """Build a payload many readers share (a realtime event) in English, whoever's request triggered it."""
    token = _SHARED_PAYLOAD.set(True)
    try:
        yield
    finally:
        _SHARED_PAYLOAD.reset(token)


def text_direction(language: str | None = None) -> str:
    """`rtl` for Arabic, `ltr` otherwise."""
    return "rtl" if (language or str(get_locale())) in RIGHT_TO_LEFT else "ltr"


def browser_catalogue() -> dict[str, str]:
    """Every translated message of the current language, for the scripts' `t()` (English needs none)."""
    catalogue = getattr(get_translations(), "_catalog", {}) or {}
    return {key: value for key, value in catalogue.items() if isinstance(key, str) and key and value}


def init_app(app: Flask) -> None:
    """Attach Flask-Babel and give every template its language and direction."""
    babel.init_app(app, locale_selector=choose_language, default_locale=DEFAULT_UI_LANGUAGE)

    @app.context_processor
    def _language():
        language = str(get_locale())
        return {
            "ui_language": language,
            "ui_direction": text_direction(language),
            "ui_languages": UI_LANGUAGES,
            "browser_catalogue": browser_catalogue,
            "role_names": ROLE_NAMES,
        }
