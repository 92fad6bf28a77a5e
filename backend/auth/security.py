"""Password hashing (argon2id), bearer-token digests and national ID protection."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_hasher = PasswordHasher()  # argon2id; parameters set from the settings by `configure_hasher`
_dummy_hash = _hasher.hash("not-a-real-password")


def configure_hasher(*, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
    """Set the argon2id cost (production keeps the library defaults; tests go cheaper)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
    )
    # A valid hash to check when the phone is unknown, so timing does not reveal accounts.
    _dummy_hash = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an absent hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh opaque bearer token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- national ID numbers (居民身份证号码, GB 11643-1999) -------------------------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CODES = "10X98765432"


def national_id_is_valid(value: str) -> bool:
    """18 characters, a real birth date, and the ISO 7064 MOD 11-2 check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK_CODES[total % 11] == value[17].upper()


def national_id_birth_date(value: str) -> dt.date:
    """The birth date written in a (valid) national ID number."""
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


class FieldCipher:
    """Encrypts a field at rest and keeps a keyed hash of it for look-ups.

    `keys` is one Fernet key or several separated by commas: the first encrypts, every one
    decrypts (MultiFernet), so a key is rotated by putting the new one first and running
    `flask --app backend keys reencrypt`. The look-up hash has its own key (`lookup_key`):
    rotating the encryption key never changes a hash. Without one (development), the hash key
    is derived from the last encryption key listed, the original one, as before the keys were
    separated: set FIELD_LOOKUP_KEY and run `keys reencrypt` before removing that key.
    """

    def __init__(self, keys: str, lookup_key: str | None = None) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ValueError("FIELD_ENCRYPTION_KEY is empty")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        if lookup_key:
            self._hmac_key = lookup_key.encode()
        else:
            self._hmac_key = hashlib.sha256(
                b"lookup:" + base64.urlsafe_b64decode(parts[-1])
            ).digest()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FieldCipher:
        """The cipher the settings describe."""
        return cls(config["FIELD_ENCRYPTION_KEY"], config.get("FIELD_LOOKUP_KEY") or None)

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str | None:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            return None

    def rotate(self, token: bytes) -> bytes:
        """The same value encrypted with the first key (InvalidToken if no key opens it)."""
        return self._fernet.rotate(token)

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hmac_key, value.upper().encode(), hashlib.sha256).hexdigest()
