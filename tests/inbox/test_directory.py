"""The customer directory: validation, CSV import (API, CLI, admin page), search, edits with history, links of
channel contacts, the contacts' change history, and the roles of every route."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from inbox import directory
from tests.conftest import DATA, PASSWORD
from tests.inbox.test_api import assert_error
from tests.inbox.test_contacts import accounts, make_contact  # noqa: F401  (fixtures)

SEMICOLON = DATA / "directory" / "customers_semicolon_bom.csv"
COMMA = DATA / "directory" / "customers_comma.csv"


# ---------------------------------------------------------------- validation units


@pytest.mark.parametrize(
    "written, expected",
    [
        ("0661234567", "212661234567"),
        ("06 61 23 45 67", "212661234567"),
        ("06.61.23.45.67", "212661234567"),
        ("06-61-23-45-67", "212661234567"),
        ("+212 661 23 45 67", "212661234567"),
        ("+212 6 61 23 45 67", "212661234567"),
        ("+212 (0)6 61 23 45 67", "212661234567"),
        ("00212661234567", "212661234567"),
        ("212661234567", "212661234567"),
        ("07 01 02 03 04", "212701020304"),
        ("+212-701-020304", "212701020304"),
        ("0537 12 34 56", "212537123456"),
    ],
)
def test_moroccan_numbers_in_every_written_form(written, expected):
    assert directory.normalise_phone(written) == expected


@pytest.mark.parametrize(
    "written", ["0661", "066123456789", "0861234567", "+33 6 12 34 56 78", "06612a4567", "661234567", ""]
)
def test_numbers_that_are_not_moroccan_are_refused_with_a_sentence(written):
    with pytest.raises(directory.Invalid) as refusal:
        directory.normalise_phone(written)
    assert refusal.value.code == "invalid_phone" and "06 61 23 45 67" in refusal.value.message


def test_fixed_lines_only_where_allowed():
    with pytest.raises(directory.Invalid) as refusal:
        directory.normalise_phone("0537123456", fixed=False)
    assert "mobile" in refusal.value.message


@pytest.mark.parametrize(
    "written, expected", [("AB123456", "AB123456"), ("a12345", "A12345"), (" be 123456 ", "BE123456")]
)
def test_cin_is_upper_cased(written, expected):
    assert directory.normalise_cin(written) == expected


@pytest.mark.parametrize("written", ["123456", "ABC12345", "AB", "A12", "AB12345678", "A1B234"])
def test_bad_cin_is_refused(written):
    with pytest.raises(directory.Invalid) as refusal:
        directory.normalise_cin(written)
    assert refusal.value.code == "invalid_cin" and "AB123456" in refusal.value.message


def test_email_identifiers_zone_and_segment():
    assert directory.normalise_email(" Salma@Example.MA ") == "salma@example.ma"
    for bad in ("salma@", "salma@example", "sal ma@example.ma"):
        with pytest.raises(directory.Invalid, match="not an e-mail"):
            directory.normalise_email(bad)
    assert directory.normalise_identifier(" c-5001 ", "contract") == "C-5001"
    for bad in ("10 01", "", "x" * 41, "é1"):
        with pytest.raises(directory.Invalid, match="without spaces"):
            directory.normalise_identifier(bad, "cil")
    assert directory.normalise_zone("sale") == "Salé" and directory.normalise_zone("TEMARA") == "Témara"
    assert directory.normalise_zone("Kénitra") == "Kénitra"  # not in the list: kept as written
    assert directory.normalise_segment("Key account") == "key_account"
    with pytest.raises(directory.Invalid, match="individual or key_account"):
        directory.normalise_segment("vip")


def test_tags_are_single_spaced_and_case_folded_in_any_script():
    assert directory.normalise_tag(" E-Facture ") == "e-facture"
    assert directory.normalise_tag("Gros   Consommateur") == "gros consommateur"
    assert directory.normalise_tag("فاتورة إلكترونية") == "فاتورة إلكترونية"
    for bad in ("", "   ", "x" * 41, "a|b", "<b>", "-lead"):
        with pytest.raises(directory.Invalid, match="not a tag") as refused:
            directory.normalise_tag(bad)
        assert refused.value.code == "invalid_tag"


# ---------------------------------------------------------------- import


def admin_import(client, users, path, as_file=True):
    data = path.read_bytes()
    if as_file:
        return client.post(
            "/api/v1/customers/import",
            data={"file": (io.BytesIO(data), path.name)},
            headers=users.headers("admin"),
            content_type="multipart/form-data",
        )
    return client.post(
        "/api/v1/customers/import", data=data, headers={**users.headers("admin"), "Content-Type": "text/csv"}
    )


def counts(db):
    from inbox.models import Customer, CustomerContract, CustomerPhone

    db.expire_all()
    found = tuple(db.scalar(select(func.count(m.id))) for m in (Customer, CustomerContract, CustomerPhone))
    db.commit()  # SQLite: the checking session must not hold the write lock while the app works
    return found


def test_import_reports_each_bad_row_and_reimport_is_idempotent(client, users, db):
    from inbox.models import ContactChange, Customer

    first = admin_import(client, users, SEMICOLON)

    assert first.status_code == 200, first.get_data(as_text=True)
    report = first.get_json()
    assert (report["created"], report["updated"], report["unchanged"], report["rejected_count"]) == (2, 0, 0, 4)
    assert report["delimiter"] == ";"
    rejected = {row["line"]: row for row in report["rejected"]}
    assert set(rejected) == {4, 5, 6, 7}
    assert rejected[4]["cil"] == "1000003" and "'0661' is not a Moroccan mobile" in rejected[4]["reasons"][0]
    assert rejected[5]["reasons"] == ["The CIL is required: it identifies the customer."]
    assert len(rejected[6]["reasons"]) == 3  # CIN, e-mail and segment, each with its sentence
    assert any("not a CIN" in r for r in rejected[6]["reasons"])
    assert any("not an e-mail" in r for r in rejected[6]["reasons"])
    assert any("not a segment" in r for r in rejected[6]["reasons"])
    assert rejected[7]["reasons"] == ["Contract C-5001 belongs to the customer with CIL 1000001."]
    salma = db.scalars(select(Customer).where(Customer.cil == "1000001")).one()
    assert (salma.name, salma.cin, salma.email, salma.zone, salma.segment) == (
        "Salma Benali",
        "BE123456",
        "salma@example.ma",
        "Salé",
        "individual",
    )
    assert [p.number for p in salma.phones] == ["212661234567", "212701020304"]
    assert [c.number for c in salma.contracts] == ["C-5001", "C-5002"]
    office = db.scalars(select(Customer).where(Customer.cil == "1000002")).one()
    assert office.segment == "key_account" and [p.number for p in office.phones] == ["212537123456"]
    before = counts(db)
    assert before == (2, 3, 3)

    again = admin_import(client, users, SEMICOLON, as_file=False).get_json()

    assert (again["created"], again["updated"], again["unchanged"], again["rejected_count"]) == (0, 0, 2, 4)
    assert counts(db) == before  # nothing duplicated
    assert db.scalar(select(func.count(ContactChange.id)).where(ContactChange.source == "import")) == 2  # created


def test_reimport_updates_merges_lists_and_keeps_what_empty_cells_omit(client, users, db):
    from inbox.models import ContactChange, Customer

    admin_import(client, users, SEMICOLON)
    changed = b"cil,name,phones,contracts,email\n1000001,Salma Benali-Idrissi,0600000001|0661234567,C-5003,\n"

    report = client.post(
        "/api/v1/customers/import", data=changed, headers={**users.headers("admin"), "Content-Type": "text/csv"}
    ).get_json()

    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 0)
    db.expire_all()
    salma = db.scalars(select(Customer).where(Customer.cil == "1000001")).one()
    assert salma.name == "Salma Benali-Idrissi" and salma.email == "salma@example.ma"
    assert [p.number for p in salma.phones] == ["212661234567", "212701020304", "212600000001"]
    assert [c.number for c in salma.contracts] == ["C-5001", "C-5002", "C-5003"]
    history = {
        c.field: c
        for c in db.scalars(
            select(ContactChange).where(ContactChange.customer_id == salma.id, ContactChange.field != "created")
        )
    }
    assert set(history) == {"name", "phones", "contracts"}
    assert (history["name"].old_value, history["name"].new_value) == ("Salma Benali", "Salma Benali-Idrissi")
    assert history["name"].source == "import" and history["name"].user_id == users.by_role["admin"].id


def test_comma_file_through_the_cli(app, db):
    result = app.test_cli_runner().invoke(args=["import-customers", str(COMMA)])

    assert result.exit_code == 0, result.output
    assert "created 2, updated 0, unchanged 0, rejected 0" in result.output
    assert counts(db) == (2, 3, 2)
    again = app.test_cli_runner().invoke(args=["import-customers", str(COMMA)])
    assert "created 0, updated 0, unchanged 2, rejected 0" in again.output
    assert counts(db) == (2, 3, 2)


def test_cli_lists_rejected_rows_and_refuses_a_file_without_cil(app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("cil;phones\n42;0661\n")
    result = app.test_cli_runner().invoke(args=["import-customers", str(bad)])
    assert "rejected 1" in result.output and "line 2 (CIL 42)" in result.output
    headless = tmp_path / "headless.csv"
    headless.write_text("name;phones\nSalma;0661234567\n")
    refused = app.test_cli_runner().invoke(args=["import-customers", str(headless)])
    assert refused.exit_code != 0 and "no cil column" in refused.output


def test_import_streams_in_batches_and_a_bad_row_never_stops_the_others(app, db):
    rows = ["cil;contracts;phones"]
    for n in range(1, 1201):
        rows.append(f"{n};K-{n};06{n:08d}" if n % 100 else f"{n};K-{n};0661")  # every 100th row is bad
    data = ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()

    with app.app_context():
        report = directory.import_customers(io.BytesIO(data), batch_size=250)

    assert (report["created"], report["rejected_count"]) == (1188, 12)
    assert report["rejected"][0]["line"] == 101 and "0661" in report["rejected"][0]["reasons"][0]
    assert counts(db) == (1188, 1188, 1188)


def test_import_refuses_unreadable_files_and_wrong_uploads(client, users, db):
    headers = {**users.headers("admin"), "Content-Type": "text/csv"}
    assert_error(client.post("/api/v1/customers/import", data=b"", headers=headers), 422, "unreadable_file")
    assert_error(
        client.post("/api/v1/customers/import", data="cil;nom\n1;é".encode("latin-1"), headers=headers),
        422,
        "unreadable_file",
    )
    assert_error(
        client.post("/api/v1/customers/import", json={"cil": "1"}, headers=users.headers("admin")), 400, "bad_request"
    )
    assert counts(db) == (0, 0, 0)


# ---------------------------------------------------------------- search


def test_search_by_each_key(client, users):
    admin_import(client, users, SEMICOLON)
    admin_import(client, users, COMMA)

    def cils(query):
        response = client.get(f"/api/v1/customers?{query}", headers=users.headers("agent"))
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(item["cil"] for item in response.get_json()["items"])

    assert cils("q=salma") == ["1000001"]
    assert cils("q=BENALI") == ["1000001"]
    assert cils("q=00000") == ["1000001", "1000002", "2000001", "2000002"]  # in the CILs
    assert cils("q=c-6001") == ["1000002"]
    assert cils("q=be1234") == ["1000001"]
    assert cils("q=0661 23 45 67") == ["1000001"]
    assert cils("q=%25") == ["2000002"]  # % is a character, not a wildcard
    assert cils("q=_") == ["2000002"]
    assert cils("cil=1000002") == ["1000002"]
    assert cils("contract=C-8003") == ["2000002"]
    assert cils("contract=C-80") == []
    assert cils("phone=%2B212%20661%2023%2045%2067") == ["1000001"]
    assert cils("phone=0712345678") == ["2000001"]
    assert_error(client.get("/api/v1/customers?phone=12", headers=users.headers("agent")), 400, "bad_parameter")
    assert_error(client.get("/api/v1/customers?limit=0", headers=users.headers("agent")), 400, "bad_parameter")


def test_search_pages_with_a_cursor(client, users):
    admin_import(client, users, SEMICOLON)
    admin_import(client, users, COMMA)
    seen, cursor = [], ""
    for _ in range(5):
        page = client.get(f"/api/v1/customers?limit=3&cursor={cursor}", headers=users.headers("agent")).get_json()
        seen += [item["cil"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["1000001", "1000002", "2000001", "2000002"] and len(seen) == 4


# ---------------------------------------------------------------- create and edit


def test_create_and_patch_record_each_field_with_who_and_when(client, users, db):
    from inbox.models import ContactChange

    created = client.post(
        "/api/v1/customers",
        json={"cil": "3000001", "name": "Hassan", "phones": ["06 11 22 33 44"], "contracts": ["c-1"], "zone": "rabat"},
        headers=users.headers("agent"),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    customer = created.get_json()
    assert customer["phones"] == ["212611223344"] and customer["contracts"] == ["C-1"] and customer["zone"] == "Rabat"

    patched = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"name": "Hassan Alaoui", "cin": "ab123456", "zone": "Salé", "phones": ["0611223344", "0700000000"]},
        headers=users.headers("supervisor"),
    )

    assert patched.status_code == 200, patched.get_data(as_text=True)
    body = patched.get_json()
    assert body["cin"] == "AB123456" and body["phones"] == ["212611223344", "212700000000"]
    changes = {c["field"]: c for c in body["changes"]}
    assert set(changes) == {"created", "name", "cin", "zone", "phones"}
    assert changes["name"]["old"] == "Hassan" and changes["name"]["new"] == "Hassan Alaoui"
    assert changes["phones"]["old"] == "212611223344" and changes["phones"]["new"] == "212611223344|212700000000"
    assert changes["name"]["user"]["id"] == users.by_role["supervisor"].id and changes["name"]["source"] == "api"
    assert changes["created"]["user"]["id"] == users.by_role["agent"].id
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*\+00:00$", changes["name"]["created_at"])
    unchanged = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"name": "Hassan Alaoui"}, headers=users.headers("agent")
    )
    assert unchanged.status_code == 200
    assert db.scalar(select(func.count(ContactChange.id)).where(ContactChange.field == "name")) == 1


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"name": "No CIL"}, 422, "invalid_cil"),
        ({"cil": "12 34"}, 422, "invalid_cil"),
        ({"cil": "5", "phones": ["0661"]}, 422, "invalid_phones"),
        ({"cil": "5", "email": "x@"}, 422, "invalid_email"),
        ({"cil": "5", "cin": "12"}, 422, "invalid_cin"),
        ({"cil": "5", "segment": "vip"}, 422, "invalid_segment"),
        ({"cil": "5", "tags": ["ok", "<script>"]}, 422, "invalid_tags"),
        ({"cil": "5", "colour": "red"}, 422, "unknown_field"),
        ({"cil": "1000001"}, 409, "cil_taken"),
        ({"cil": "5", "contracts": ["C-5002"]}, 409, "contract_taken"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(body, status, code, client, users, db):
    admin_import(client, users, SEMICOLON)
    before = counts(db)
    error = assert_error(client.post("/api/v1/customers", json=body, headers=users.headers("agent")), status, code)
    assert len(error["message"]) > 15
    assert counts(db) == before


def test_tags_are_created_replaced_by_a_patch_merged_by_an_import_and_recorded(client, users, db):
    created = client.post(
        "/api/v1/customers",
        json={"cil": "3000002", "name": "Nadia", "tags": ["E-Facture", "gros  consommateur", "e-facture"]},
        headers=users.headers("agent"),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    customer = created.get_json()
    assert customer["tags"] == ["e-facture", "gros consommateur"]

    patched = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"tags": "Coupure Salé"}, headers=users.headers("supervisor")
    ).get_json()
    assert patched["tags"] == ["coupure salé"]
    change = next(c for c in patched["changes"] if c["field"] == "tags")
    assert (change["old"], change["new"]) == ("e-facture|gros consommateur", "coupure salé")

    csv_text = "cil;tags\n3000002;E-facture|coupure salé\n".encode()
    report = client.post(
        "/api/v1/customers/import", data=csv_text, headers={**users.headers("admin"), "Content-Type": "text/csv"}
    ).get_json()
    assert (report["updated"], report["rejected_count"]) == (1, 0)
    again = client.get(f"/api/v1/customers/{customer['id']}", headers=users.headers("agent")).get_json()
    assert again["tags"] == ["coupure salé", "e-facture"]  # an import adds to the list, as for phones


def test_patch_refuses_a_contract_of_another_customer(client, users, db):
    from inbox.models import Customer

    admin_import(client, users, SEMICOLON)
    office = SimpleNamespace(id=db.scalars(select(Customer.id).where(Customer.cil == "1000002")).one())
    db.commit()
    response = client.patch(
        f"/api/v1/customers/{office.id}", json={"contracts": ["C-5001"]}, headers=users.headers("agent")
    )
    error = assert_error(response, 409, "contract_taken")
    assert "1000001" in error["message"]
    assert_error(client.patch("/api/v1/customers/999999", json={}, headers=users.headers("agent")), 404, "not_found")


# ---------------------------------------------------------------- links and contact history


def test_link_and_unlink_copy_fields_with_history(client, users, db, make_contact):  # noqa: F811
    from inbox.models import Customer

    admin_import(client, users, SEMICOLON)
    office = SimpleNamespace(id=db.scalars(select(Customer.id).where(Customer.cil == "1000002")).one())
    salma = SimpleNamespace(id=db.scalars(select(Customer.id).where(Customer.cil == "1000001")).one())
    contact_id = make_contact(None, [("whatsapp", "212537123456")], email="kept@example.ma")
    agent = users.headers("agent")
    db.commit()

    linked = client.post(f"/api/v1/contacts/{contact_id}/customer", json={"customer_id": office.id}, headers=agent)

    assert linked.status_code == 200, linked.get_data(as_text=True)
    body = linked.get_json()
    assert (body["customer_id"], body["cil"], body["contract"]) == (office.id, "1000002", "C-6001")
    assert body["name"] == "Office Régional" and body["cin"] == "A12345"
    assert body["email"] == "kept@example.ma"  # a field the contact had is not overwritten
    assert body["customer"] == {
        "id": office.id,
        "cil": "1000002",
        "name": "Office Régional",
        "zone": "Rabat",
        "segment": "key_account",
        "contracts": ["C-6001"],
    }
    conversation = body["conversations"][0]
    listed = client.get("/api/v1/conversations?cil=1000002", headers=agent).get_json()["items"]
    assert [c["id"] for c in listed] == [conversation["id"]]
    history = client.get(f"/api/v1/contacts/{contact_id}/changes", headers=agent).get_json()["items"]
    assert {(c["field"], c["new"], c["source"]) for c in history} == {
        ("customer_id", str(office.id), "link"),
        ("cil", "1000002", "link"),
        ("contract", "C-6001", "link"),
        ("name", "Office Régional", "link"),
        ("cin", "A12345", "link"),
        ("address", "Avenue Hassan II", "link"),
    }
    assert all(c["user"]["id"] == users.by_role["agent"].id for c in history)
    details = client.get(f"/api/v1/customers/{office.id}", headers=agent).get_json()
    assert [c["id"] for c in details["contacts"]] == [contact_id]

    several = client.post(f"/api/v1/contacts/{contact_id}/customer", json={"customer_id": salma.id}, headers=agent)
    error = assert_error(several, 422, "contract_required")
    assert "C-5001" in error["message"] and "C-5002" in error["message"]
    wrong = {"customer_id": salma.id, "contract": "C-6001"}
    assert_error(
        client.post(f"/api/v1/contacts/{contact_id}/customer", json=wrong, headers=agent), 422, "unknown_contract"
    )
    chosen = {"customer_id": salma.id, "contract": "c-5002"}
    moved = client.post(f"/api/v1/contacts/{contact_id}/customer", json=chosen, headers=agent).get_json()
    assert (moved["cil"], moved["contract"], moved["name"]) == ("1000001", "C-5002", "Office Régional")

    unlinked = client.delete(f"/api/v1/contacts/{contact_id}/customer", headers=agent)

    assert unlinked.status_code == 200
    assert (unlinked.get_json()["customer_id"], unlinked.get_json()["cil"], unlinked.get_json()["customer"]) == (
        None,
        None,
        None,
    )
    latest = client.get(f"/api/v1/contacts/{contact_id}/changes", headers=agent).get_json()["items"][:3]
    assert {(c["field"], c["old"], c["new"]) for c in latest} == {
        ("customer_id", str(salma.id), None),
        ("cil", "1000001", None),
        ("contract", "C-5002", None),
    }
    assert_error(client.delete(f"/api/v1/contacts/{contact_id}/customer", headers=agent), 409, "not_linked")
    missing = client.post(f"/api/v1/contacts/{contact_id}/customer", json={"customer_id": 999999}, headers=agent)
    assert_error(missing, 404, "not_found")
    assert_error(client.post(f"/api/v1/contacts/{contact_id}/customer", json={"customer_id": "1"}, headers=agent), 422)


def test_contact_patch_is_validated_and_recorded_with_user_time_and_source(client, users, make_contact):  # noqa: F811
    contact_id = make_contact("Salma", [("whatsapp", "212661234567")])
    bad = client.patch(f"/api/v1/contacts/{contact_id}", json={"cin": "123"}, headers=users.headers("agent"))
    assert_error(bad, 422, "invalid_cin")
    foreign = client.patch(
        f"/api/v1/contacts/{contact_id}", json={"phone": "+33 6 12 34 56 78"}, headers=users.headers("agent")
    )
    assert_error(foreign, 422, "invalid_phone")

    response = client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"name": "Salma B.", "phone": "06 61 23 45 67", "cin": "be123456"},
        headers=users.headers("supervisor"),
    )

    assert response.status_code == 200
    assert response.get_json()["phone"] == "212661234567" and response.get_json()["cin"] == "BE123456"
    history = client.get(f"/api/v1/contacts/{contact_id}/changes", headers=users.headers("reviewer")).get_json()[
        "items"
    ]
    assert {(c["field"], c["old"], c["new"]) for c in history} == {
        ("name", "Salma", "Salma B."),
        ("phone", None, "212661234567"),
        ("cin", None, "BE123456"),
    }
    assert all(c["source"] == "api" and c["user"]["id"] == users.by_role["supervisor"].id for c in history)
    assert all(re.match(r"\d{4}-\d\d-\d\dT.*\+00:00$", c["created_at"]) for c in history)


def login(client, email):
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf}).status_code == 302
    return csrf


def test_a_browser_edit_is_recorded_with_source_inbox(client, users, make_contact):  # noqa: F811
    contact_id = make_contact("Salma", [("whatsapp", "212661234567")])
    csrf = login(client, "agent@example.com")
    assert client.patch(f"/api/v1/contacts/{contact_id}", json={"name": "S."}).status_code == 400  # no CSRF token
    response = client.patch(f"/api/v1/contacts/{contact_id}", json={"name": "S."}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 200
    history = client.get(f"/api/v1/contacts/{contact_id}/changes").get_json()["items"]
    assert [(c["field"], c["source"]) for c in history] == [("name", "inbox")]


# ---------------------------------------------------------------- the admin page


def test_the_admin_page_imports_with_the_csrf_token_and_escapes_the_report(client, users, db):
    assert client.get("/admin/directory").status_code == 302  # to the login page
    login(client, "agent@example.com")
    assert client.get("/admin/directory").status_code == 403
    login(client, "admin@example.com")
    page = client.get("/admin/directory?lang=en").get_data(as_text=True)  # the report in the page's language
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    upload = b"cil;name;phones\n<script>alert(1)</script>;X;0661\n7000001;Amine;0661234567\n"

    refused = client.post(
        "/admin/directory", data={"file": (io.BytesIO(upload), "d.csv")}, content_type="multipart/form-data"
    )
    assert refused.status_code == 400 and counts(db) == (0, 0, 0)

    response = client.post(
        "/admin/directory",
        data={"file": (io.BytesIO(upload), "d.csv"), "csrf_token": csrf},
        content_type="multipart/form-data",
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<strong class="count-created">1</strong>' in html and '<strong class="count-rejected">1</strong>' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "is not a CIL number" in html and "&#39;0661&#39; is not a Moroccan mobile" in html
    assert counts(db) == (1, 0, 1)
    empty = client.post("/admin/directory", data={"csrf_token": csrf}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Choose a CSV file" in empty.get_data(as_text=True)


# ---------------------------------------------------------------- roles


def _routes(customer_id: int, contact_id: int):
    csv = b"cil\n9000001\n"
    return [
        ("GET", "/api/v1/customers", {}, "read"),
        ("GET", f"/api/v1/customers/{customer_id}", {}, "read"),
        ("GET", f"/api/v1/contacts/{contact_id}/changes", {}, "read"),
        ("GET", f"/api/v1/contacts/{contact_id}", {}, "read"),
        ("POST", "/api/v1/customers", {"json": {"cil": "9000002"}}, "write"),
        ("PATCH", f"/api/v1/customers/{customer_id}", {"json": {"name": "Y"}}, "write"),
        ("POST", f"/api/v1/contacts/{contact_id}/customer", {"json": {"customer_id": customer_id}}, "write"),
        ("DELETE", f"/api/v1/contacts/{contact_id}/customer", {}, "write"),
        ("PATCH", f"/api/v1/contacts/{contact_id}", {"json": {"name": "Z"}}, "write"),
        ("POST", "/api/v1/customers/import", {"data": csv, "content_type": "text/csv"}, "admin"),
    ]


ALLOWED = {
    "agent": {"read", "write"},
    "supervisor": {"read", "write"},
    "admin": {"read", "write", "admin"},
    "reviewer": {"read"},
    "marketing": set(),
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_roles_of_every_route(role, client, users, db, make_contact):  # noqa: F811
    from inbox.models import Customer

    customer = Customer(cil="8000001")
    db.add(customer)
    db.flush()
    customer_id = customer.id
    db.commit()
    contact_id = make_contact("Salma", [("whatsapp", "212661234567")])
    for method, path, options, kind in _routes(customer_id, contact_id):
        response = client.open(path, method=method, headers=users.headers(role), **options)
        if kind in ALLOWED[role]:
            assert response.status_code in (200, 201), (role, method, path, response.get_data(as_text=True))
        else:
            assert_error(response, 403, "forbidden")
        assert_error(client.open(path, method=method, **options), 401, "unauthorized")


def test_answers_match_the_openapi_document(client, users, db, make_contact):  # noqa: F811
    from tests.inbox.test_api import conforms, openapi_document, response_schema

    document = openapi_document()
    agent = users.headers("agent")
    imported = admin_import(client, users, SEMICOLON)
    found = client.get("/api/v1/customers?q=salma", headers=agent)
    customer_id = found.get_json()["items"][0]["id"]
    contact_id = make_contact("Salma", [("whatsapp", "212661234567")])
    answers = [
        ("post", "/api/v1/customers/import", 200, imported),
        ("get", "/api/v1/customers", 200, found),
        ("post", "/api/v1/customers", 201, client.post("/api/v1/customers", json={"cil": "42"}, headers=agent)),
        ("post", "/api/v1/customers", 422, client.post("/api/v1/customers", json={}, headers=agent)),
        (
            "post",
            "/api/v1/contacts/{contact_id}/customer",
            200,
            client.post(
                f"/api/v1/contacts/{contact_id}/customer",
                json={"customer_id": customer_id, "contract": "C-5001"},
                headers=agent,
            ),
        ),
        (
            "patch",
            "/api/v1/customers/{customer_id}",
            200,
            client.patch(f"/api/v1/customers/{customer_id}", json={"landmark": "x"}, headers=agent),
        ),
        ("get", "/api/v1/customers/{customer_id}", 200, client.get(f"/api/v1/customers/{customer_id}", headers=agent)),
        (
            "get",
            "/api/v1/contacts/{contact_id}/changes",
            200,
            client.get(f"/api/v1/contacts/{contact_id}/changes", headers=agent),
        ),
        (
            "delete",
            "/api/v1/contacts/{contact_id}/customer",
            200,
            client.delete(f"/api/v1/contacts/{contact_id}/customer", headers=agent),
        ),
    ]
    for method, path, status, response in answers:
        assert response.status_code == status, (method, path, response.get_data(as_text=True))
        conforms(document, response_schema(document, method, path, status), response.get_json())
