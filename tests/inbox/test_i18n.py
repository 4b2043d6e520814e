"""The UI's language: French by default, Arabic right to left, English; chosen per user, `?lang=` or the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from inbox.config import ROOT
from inbox.i18n import UI_LANGUAGES
from tests.inbox.test_directory import login

TRANSLATED = ("fr", "ar")
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "t": None,
    "N_": None, "ApiError": (3,),  # the API's sentences and the platforms' reasons, as `make translations` has them
}
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def page_language(html: str) -> tuple[str, str]:
    found = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html)
    return found.group(1), found.group(2)


def page_catalogue(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="ui-text">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_french_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert page_language(html) == ("fr", "ltr")
    assert "Se connecter" in html and "Mot de passe" in html


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("ar-MA,ar;q=0.9,fr;q=0.5", ("ar", "rtl")), ("en-GB,en;q=0.8", ("en", "ltr")), ("de-DE,de", ("fr", "ltr"))],
)
def test_before_login_the_browser_language_decides(client, accept, expected):
    html = client.get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert page_language(html) == expected


def test_arabic_login_page_is_right_to_left_and_in_arabic(client):
    html = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert page_language(html) == ("ar", "rtl")
    assert "تسجيل الدخول" in html and "كلمة المرور" in html
    assert page_catalogue(html)["Log in"] == "تسجيل الدخول"


def test_lang_parameter_wins_and_is_kept_for_the_session(client):
    html = client.get("/login?lang=en", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert page_language(html) == ("en", "ltr")
    assert ">Log in</button>" in html
    assert page_catalogue(html) == {}, "English is the source text: the scripts need no catalogue"
    again = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert page_language(again)[0] == "en"


def test_an_unknown_lang_parameter_is_ignored(client):
    html = client.get("/login?lang=xx", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page_language(html)[0] == "en"


def test_the_users_choice_is_saved_and_followed_after_login(client, users):
    csrf = login(client, "agent@example.com")
    headers = {"X-CSRFToken": csrf, "Accept-Language": "fr"}
    answer = client.put("/api/v1/me/preferences", json={"language": "ar"}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["language"] == "ar"
    html = client.get("/", headers=headers).get_data(as_text=True)
    assert page_language(html) == ("ar", "rtl")
    assert "صندوق الوارد" in html and "تسجيل الخروج" in html
    assert ">مستشار</span>" in html, "the role is named in the UI's language"


@pytest.mark.parametrize("bad", ["de", "", 1, True, None, ["ar"]])
def test_an_unknown_language_preference_is_refused(client, users, bad):
    answer = client.put("/api/v1/me/preferences", json={"language": bad}, headers=users.headers("agent"))
    assert answer.status_code == 400
    assert "language must be fr or ar or en" in answer.get_json()["error"]["message"]
    assert client.get("/api/v1/me/preferences", headers=users.headers("agent")).get_json()["language"] is None


def test_wrong_password_is_said_in_the_page_language(client, users):
    page = client.get("/login?lang=ar").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"email": "agent@example.com", "password": "nope", "csrf_token": csrf})
    assert answer.status_code == 401
    assert "البريد الإلكتروني أو كلمة المرور غير صحيحة." in answer.get_data(as_text=True)


def source_texts() -> set[str]:
    """Every English text the UI shows: templates, Python and scripts, as `make translations` gathers them."""
    method_map = [("inbox/sandbox.py", "ignore"), ("inbox/**.py", "python"), ("campaigns/**.py", "python"),
                  ("connectors/**.py", "python"), ("templates/**.html", "jinja2"), ("static/**.js", "javascript")]
    texts = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, keywords=KEYWORDS):
        texts.update(message if isinstance(message, tuple) else (message,))
    return {text for text in texts if text}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_ui_text_is_translated_with_its_placeholders(language):
    path = Path(ROOT, "inbox", "translations", language, "LC_MESSAGES", "messages.po")
    with path.open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    missing = sorted(text for text in source_texts() if not catalogue.get(text))
    assert not missing, f"{language}: {len(missing)} texts without a translation (run `make translations`): {missing}"
    for source, translated in catalogue.items():
        if translated:
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translated)), source


def test_the_languages_offered_are_the_contracts():
    assert UI_LANGUAGES == ("fr", "ar", "en")
