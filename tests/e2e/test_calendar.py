"""An admin edits the business calendar in Chromium: from the inbox header to the calendar page, a holiday added
and removed through its forms, the page in Arabic right to left."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Watched, login, prefer_language

pytestmark = pytest.mark.e2e
YEAR = 2031  # a year no running timer of the other tests reaches


def test_an_admin_adds_and_removes_a_holiday(context):
    watched = Watched(context.new_page())
    page = watched.page
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.click("#calendar-link")
    expect(page.locator("h1")).to_have_text("Business calendars")
    expect(page.locator("input[name=hours_mon]").first).to_have_value("10:00-20:00")
    expect(page.locator("input[name=hours_sun]").first).to_have_value("")
    page.fill("input[name=year]", str(YEAR))
    page.click("form.admin-inline >> text=Show")
    expect(page.locator("#holidays-title")).to_have_text(f"Holidays in {YEAR}")

    form = page.locator("form.add-holiday")
    form.locator("input[name=date]").fill(f"{YEAR}-03-21")
    form.locator("input[name=name]").fill("Aïd al-Fitr")
    form.locator("button[type=submit]").click()
    expect(page.locator(".admin-saved")).to_have_text("Saved. Due times moved: 0.")
    row = page.locator("table.holidays tr", has_text="Aïd al-Fitr")
    expect(row).to_contain_text(f"{YEAR}-03-21")
    expect(row).to_contain_text("All accounts")

    prefer_language(page, "ar")
    page.goto(f"/admin/calendar?year={YEAR}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("تقويمات العمل")
    page.locator("table.holidays tr", has_text="Aïd al-Fitr").locator("button").click()
    expect(page.locator(".admin-saved")).to_contain_text("تم الحفظ")
    expect(page.locator("table.holidays")).not_to_contain_text("Aïd al-Fitr")
    prefer_language(page, "en")
    assert not watched.page_errors and not watched.csp_problems()
