"""The qualification catalogue: the tree readers get, the admin's rules, the default catalogue and its seeding."""

from __future__ import annotations

import pytest


def post_item(client, users, role: str = "admin", **body):
    return client.post("/api/v1/catalogue/items", json=body, headers=users.headers(role))


def patch_item(client, users, item_id: int, role: str = "admin", **body):
    return client.patch(f"/api/v1/catalogue/items/{item_id}", json=body, headers=users.headers(role))


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


@pytest.fixture
def team_id(app, db):
    from inbox.models import Team

    team = Team(name="Cellule de traitement")
    db.add(team)
    db.commit()
    return team.id


def test_an_admin_builds_the_tree_that_readers_get(client, users, team_id):
    family = post_item(client, users, kind="family", name="Facturation", request_types=["claim", "information"])
    assert family.status_code == 201
    family = family.get_json()
    nature = post_item(client, users, kind="nature", name="Facture élevée", parent_id=family["id"]).get_json()
    service = post_item(client, users, kind="service", name="Cellule", team=team_id).get_json()
    assert service["team"] == {"id": team_id, "name": "Cellule de traitement"}
    for role in ("agent", "supervisor", "admin", "reviewer"):
        tree = client.get("/api/v1/catalogue", headers=users.headers(role)).get_json()
        assert [f["name"] for f in tree["families"]] == ["Facturation"], role
        assert tree["families"][0]["request_types"] == ["claim", "information"]
        assert [n["id"] for n in tree["families"][0]["natures"]] == [nature["id"]]
        assert [s["id"] for s in tree["services"]] == [service["id"]]
        assert tree["request_types"] == ["information", "claim", "request"]
    assert client.get("/api/v1/catalogue", headers=users.headers("marketing")).status_code == 403


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"kind": "nature", "name": "Sans famille"}, 422, "invalid_parent"),
        ({"kind": "nature", "name": "Sous un service", "parent_id": "SERVICE"}, 422, "invalid_parent"),
        ({"kind": "family", "name": "Avec parent", "parent_id": "FAMILY"}, 422, "invalid_parent"),
        ({"kind": "service", "name": "Équipe fantôme", "team": 999999}, 422, "invalid_team"),
        ({"kind": "family", "name": "Avec équipe", "team": "TEAM"}, 422, "invalid_team"),
        ({"kind": "family", "name": "Mauvais types", "request_types": ["complaint"]}, 422, "invalid_field"),
        ({"kind": "service", "name": "Types", "request_types": ["claim"]}, 422, "invalid_field"),
        ({"kind": "category", "name": "X"}, 422, "invalid_kind"),
        ({"kind": "family", "name": "  "}, 422, "invalid_field"),
        ({"kind": "family"}, 422, "missing_field"),
        ({"kind": "family", "name": "facturation"}, 409, "duplicate_name"),  # names are unique, case aside
        ({"kind": "nature", "name": "Facture élevée", "parent_id": "FAMILY"}, 409, "duplicate_name"),
    ],
)
def test_the_admins_rules(body, status, code, client, users, team_id):
    family = post_item(client, users, kind="family", name="Facturation").get_json()
    post_item(client, users, kind="nature", name="Facture élevée", parent_id=family["id"])
    service = post_item(client, users, kind="service", name="Cellule", team=team_id).get_json()
    names = {"FAMILY": family["id"], "SERVICE": service["id"], "TEAM": team_id}
    body = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = post_item(client, users, **body)
    assert response.status_code == status, response.get_json()
    assert error_code(response) == code
    assert len(client.get("/api/v1/catalogue", headers=users.headers("admin")).get_json()["families"]) == 1


def test_a_nature_name_may_repeat_in_another_family(client, users):
    water = post_item(client, users, kind="family", name="Eau").get_json()
    power = post_item(client, users, kind="family", name="Électricité").get_json()
    assert post_item(client, users, kind="nature", name="Coupure", parent_id=water["id"]).status_code == 201
    assert post_item(client, users, kind="nature", name="Coupure", parent_id=power["id"]).status_code == 201


def test_items_are_deactivated_never_deleted(client, users, team_id):
    family = post_item(client, users, kind="family", name="Fuite").get_json()
    response = patch_item(client, users, family["id"], active=False, name="Fuites", position=4)
    assert response.status_code == 200
    assert response.get_json()["active"] is False and response.get_json()["name"] == "Fuites"
    assert client.get("/api/v1/catalogue", headers=users.headers("agent")).get_json()["families"] == []
    everything = client.get("/api/v1/catalogue?all=1", headers=users.headers("admin")).get_json()
    assert [f["name"] for f in everything["families"]] == ["Fuites"]
    assert client.delete(f"/api/v1/catalogue/items/{family['id']}", headers=users.headers("admin")).status_code == 405
    assert patch_item(client, users, family["id"], active=True).get_json()["active"] is True


def test_changes_are_validated(client, users, team_id):
    family = post_item(client, users, kind="family", name="A").get_json()
    other = post_item(client, users, kind="family", name="B").get_json()
    nature = post_item(client, users, kind="nature", name="N", parent_id=family["id"]).get_json()
    service = post_item(client, users, kind="service", name="S").get_json()
    assert error_code(patch_item(client, users, other["id"], name="a")) == "duplicate_name"
    assert error_code(patch_item(client, users, family["id"], team=team_id)) == "invalid_team"
    assert error_code(patch_item(client, users, service["id"], team=424242)) == "invalid_team"
    assert error_code(patch_item(client, users, nature["id"], parent_id=service["id"])) == "invalid_parent"
    assert error_code(patch_item(client, users, family["id"], active="no")) == "invalid_field"
    assert patch_item(client, users, family["id"]).status_code == 400
    assert patch_item(client, users, 999999, name="x").status_code == 404
    moved = patch_item(client, users, nature["id"], parent_id=other["id"]).get_json()
    assert moved["parent_id"] == other["id"]
    assert patch_item(client, users, service["id"], team=team_id).get_json()["team"]["id"] == team_id


@pytest.mark.parametrize("role", ["agent", "supervisor", "reviewer", "marketing"])
def test_only_admins_edit(role, client, users):
    assert error_code(post_item(client, users, role=role, kind="family", name="X")) == "forbidden"
    family = post_item(client, users, kind="family", name="Y").get_json()
    assert error_code(patch_item(client, users, family["id"], role=role, name="Z")) == "forbidden"


def test_the_default_catalogue_is_seeded_once(app, client, users):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-catalogue"])
    assert first.exit_code == 0 and "catalogue items added" in first.output
    tree = client.get("/api/v1/catalogue", headers=users.headers("agent")).get_json()
    names = [f["name"] for f in tree["families"]]
    assert "Facturation" in names and "Fuite" in names and "Compteur" in names
    assert all(f["natures"] for f in tree["families"])
    assert "Cellule de traitement des réclamations" in [s["name"] for s in tree["services"]]
    second = runner.invoke(args=["seed-catalogue"])
    assert second.exit_code == 0 and "nothing added" in second.output
    assert client.get("/api/v1/catalogue", headers=users.headers("agent")).get_json() == tree


def test_initialise_seeds_an_empty_catalogue(app):
    from sqlalchemy import func, select

    from inbox.cli import initialise
    from inbox.db import session
    from inbox.models import CatalogueItem

    with app.app_context():
        initialise()
        count = session().scalar(select(func.count(CatalogueItem.id)))
        initialise()
        assert count > 0 and session().scalar(select(func.count(CatalogueItem.id))) == count
