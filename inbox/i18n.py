"""The UI's language: French by default, Arabic (right to left) and English, chosen per user or per browser."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel, get_locale, get_translations, lazy_gettext
from flask_login import current_user

UI_LANGUAGES = ("fr", "ar", "en")
DEFAULT_UI_LANGUAGE = "fr"
RIGHT_TO_LEFT = frozenset({"ar"})
SESSION_KEY = "ui_language"

babel = Babel()

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
