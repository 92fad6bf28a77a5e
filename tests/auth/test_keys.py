"""Secrets and field-encryption keys: production refuses the development values; the
encryption key rotates (MultiFernet + `keys reencrypt`) without breaking look-ups, whose
HMAC key is separate."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from backend import create_app
from backend.auth.models import User
from backend.auth.security import FieldCipher
from backend.config import InsecureSettings

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _national_id(serial: str) -> str:
    """A well-formed 居民身份证号码 (GB 11643 check character) born 1996-05-12."""
    body = f"330302199605120{serial}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=False)) % 11]


PRODUCTION = {
    "ENVIRONMENT": "production",
    "DATABASE_URL": "sqlite://",
    "PASSWORD_HASH_TIME_COST": 1,  # the hasher is process-wide: keep the suite's cheap one
    "PASSWORD_HASH_MEMORY_KIB": 1024,
    "PASSWORD_HASH_PARALLELISM": 1,
}


def test_production_refuses_development_secrets():
    with pytest.raises(InsecureSettings) as err:
        create_app(PRODUCTION)
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "FIELD_LOOKUP_KEY"):
        assert name in str(err.value)


def test_production_refuses_an_old_development_key_kept_for_decryption():
    config = {
        **PRODUCTION,
        "SECRET_KEY": "s3cret-from-the-vault",
        "FIELD_LOOKUP_KEY": "lookup-from-the-vault",
        "FIELD_ENCRYPTION_KEY": f"{Fernet.generate_key().decode()},"
        "ZGV2LWZpZWxkLWtleS1jaGFuZ2UtbWUtMzJieXRlcyE=",
    }
    with pytest.raises(InsecureSettings, match="FIELD_ENCRYPTION_KEY"):
        create_app(config)


def test_production_starts_with_its_own_secrets():
    app = create_app(
        {
            **PRODUCTION,
            "SECRET_KEY": "s3cret-from-the-vault",
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "FIELD_LOOKUP_KEY": "lookup-from-the-vault",
        }
    )
    assert app.config["ENVIRONMENT"] == "production"


def test_the_wsgi_entry_point_is_production_by_default():
    env = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT", "SECRET_KEY")}
    env["DATABASE_URL"] = "sqlite://"
    run = subprocess.run(
        [sys.executable, "-c", "import backend.wsgi"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and "InsecureSettings" in run.stderr


def _stored(db, user_id: str) -> User:
    db.expire_all()
    return db.scalars(select(User).where(User.id == uuid.UUID(user_id))).one()


def test_rotating_the_encryption_key_keeps_every_id_readable_and_findable(app, db, make_citizen):
    old = app.config["FIELD_ENCRYPTION_KEY"]
    new = Fernet.generate_key().decode()
    nid = _national_id("02")
    her, her_id, _ = make_citizen()
    app.config["FIELD_LOOKUP_KEY"] = "hmac-key-from-the-vault"  # required in production
    try:
        assert her.patch("me", {"national_id": nid}).status_code == 200
        hash_before = _stored(db, her_id).national_id_hash
        app.config["FIELD_ENCRYPTION_KEY"] = f"{new},{old}"  # the new key first
        result = app.test_cli_runner().invoke(args=["keys", "reencrypt"])
        assert result.exit_code == 0, result.output
        row = _stored(db, her_id)
        assert Fernet(new.encode()).decrypt(row.national_id_cipher).decode() == nid
        assert row.national_id_hash == hash_before  # look-ups survive the rotation

        app.config["FIELD_ENCRYPTION_KEY"] = new  # the old key is gone
        assert her.get("me").json["national_id"].endswith(nid[-2:])
        other, _, _ = make_citizen()
        r = other.patch("me", {"national_id": nid})
        assert r.status_code == 422 and "national_id" in r.json["errors"]
    finally:
        app.config["FIELD_ENCRYPTION_KEY"] = old
        app.config["FIELD_LOOKUP_KEY"] = ""


def test_a_separate_lookup_key_takes_over_after_reencrypt(app, db, make_citizen):
    nid = _national_id("04")
    her, her_id, _ = make_citizen()
    assert her.patch("me", {"national_id": nid}).status_code == 200
    try:
        app.config["FIELD_LOOKUP_KEY"] = "a-separate-hmac-key"
        assert app.test_cli_runner().invoke(args=["keys", "reencrypt"]).exit_code == 0
        cipher = FieldCipher.from_config(app.config)
        assert _stored(db, her_id).national_id_hash == cipher.lookup_hash(nid)
        other, _, _ = make_citizen()
        r = other.patch("me", {"national_id": nid})
        assert r.status_code == 422 and "national_id" in r.json["errors"]
    finally:
        app.config["FIELD_LOOKUP_KEY"] = ""
