"""The educator edits a lesson's quiz in the lesson editor: a question, its options and the
right answer per locale; the server's field message stands by the option it names; what is
saved comes back after a reload; the family then answers the quiz through the same API."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.web.test_journeys import (
    ADMIN,
    CITIZEN,
    DEMO_PASSWORD,
    EDUCATOR,
    _call,
    _console_login,
    _field,
)


def test_educator_writes_a_quiz_the_server_checks_it_and_it_is_kept(server, desk_page, shot):
    page, slug = desk_page, f"quiz-{uuid.uuid4().hex[:6]}"
    _console_login(page, EDUCATOR)
    page.goto("/app/lessons/new")
    _field(page, "slug").fill(slug)
    page.get_by_label("依据").fill("国家基本公共卫生服务规范（第三版）")
    for locale, title, summary, body in (
        ("zh_CN", f"叶酸小测 {slug}", "叶酸怎么吃", "孕早期每天补充 **0.4 毫克** 叶酸。"),
        ("en", f"Folic acid quiz {slug}", "How to take it", "Take **0.4 mg** of folic acid a day."),
    ):
        _field(page, f"title-{locale}").fill(title)
        _field(page, f"summary-{locale}").fill(summary)
        _field(page, f"body-{locale}", "textarea").fill(body)

    quiz = page.locator("[data-test=quiz-editor]")
    quiz.locator("[data-test=quiz-add]").click()
    question = quiz.locator("[data-test=quiz-0]")
    question.get_by_label("第 1 题 zh_CN").fill("孕早期每天补充多少叶酸？")
    question.get_by_label("第 1 题 en").fill("How much folic acid a day in early pregnancy?")
    question.get_by_label("第 1 题 选项 1 zh_CN").fill("4 毫克")
    question.get_by_label("第 1 题 选项 1 en").fill("4 mg")
    question.locator("[data-test=quiz-0-add-option]").click()
    question.get_by_label("第 1 题 选项 3 zh_CN").fill("不需要")
    question.get_by_label("第 1 题 选项 3 en").fill("None")
    # Option 2 is left blank in both languages: the server names it (lesson_content.py).
    question.locator("[data-test=quiz-0-answer-1]").click()
    page.locator("[data-test=save-lesson]").click()
    option2 = question.locator(".el-form-item").filter(
        has=page.get_by_label("第 1 题 选项 2 zh_CN")
    )
    expect(option2.locator(".el-form-item__error")).to_have_text("不能为空。")
    expect(page).to_have_url(re.compile(r"/app/lessons/new$"))  # nothing half-saved
    shot(page, "app-quiz-invalid", full_page=True)

    question.get_by_label("第 1 题 选项 2 zh_CN").fill("0.4 毫克")
    question.get_by_label("第 1 题 选项 2 en").fill("0.4 mg")
    page.locator("[data-test=save-lesson]").click()
    expect(page).to_have_url(re.compile(r"/app/lessons/[0-9a-f-]{36}$"))
    lesson_id = page.url.rsplit("/", 1)[1]

    page.reload()  # what the server holds, not what the screen remembers
    question = page.locator("[data-test=quiz-0]")
    expect(question.get_by_label("第 1 题 zh_CN")).to_have_value("孕早期每天补充多少叶酸？")
    expect(question.get_by_label("第 1 题 选项 2 en")).to_have_value("0.4 mg")
    expect(question.get_by_label("第 1 题 选项 3 zh_CN")).to_have_value("不需要")
    expect(question.locator("[data-test=quiz-0-answer-1] input")).to_be_checked()
    shot(page, "app-quiz", full_page=True)
    page.locator("[data-test=submit-lesson]").click()
    expect(page.get_by_text("审核中").first).to_be_visible()

    # Another person approves; the family's reading of it carries the quiz, and the answer the
    # editor marked (the second option) is the one that passes.
    admin = _call(server, "POST", "auth/token", {"phone": ADMIN, "password": DEMO_PASSWORD})
    _call(server, "POST", f"lessons/{lesson_id}/approve", {}, admin["access_token"])
    family = _call(server, "POST", "auth/token", {"phone": CITIZEN, "password": DEMO_PASSWORD})
    content = _call(server, "GET", f"lessons/{lesson_id}/content", token=family["access_token"])
    assert content["quiz"] == [
        {"question": "孕早期每天补充多少叶酸？", "options": ["4 毫克", "0.4 毫克", "不需要"]}
    ]
    read = _call(
        server, "POST", f"lessons/{lesson_id}/reads", {"quiz_answers": [1]}, family["access_token"]
    )
    assert read["quiz_passed"] is True, read
