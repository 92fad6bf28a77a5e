"""`flask --app backend create-admin` (the first administrator) and `keys reencrypt`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from backend.auth import service
from backend.auth.models import Role
from backend.auth.security import FieldCipher
from backend.db import Session
from backend.errors import DomainError


@click.command("create-admin")
@with_appcontext
@click.option("--phone", required=True)
@click.option("--password", required=True)
@click.option("--name", default="Administrator")
def create_admin(phone: str, password: str, name: str) -> None:
    """Create an administrator account (idempotent for an existing admin phone)."""
    session = Session()
    existing = service.get_by_phone(session, phone=phone)
    if existing is not None:
        if existing.role != Role.ADMIN:
            raise click.ClickException(f"{phone} already belongs to a {existing.role}")
        click.echo(f"admin {phone} already exists")
        return
    if len(password) < 8:
        raise click.ClickException("password: use at least 8 characters")
    try:
        service.create_user(session, role=Role.ADMIN, phone=phone, password=password, name=name)
    except DomainError as exc:
        raise click.ClickException(str(exc.errors or exc.detail)) from exc
    session.commit()
    click.echo(f"admin {phone} created")


keys = AppGroup("keys", help="Field-encryption keys.")


@keys.command("reencrypt")
def reencrypt() -> None:
    """Re-encrypt national ID numbers with the first FIELD_ENCRYPTION_KEY and re-hash them."""
    session = Session()
    try:
        count = service.reencrypt_national_ids(
            session, cipher=FieldCipher.from_config(current_app.config)
        )
    except ValueError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"re-encrypted {count} national ID numbers")
