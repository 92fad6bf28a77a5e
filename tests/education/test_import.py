"""`flask content import`: idempotent, versioned like the API, all or nothing on a bad file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.auth.models import Role
from backend.education import lesson_files, service
from backend.education.models import Lesson, LessonStatus, LessonVersion, VersionStatus

LESSON_COUNT = 32
DANGER = Path("pregnancy") / "danger-signs"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of content/lessons to change."""
    target = tmp_path / "lessons"
    shutil.copytree(lesson_files.CONTENT_DIR, target)
    return target


@pytest.fixture
def run(app, db):
    def invoke(*args: str):
        return app.test_cli_runner().invoke(args=["content", "import", *args])

    return invoke


def _counts(db) -> tuple[int, int]:
    return (
        db.scalar(select(func.count()).select_from(Lesson)),
        db.scalar(select(func.count()).select_from(LessonVersion)),
    )


def _lesson(db, slug: str) -> Lesson:
    lesson = db.scalars(select(Lesson).where(Lesson.slug == slug)).one()
    db.refresh(lesson)
    return lesson


def _versions(db, slug: str) -> list[tuple[int, str]]:
    lesson = _lesson(db, slug)
    return [
        (v.number, v.status)
        for v in db.scalars(
            select(LessonVersion)
            .where(LessonVersion.lesson_id == lesson.id)
            .order_by(LessonVersion.number)
        )
    ]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_lessons_of_the_repository_import_once_as_drafts(run, db):
    first = run()
    assert first.exit_code == 0, first.output
    assert f"lessons: {LESSON_COUNT} created, 0 updated, 0 unchanged" in first.output
    assert _counts(db) == (LESSON_COUNT, LESSON_COUNT)
    statuses = set(db.scalars(select(LessonVersion.status)))
    assert statuses == {VersionStatus.DRAFT}  # imported lessons go through review

    second = run()
    assert second.exit_code == 0, second.output
    assert f"lessons: 0 created, 0 updated, {LESSON_COUNT} unchanged" in second.output
    assert _counts(db) == (LESSON_COUNT, LESSON_COUNT)


def test_a_changed_file_makes_a_new_version_and_a_changed_draft_is_rewritten(
    run, db, tree, make_staff
):
    assert run("--path", str(tree)).exit_code == 0
    _, author = make_staff(Role.EDUCATOR)
    _, admin = make_staff(Role.ADMIN)
    lesson = _lesson(db, "danger-signs")
    service.submit(db, lesson=lesson, actor=author)
    service.approve(db, lesson=lesson, actor=admin)
    db.commit()

    _edit(tree / DANGER / "en.md", "In an emergency, call", "In any emergency, call")
    result = run("--path", str(tree))
    assert result.exit_code == 0, result.output
    assert f"1 updated, {LESSON_COUNT - 1} unchanged" in result.output
    assert _versions(db, "danger-signs") == [(1, "published"), (2, "draft")]
    lesson = _lesson(db, "danger-signs")
    assert lesson.status == LessonStatus.PUBLISHED and lesson.current_number == 2

    # the new draft changes again in the file: the draft is rewritten, no third version
    _edit(tree / DANGER / "zh_CN.md", "reading_minutes: 3", "reading_minutes: 4")
    _edit(tree / DANGER / "en.md", "reading_minutes: 3", "reading_minutes: 4")
    result = run("--path", str(tree))
    assert "1 updated" in result.output
    assert _versions(db, "danger-signs") == [(1, "published"), (2, "draft")]
    draft = service.current_version(db, lesson=_lesson(db, "danger-signs"))
    assert draft.reading_minutes == 4
    assert "In any emergency" in draft.variant("en").body_md
    assert (
        "In an emergency"
        in service.published_version(db, lesson_id=lesson.id).variant("en").body_md
    )

    assert f"0 updated, {LESSON_COUNT} unchanged" in run("--path", str(tree)).output


BAD_FILES = [
    # (file, old text, new text, expected message part)
    (DANGER / "zh_CN.md", "  from: 4\n", "  from: x\n", "zh_CN.md: field window.from:"),
    (DANGER / "zh_CN.md", "  from: 4\n", "  from: 50\n", "zh_CN.md: field window.from:"),
    (DANGER / "zh_CN.md", "clock: pregnancy_week", "clock: child_age_month", "window.clock"),
    (DANGER / "en.md", "reading_minutes: 3", "reading_minutes: 5", "en.md: field reading_minutes"),
    (DANGER / "en.md", "    answer: 1", "    answer: 0", "en.md: field quiz"),
    (DANGER / "zh_CN.md", "slug: danger-signs", "slug: danger", "zh_CN.md: field slug"),
    (DANGER / "zh_CN.md", "reading_minutes: 3", "reading_minute: 3", "field reading_minute"),
    (DANGER / "zh_CN.md", "topics: [danger-signs]", "topics: [pregnancy-loss]", "field"),
    (DANGER / "zh_CN.md", "title: ", "title: \n# ", "zh_CN.md: field title"),
    (DANGER / "zh_CN.md", "\n---\n", "\n--\n", "zh_CN.md: front matter"),
    (DANGER / "en.md", "audience: [mother", "audience: [cat", "en.md: field audience"),
]


@pytest.mark.parametrize(("path", "old", "new", "message"), BAD_FILES)
def test_a_bad_file_names_the_file_and_field_and_nothing_is_written(
    run, db, tree, path, old, new, message
):
    _edit(tree / path, old, new)
    result = run("--path", str(tree))
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert str(tree / path.parent) in result.output
    assert "nothing was imported" in result.output
    assert _counts(db) == (0, 0)


def test_a_missing_zh_cn_file_or_a_stray_file_is_refused(run, db, tree):
    (tree / DANGER / "zh_CN.md").unlink()
    (tree / "rearing" / "vaccines" / "fr.md").write_text("---\n---\n", encoding="utf-8")
    result = run("--path", str(tree))
    assert result.exit_code != 0
    assert "danger-signs/zh_CN.md: missing" in result.output
    assert "vaccines/fr.md: not a lesson file" in result.output
    assert _counts(db) == (0, 0)


def test_a_bad_file_after_good_ones_leaves_existing_lessons_untouched(run, db, tree):
    assert run("--path", str(tree)).exit_code == 0
    before = _counts(db)
    _edit(tree / "birth" / "breastfeeding" / "zh_CN.md", "reading_minutes: 3", "reading_minutes: 4")
    _edit(tree / "birth" / "breastfeeding" / "en.md", "reading_minutes: 3", "reading_minutes: 4")
    _edit(tree / DANGER / "zh_CN.md", "  from: 4\n", "  from: -1\n")
    result = run("--path", str(tree))
    assert result.exit_code != 0
    assert _counts(db) == before
    assert service.current_version(db, lesson=_lesson(db, "breastfeeding")).reading_minutes == 3


def test_a_changed_file_of_a_lesson_in_review_is_refused(run, db, tree, make_staff):
    assert run("--path", str(tree)).exit_code == 0
    _, author = make_staff(Role.EDUCATOR)
    lesson = _lesson(db, "danger-signs")
    service.submit(db, lesson=lesson, actor=author)
    db.commit()
    _edit(tree / DANGER / "en.md", "In an emergency, call", "In any emergency, call")
    result = run("--path", str(tree))
    assert result.exit_code != 0
    assert "has a version in review" in result.output
    assert _versions(db, "danger-signs") == [(1, "in_review")]


def test_publish_records_the_import_as_approved_by_an_admin(run, db, make_staff):
    _, educator = make_staff(Role.EDUCATOR)
    _, admin = make_staff(Role.ADMIN)
    result = run("--publish", "--author-phone", educator.phone, "--approver-phone", admin.phone)
    assert result.exit_code == 0, result.output
    assert f"{LESSON_COUNT} created, 0 updated, 0 unchanged, {LESSON_COUNT} published" in (
        result.output
    )
    version = service.published_version(db, lesson_id=_lesson(db, "danger-signs").id)
    assert (version.author_id, version.reviewed_by) == (educator.id, admin.id)

    again = run("--publish", "--author-phone", educator.phone, "--approver-phone", admin.phone)
    assert f"{LESSON_COUNT} unchanged, 0 published" in again.output

    # never self-approval, also not through the importer
    own = run("--publish", "--author-phone", admin.phone, "--approver-phone", admin.phone)
    assert own.exit_code != 0


def test_unknown_author_or_approver_is_refused(run, db, make_citizen):
    _, _, phone = make_citizen()
    assert run("--author-phone", phone).exit_code != 0
    assert run("--publish", "--approver-phone", "13900000000").exit_code != 0
    assert _counts(db) == (0, 0)


def test_who_submits_an_imported_draft_cannot_approve_it(run, db, make_staff):
    assert run().exit_code == 0
    lesson_id = _lesson(db, "danger-signs").id
    api, educator = make_staff(Role.EDUCATOR)
    assert api.post(f"lessons/{lesson_id}/submit").status_code == 200
    assert api.post(f"lessons/{lesson_id}/approve").status_code == 403
    other = make_staff(Role.EDUCATOR)[0]
    assert other.post(f"lessons/{lesson_id}/approve").json["status"] == "published"
    version = service.published_version(db, lesson_id=lesson_id)
    assert version.author_id == educator.id
