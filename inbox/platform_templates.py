"""The platforms' approved message templates: listed for agents once a reply window closes, checked before sending."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

from connectors import get_connector
from connectors.base import N_, PlatformTemplate, SendError
from inbox import broker
from inbox.channels import account_settings
from inbox.db import session
from inbox.errors import ApiError
from inbox.models import ChannelAccount, Conversation
from inbox.serializers import shown_failure

CACHE_SECONDS = 300  # an agent's picker opens often; a newly approved template shows within five minutes
MAX_VALUE_LENGTH = 1024
NUMBERED = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# WhatsApp refuses a template value holding a line break, a tab or more than four spaces in a row.
REFUSED_VALUE = re.compile(r"[\n\r\t]| {5,}")
# The template languages that suit a conversation's language, best first (Darija reads Arabic, then French).
SUITED_LANGUAGES = {"fr": ("fr",), "ar": ("ar",), "ary": ("ar", "fr"), "en": ("en",)}


def _cache_key(account: ChannelAccount) -> str:
    return f"inbox:platform-templates:{account.id}"


def templates_for(account: ChannelAccount, refresh: bool = False) -> list[PlatformTemplate]:
    """The account's approved templates, from a five-minute cache unless `refresh`; raises ApiError."""
    connector = get_connector(account.platform)
    if not connector.SENDS_TEMPLATES:
        raise ApiError(422, "no_templates", "This channel has no message templates.")
    redis = broker.connection()
    cached = None if refresh else redis.get(_cache_key(account))
    if cached:
        return [PlatformTemplate(**{**item, "examples": tuple(item["examples"])}) for item in json.loads(cached)]
    settings = account_settings(account)
    # End the read before the call: on SQLite it holds the write lock (db.py), and nothing is pending here.
    session().commit()
    try:
        found = connector.list_templates(settings)
    except SendError as error:
        status = 502 if error.retryable else 409
        raise ApiError(status, "templates_unavailable", shown_failure(error.code, error.message)) from error
    redis.set(_cache_key(account), json.dumps([asdict(t) for t in found]), ex=CACHE_SECONDS)
    return found


def language_rank(template_language: str, conversation_language: str | None) -> int:
    """0 for the language that suits the conversation best, then 1, ...; len(suited) for any other."""
    suited = SUITED_LANGUAGES.get(conversation_language or "", ())
    base = template_language.replace("-", "_").split("_")[0].lower()
    return suited.index(base) if base in suited else len(suited)


def template_json(template: PlatformTemplate, conversation_language: str | None = None) -> dict:
    return {
        **asdict(template),
        "examples": list(template.examples),
        "usable": template.unusable_reason is None,
        "suits_conversation": language_rank(template.language, conversation_language)
        < len(SUITED_LANGUAGES.get(conversation_language or "", ())),
    }


def listing(conversation: Conversation, refresh: bool = False) -> list[dict]:
    """The templates an agent can pick for a conversation: those in its language first, usable ones before."""
    templates = templates_for(conversation.account, refresh)
    ordered = sorted(
        templates,
        key=lambda t: (t.unusable_reason is not None, language_rank(t.language, conversation.language), t.name),
    )
    return [template_json(t, conversation.language) for t in ordered]


def fill(body: str, values: list[str]) -> str:
    """The text a template makes with its values in place of {{1}}, {{2}}..."""
    return NUMBERED.sub(lambda m: values[int(m.group(1)) - 1] if int(m.group(1)) <= len(values) else m.group(0), body)


def resolve(account: ChannelAccount, choice) -> tuple[dict, str]:
    """Check an agent's choice {name, language, parameters} against the approved templates: the send's
    template and the text it makes, or a 422 that says what is wrong."""
    if not isinstance(choice, dict) or not isinstance(choice.get("name"), str) or not isinstance(
        choice.get("language"), str
    ):
        raise ApiError(422, "bad_template", "template is {name, language, parameters: [text, ...]}.")
    values = choice.get("parameters") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError(422, "bad_template", "template parameters are a list of texts, for {{1}}, {{2}}...")
    template = _find(account, choice["name"], choice["language"])
    if template.unusable_reason:
        raise ApiError(422, "template_unusable", template.unusable_reason)
    values = [value.strip() for value in values]
    if len(values) != template.parameters:
        message = N_("This template takes %(parameters)s values; %(count)s given.")
        raise ApiError(422, "bad_parameters", message, parameters=template.parameters, count=len(values))
    for number, value in enumerate(values, start=1):
        _check_value(number, value)
    spec = {"name": template.name, "language": template.language, "parameters": values}
    return spec, fill(template.body, values)


def _find(account: ChannelAccount, name: str, language: str) -> PlatformTemplate:
    for refresh in (False, True):  # approved since the list was cached: look once more at the platform
        for template in templates_for(account, refresh):
            if template.name == name and template.language == language:
                return template
    message = N_("No approved template %(name)s in %(language)s.")
    raise ApiError(422, "unknown_template", message, name=name, language=language)


def _check_value(number: int, value: str) -> None:
    if not value:
        raise ApiError(422, "missing_value", "Value {{%(number)s}} is empty: fill it in.", number=number)
    if len(value) > MAX_VALUE_LENGTH:
        message = N_("Value {{%(number)s}} is longer than %(limit)s characters.")
        raise ApiError(422, "bad_parameters", message, number=number, limit=MAX_VALUE_LENGTH)
    if REFUSED_VALUE.search(value):
        message = N_("Value {{%(number)s}} holds a line break, a tab or five spaces in a row: WhatsApp refuses them.")
        raise ApiError(422, "bad_parameters", message, number=number)
