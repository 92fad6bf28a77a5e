"""`flask --app backend content import`: lessons from content/lessons into the database.

All or nothing: every file is read and checked first; any problem prints
`<file>: field <name>: <message>` and exits non-zero with nothing written. New lessons are
drafts and changed ones new draft versions: they go through review like any other.
`--publish` is for the demo's seeding only: it records the import as approved by an
administrator (never by the author).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from backend.auth import service as auth_service
from backend.auth.models import Role, User
from backend.db import Session
from backend.education import service
from backend.education.lesson_files import CONTENT_DIR, ContentFilesError, read_tree
from backend.errors import DomainError

content_cli = AppGroup("content", help="Content files: lessons.")


def _default_path() -> str:
    relative = os.path.relpath(CONTENT_DIR)
    return str(CONTENT_DIR) if relative.startswith("..") else relative


def _user(phone: str | None, roles: tuple[Role, ...], what: str) -> User | None:
    if phone is None:
        return None
    user = auth_service.get_by_phone(Session(), phone=phone)
    if user is None or user.role not in roles:
        raise click.ClickException(
            f"--{what}-phone: no {' or '.join(roles)} with the phone {phone}"
        )
    return user


def _first_admin() -> User:
    admin = (
        Session()
        .scalars(
            select(User)
            .where(User.role == Role.ADMIN, User.is_active.is_(True))
            .order_by(User.created_at, User.id)
        )
        .first()
    )
    if admin is None:
        raise click.ClickException("--publish: no administrator to record as the approver")
    return admin


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    raise click.ClickException(f"{len(lines)} problem(s): nothing was imported")


@content_cli.command("import")
@click.option(
    "--path",
    "path",
    type=click.Path(file_okay=False, path_type=Path),
    default=_default_path,
    show_default="content/lessons",
    help="The lessons folder: <stage>/<slug>/<locale>.md.",
)
@click.option("--author-phone", default=None, help="An educator recorded as the author.")
@click.option(
    "--publish",
    is_flag=True,
    help="Demo seeding only: approve and publish as an administrator (--approver-phone, "
    "else the first one).",
)
@click.option("--approver-phone", default=None, help="With --publish: the approving admin.")
def import_lessons(
    path: Path, author_phone: str | None, publish: bool, approver_phone: str | None
) -> None:
    """Create or update lessons from their files (idempotent; all or nothing)."""
    session = Session()
    with force_locale("en"):
        try:
            lessons = read_tree(path)
        except ContentFilesError as exc:
            _fail(exc.lines)
        author = _user(author_phone, (Role.EDUCATOR, Role.ADMIN), "author")
        approver = None
        if publish:
            approver = _user(approver_phone, (Role.ADMIN,), "approver") or _first_admin()
        try:
            report = service.import_lessons(
                session, lessons=lessons, author=author, approver=approver
            )
        except service.ImportConflict as exc:
            session.rollback()
            _fail(exc.lines)
        except DomainError as exc:
            session.rollback()
            raise click.ClickException(str(exc.detail)) from exc
    session.commit()
    line = (
        f"lessons: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )
    if publish:
        line += f", {len(report.published)} published"
    click.echo(line)
