"""The qualification catalogue: families (with their natures) and treating services, edited by admins.

Items are deactivated, never deleted: cases and conversations keep pointing at them."""

from __future__ import annotations

from sqlalchemy import func, select

from inbox.db import session
from inbox.errors import ApiError
from inbox.models import CATALOGUE_KINDS, REQUEST_TYPES, CatalogueItem, Team

# The default catalogue of a water and electricity distributor. The tender (CCTP art. 3) asks to qualify
# "selon la famille, la nature et le service traitant" without listing them: this is a sensible start that
# admins edit. Families: (name, request types it applies to or None for all, [natures]).
DEFAULT_FAMILIES = (
    ("Facturation", None, ["Facture élevée", "Facture non reçue", "Erreur de relevé", "Duplicata de facture"]),
    ("Paiement", None, ["Paiement non pris en compte", "Modes de paiement", "Échéancier", "Prélèvement bancaire"]),
    ("Compteur", None, ["Compteur défectueux", "Compteur bloqué", "Vérification du compteur", "Relève"]),
    ("Coupure et interruption", None, ["Coupure d'eau", "Coupure d'électricité", "Coupure pour impayé"]),
    ("Branchement et abonnement", ("request", "information"), ["Nouveau branchement", "Abonnement", "Résiliation"]),
    ("Qualité de l'eau", ("claim", "information"), ["Eau trouble", "Goût ou odeur", "Pression faible"]),
    ("Fuite", ("claim", "request"), ["Fuite avant compteur", "Fuite sur la voie publique"]),
    ("Assainissement", None, ["Débordement", "Regard cassé", "Curage"]),
    ("Éclairage public", ("claim", "information"), ["Lampadaire en panne"]),
    ("Services en ligne", ("information", "request"), ["Agence en ligne", "e-Facture", "Application mobile"]),
)
DEFAULT_SERVICES = (
    "Cellule de traitement des réclamations",
    "Service facturation",
    "Service clientèle (agences)",
    "Exploitation eau potable",
    "Exploitation électricité",
    "Assainissement liquide",
    "Grands comptes",
)


def item_json(item: CatalogueItem) -> dict:
    data = {
        "id": item.id,
        "kind": item.kind,
        "name": item.name,
        "parent_id": item.parent_id,
        "request_types": item.request_types,
        "team": {"id": item.team.id, "name": item.team.name} if item.team else None,
        "active": item.active,
        "position": item.position,
    }
    return data


def ref_json(item: CatalogueItem | None) -> dict | None:
    """An item as a conversation or a case shows it: {id, name}."""
    return {"id": item.id, "name": item.name} if item else None


def tree(include_inactive: bool = False) -> dict:
    """The catalogue: families with their natures, and the services with their team."""
    query = select(CatalogueItem).order_by(CatalogueItem.position, CatalogueItem.name, CatalogueItem.id)
    if not include_inactive:
        query = query.where(CatalogueItem.active)
    items = list(session().scalars(query))
    families = [dict(item_json(i), natures=[]) for i in items if i.kind == "family"]
    by_id = {f["id"]: f for f in families}
    for item in items:
        if item.kind == "nature" and item.parent_id in by_id:
            by_id[item.parent_id]["natures"].append(item_json(item))
    services = [item_json(i) for i in items if i.kind == "service"]
    return {"request_types": list(REQUEST_TYPES), "families": families, "services": services}


def _text(body: dict, name: str, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(422, "missing_field", "%(name)s is required.", name=name)
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200:
        raise ApiError(422, "invalid_field", "%(name)s must be a text of 1 to 200 characters.", name=name)
    return value.strip()


def _request_types(value) -> list | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or any(v not in REQUEST_TYPES for v in value):
        raise ApiError(
            422,
            "invalid_field",
            "request_types is null or a list of %(request_types)s.",
            request_types=", ".join(REQUEST_TYPES),
        )
    return list(dict.fromkeys(value))


def _check_unique(kind: str, parent_id: int | None, name: str, item_id: int | None = None) -> None:
    query = select(CatalogueItem.id).where(
        CatalogueItem.kind == kind,
        func.lower(CatalogueItem.name) == name.lower(),
        CatalogueItem.parent_id.is_(None) if parent_id is None else CatalogueItem.parent_id == parent_id,
    )
    if item_id is not None:
        query = query.where(CatalogueItem.id != item_id)
    if session().scalar(query) is not None:
        if kind == "nature":
            raise ApiError(
                409, "duplicate_name", "There is already a nature named %(name)s in this family.", name=repr(name)
            )
        raise ApiError(409, "duplicate_name", "There is already a %(kind)s named %(name)s.", kind=kind, name=repr(name))


def _family(value) -> CatalogueItem:
    parent = session().get(CatalogueItem, value) if isinstance(value, int) and not isinstance(value, bool) else None
    if parent is None or parent.kind != "family":
        raise ApiError(422, "invalid_parent", "A nature needs parent_id: the id of a family.")
    return parent


def _team(value) -> Team | None:
    if value is None:
        return None
    team = session().get(Team, value) if isinstance(value, int) and not isinstance(value, bool) else None
    if team is None:
        raise ApiError(422, "invalid_team", "There is no team %(team_id)s.", team_id=value)
    return team


def _position(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
        raise ApiError(422, "invalid_field", "position is a whole number from 0 to 10000.")
    return value


def create_item(body: dict) -> CatalogueItem:
    """A new catalogue item from an API body, validated before anything is added (the caller commits)."""
    kind = body.get("kind")
    if kind not in CATALOGUE_KINDS:
        raise ApiError(422, "invalid_kind", "kind is one of %(kinds)s.", kinds=", ".join(CATALOGUE_KINDS))
    name = _text(body, "name", required=True)
    parent_id = _family(body.get("parent_id")).id if kind == "nature" else None
    if kind != "nature" and body.get("parent_id") is not None:
        raise ApiError(422, "invalid_parent", "Only a nature has a parent (its family).")
    if kind != "family" and body.get("request_types") is not None:
        raise ApiError(422, "invalid_field", "Only a family has request_types.")
    if kind != "service" and body.get("team") is not None:
        raise ApiError(422, "invalid_team", "Only a service has a treating team.")
    _check_unique(kind, parent_id, name)
    item = CatalogueItem(
        kind=kind,
        name=name,
        parent_id=parent_id,
        request_types=_request_types(body.get("request_types")),
        team_id=(team.id if (team := _team(body.get("team"))) else None),
        active=True,
        position=_position(body.get("position", 0)),
    )
    session().add(item)
    return item


def update_item(item: CatalogueItem, body: dict) -> CatalogueItem:
    """Change an item's name, parent, request types, team, position or active flag (the caller commits)."""
    changes = {}
    if "name" in body:
        changes["name"] = _text(body, "name", required=True)
    if "parent_id" in body:
        if item.kind != "nature":
            raise ApiError(422, "invalid_parent", "Only a nature has a parent (its family).")
        changes["parent_id"] = _family(body["parent_id"]).id
    if "request_types" in body:
        if item.kind != "family":
            raise ApiError(422, "invalid_field", "Only a family has request_types.")
        changes["request_types"] = _request_types(body["request_types"])
    if "team" in body:
        if item.kind != "service":
            raise ApiError(422, "invalid_team", "Only a service has a treating team.")
        team = _team(body["team"])
        changes["team_id"] = team.id if team else None
    if "position" in body:
        changes["position"] = _position(body["position"])
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise ApiError(422, "invalid_field", "active must be true or false.")
        changes["active"] = body["active"]
    if not changes:
        raise ApiError(400, "bad_request", "Nothing to change: name, parent_id, request_types, team, position, active.")
    if "name" in changes or "parent_id" in changes:
        _check_unique(item.kind, changes.get("parent_id", item.parent_id), changes.get("name", item.name), item.id)
    for name, value in changes.items():
        setattr(item, name, value)
    return item


def seed_default() -> int:
    """Add the default catalogue when there is none; returns how many items were added (the caller commits)."""
    db = session()
    if db.scalar(select(func.count(CatalogueItem.id))):
        return 0
    added = 0
    for position, (name, request_types, natures) in enumerate(DEFAULT_FAMILIES):
        family = CatalogueItem(
            kind="family", name=name, request_types=list(request_types) if request_types else None, position=position
        )
        db.add(family)
        db.flush()
        added += 1
        for nature_position, nature in enumerate(natures):
            db.add(CatalogueItem(kind="nature", name=nature, parent_id=family.id, position=nature_position))
            added += 1
    for position, name in enumerate(DEFAULT_SERVICES):
        db.add(CatalogueItem(kind="service", name=name, position=position))
        added += 1
    db.flush()
    return added
