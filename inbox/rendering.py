"""Personalised texts (the agents' canned replies, campaign messages) rendered in Jinja2's sandbox.

A template sees plain values only, never a model: `contact`, `case` and `agent` for canned replies, the CSV
columns for campaigns. It is checked when saved: every variable it names must be one the place it is used
offers, and only a few harmless filters are allowed, so a template that tries to reach anything else
(`{{ contact.__class__ }}`, `{{ config }}`, `{% import %}`) is refused before anyone can use it. A value
that is missing when it is rendered is an error naming it, never an empty gap in a customer's message.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from connectors.base import N_
from inbox.errors import Refusal

# The variables of the agents' canned replies, by object.
REPLY_VARIABLES = {
    "contact": {"name", "first_name", "cil", "contract", "phone", "email", "address"},
    "case": {"number", "state"},
    "agent": {"name", "first_name"},
}
SAFE_FILTERS = {"upper", "lower", "title", "capitalize", "trim", "default"}
MAX_LENGTH = 4096
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Getattr,
    nodes.Filter,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
)

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class TemplateRefused(Refusal):
    """A template that cannot be saved: bad syntax, or it reaches beyond what it may use."""


class MissingValue(Refusal):
    """A value the template needs is missing for this recipient or conversation."""


UNKNOWN_VARIABLE = N_("Unknown variable {{ %(name)s }}; available: %(available)s.")
MISSING = N_("Missing for this message: %(values)s.")


def check(source: str, variables: dict[str, set[str]] | set[str]) -> set[str]:
    """Refuse (TemplateRefused) a template that is malformed or reaches beyond `variables`; returns the
    variables it uses ("contact.cil", or "prenom" for flat ones).

    `variables` is {object: {fields}} (canned replies) or a set of flat names (campaign columns)."""
    if not isinstance(source, str):
        raise TemplateRefused(N_("The text is empty."))
    return set(_checked_once(source, _frozen(variables)))


def _frozen(variables) -> tuple | frozenset:
    if isinstance(variables, dict):
        return tuple(sorted((root, frozenset(fields)) for root, fields in variables.items()))
    return frozenset(variables)


# A campaign renders the same text for each of 100,000 recipients: parsing and checking it once per text and
# set of variables (not per message) is most of what rendering cost (bench/README.md, "Campaigns").
@lru_cache(maxsize=512)
def _checked_once(source: str, frozen: tuple | frozenset) -> frozenset[str]:
    variables = {root: set(fields) for root, fields in frozen} if isinstance(frozen, tuple) else set(frozen)
    return frozenset(_check(source, variables))


@lru_cache(maxsize=512)
def _compiled(source: str):
    return _environment.from_string(source)


def _check(source: str, variables: dict[str, set[str]] | set[str]) -> set[str]:
    if not source.strip():
        raise TemplateRefused(N_("The text is empty."))
    if len(source) > MAX_LENGTH:
        raise TemplateRefused(N_("The text is longer than %(limit)s characters."), limit=MAX_LENGTH)
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError as error:
        problem = (error.message or "syntax error").rstrip(".")  # Jinja's own words, in English
        raise TemplateRefused(N_("Line %(line)s: %(problem)s."), line=error.lineno, problem=problem) from error
    used: set[str] = set()
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            message = N_("Templates may only show values: %(node)s is not allowed.")
            raise TemplateRefused(message, node=type(node).__name__)
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            message = N_("The filter %(filter)s is not allowed (use %(filters)s).")
            raise TemplateRefused(message, filter=repr(node.name), filters=", ".join(sorted(SAFE_FILTERS)))
        if isinstance(node, nodes.Getattr) and not isinstance(variables, dict):
            message = N_("%(field)s: the columns are plain values, written {{ column }}.")
            raise TemplateRefused(message, field=repr(node.attr))
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            used.add(_checked(f"{node.node.name}.{node.attr}", node.node.name, node.attr, variables))
        elif isinstance(node, nodes.Getattr):
            raise TemplateRefused(N_("%(field)s reaches too deep: use {{ object.field }} only."), field=repr(node.attr))
    for node in tree.find_all(nodes.Name):
        if isinstance(variables, dict):
            parents = {id(n.node) for n in tree.find_all(nodes.Getattr)}
            if node.name not in variables:
                raise TemplateRefused(UNKNOWN_VARIABLE, name=node.name, available=_listing(variables))
            if id(node) not in parents:
                message = N_("{{ %(name)s }} needs a field, e.g. {{ %(name)s.name }}.")
                raise TemplateRefused(message, name=node.name)
        else:
            used.add(_checked(node.name, node.name, None, variables))
    return used


def _checked(label: str, root: str, field: str | None, variables) -> str:
    if isinstance(variables, dict):
        if root not in variables or field not in variables[root]:
            raise TemplateRefused(UNKNOWN_VARIABLE, name=label, available=_listing(variables))
    elif root not in variables:
        available = ", ".join(sorted(variables)) or "-"
        message = N_("Unknown variable {{ %(name)s }}; the columns are: %(available)s.")
        raise TemplateRefused(message, name=label, available=available)
    return label


def _listing(variables: dict[str, set[str]]) -> str:
    return ", ".join(f"{root}.{field}" for root, fields in sorted(variables.items()) for field in sorted(fields))


def render(source: str, context: dict, variables: dict[str, set[str]] | set[str]) -> str:
    """Check then render a template with plain values; MissingValue names every value it needs that is missing
    (None and "" count as missing: a customer must never read an empty gap)."""
    used = check(source, variables)
    cleaned = {key: _present(value) for key, value in context.items()}
    cleaned = {key: value for key, value in cleaned.items() if value is not None}
    try:
        return _compiled(source).render(**cleaned)
    except UndefinedError as error:
        absent = sorted(name for name in used if not _has(cleaned, name))
        raise MissingValue(MISSING, values=", ".join(absent) or error.message) from error
    except SecurityError as error:  # cannot happen to a checked template; kept as a last wall
        raise TemplateRefused(str(error)) from error


def _present(value):
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v not in (None, "")}
    return None if value in (None, "") else value


def _has(context: dict, name: str) -> bool:
    root, _, field = name.partition(".")
    value = context.get(root)
    return value is not None and (not field or (isinstance(value, dict) and field in value))
