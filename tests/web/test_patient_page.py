"""The doctor's patient page beyond the first journey: recording a birth (the child and the
postpartum and newborn steps appear), and her access log (who viewed or changed her record, when
and why) — both in Chromium against the real app."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from backend import demo
from tests.web.test_journeys import DOCTOR, _call, _console_login, _phone, _today


def _patient(server: str, name: str, weeks: int) -> str:
    """A citizen pregnant `weeks` weeks, registered at the demo doctor's centre; her phone."""
    phone, password = _phone(), "Family-passw0rd-2026"
    _call(server, "POST", "auth/register", {"phone": phone, "password": password, "name": name})
    token = _call(server, "POST", "auth/token", {"phone": phone, "password": password})
    token = token["access_token"]
    lmp = _today() - dt.timedelta(weeks=weeks)
    _call(server, "POST", "me/pregnancies", {"lmp": lmp.isoformat()}, token)
    centres = _call(server, "GET", "institutions", token=token)
    centre = next(c for c in centres if c["name"] == demo.INSTITUTION["name"])
    _call(server, "POST", "me/registrations", {"institution_id": centre["id"]}, token)
    return phone


def _open_patient(page, phone: str, name: str) -> None:
    page.goto("/app/patients")
    page.get_by_label("姓名或手机号").fill(phone)
    page.keyboard.press("Enter")
    page.get_by_role("link", name=name).click()
    expect(page.locator("[data-test=patient-name]")).to_contain_text(name)


def test_doctor_records_a_birth_and_the_postpartum_and_newborn_steps_appear(
    server, desk_page, shot
):
    phone = _patient(server, "吴静", weeks=39)
    page = desk_page
    _console_login(page, DOCTOR)
    _open_patient(page, phone, "吴静")
    expect(page.locator("[data-test=ga]")).to_have_text("39+0")
    schedule = page.locator("[data-test=schedule]")
    expect(schedule).not_to_contain_text("产后访视")
    expect(page.locator("[data-test=children]")).to_have_count(0)

    page.locator("[data-test=open-birth]").click()
    dialog = page.get_by_role("dialog", name="记录分娩")
    # Every field of the dialog is named (read by a screen reader, found by its label).
    expect(dialog.get_by_label("分娩时间")).not_to_have_value("")  # now, by default
    dialog.get_by_label("孕周（周）").fill("39")
    dialog.get_by_label("分娩方式").focus()  # the select opens from the keyboard
    page.keyboard.press("Enter")
    page.get_by_role("option", name="剖宫产").click()
    dialog.locator("label.el-radio").filter(has_text="男").click()
    dialog.get_by_label("体重 (g)").fill("3350")
    shot(page, "app-birth-dialog")
    dialog.locator("[data-test=save-birth]").click()
    expect(page.get_by_text("分娩已记录")).to_be_visible()

    # The child now stands in her handbook, and the pregnancy is no longer ongoing.
    expect(page.locator("[data-test=children]")).to_contain_text(_today().isoformat())
    expect(page.locator("[data-test=ga]")).to_have_count(0)
    # The postpartum visits follow the birth (国家基本公共卫生服务规范 第三版: a home visit
    # within a week of discharge and the 42-day check; content/protocols/postpartum.yaml).
    expect(schedule).to_contain_text("产后访视（出院后1周内）")
    expect(schedule).to_contain_text("产后42天健康检查")
    shot(page, "app-after-birth", full_page=True)

    # The newborn's own schedule starts with the home visit (0–6岁儿童健康管理), seen from the
    # family's side of the same API.
    token = _call(
        server, "POST", "auth/token", {"phone": phone, "password": "Family-passw0rd-2026"}
    )
    steps = _call(server, "GET", "me/schedule?page_size=200", token=token["access_token"])
    titles = " ".join(s["title"] for s in steps["items"])
    assert "新生儿家庭访视" in titles and "产后访视" in titles


def test_doctor_reads_her_access_log_on_the_patient_page(server, desk_page, shot):
    phone = _patient(server, "郑悦", weeks=10)
    page = desk_page
    _console_login(page, DOCTOR)
    _open_patient(page, phone, "郑悦")
    # Re-dating writes her pregnancy: a "changed" row beside the reads of her handbook (a
    # 12-week scan at 10 weeks differs by over 7 days: ACOG CO 700, as in test_journeys).
    page.get_by_role("button", name="超声核对孕周").click()
    dialog = page.get_by_role("dialog", name="超声核对孕周")
    dialog.get_by_role("spinbutton").nth(0).fill("12")
    dialog.get_by_role("button", name="保存").click()
    expect(page.locator("[data-test=ga]")).to_have_text("12+0")

    # The tabs work from the keyboard (WAI-ARIA tabs: arrows move between them, wrapping).
    page.get_by_role("tab", name="日程").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="访问记录")).to_have_attribute("aria-selected", "true")
    log = page.locator("[data-test=access-log]")
    expect(log.get_by_role("row").nth(1)).to_contain_text("查看了访问记录")  # this very read
    expect(log).to_contain_text("李医生")
    expect(log).to_contain_text("修改了妊娠记录")
    expect(log).to_contain_text("查看了健康手册")
    expect(log).to_contain_text("建册")  # why: she registered at the doctor's centre
    expect(log).to_contain_text(demo.INSTITUTION["name"])
    shot(page, "app-access-log")
