"""Password hashing (argon2id), bearer-token digests and national ID protection."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

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
    """Encrypts a field at rest (Fernet) and derives a keyed hash for look-ups."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        self._hmac_key = hashlib.sha256(b"lookup:" + base64.urlsafe_b64decode(key)).digest()

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str | None:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            return None

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hmac_key, value.upper().encode(), hashlib.sha256).hexdigest()
