"""State of the local endpoint on disk: the keypair, the users (hashed passwords) and the session records."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import string
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .endpoint_state import User

__all__ = ["Credentials", "hash_password", "load_credentials", "verify_password", "write_private"]

CREDENTIALS_FILE = "credentials.json"
USERS_FILE = "users.json"
SESSIONS_FILE = "sessions.json"
DEFAULT_EMAIL = "admin@local.backend.ai"

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Credentials:
    """The data dir's default user, keypair and token secret."""

    user: User
    password: str
    token_secret: bytes

    def __repr__(self) -> str:
        return f"Credentials(email={self.user.email!r}, access_key={self.user.access_key!r})"


def write_private(path: Path, data: Any) -> None:
    """Write JSON readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        json.dump(data, fp, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_json(path: Path, default: Any) -> Any:
    """The JSON in ``path``, or ``default`` when the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def hash_password(password: str) -> str:
    """A salted scrypt hash as ``scrypt$<salt hex>$<hash hex>``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` result (constant time)."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def _generate_access_key() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))


def _generate_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(40))


def load_credentials(
    data_dir: Path, *, access_key: str | None = None, secret_key: str | None = None
) -> Credentials:
    """The data dir's credentials, generated (mode 0600) on first use; explicit keys replace stored ones."""
    path = data_dir / CREDENTIALS_FILE
    stored: dict[str, Any] = read_json(path, {})
    changed = False
    if not stored:
        stored = {
            "email": DEFAULT_EMAIL,
            "access_key": _generate_access_key(),
            "secret_key": _generate_secret_key(),
            "password": secrets.token_urlsafe(12),
            "token_secret": secrets.token_hex(32),
            "uuid": str(uuid.uuid4()),
        }
        changed = True
    if (
        access_key is not None
        and secret_key is not None
        and (stored["access_key"] != access_key or stored["secret_key"] != secret_key)
    ):
        stored["access_key"], stored["secret_key"] = access_key, secret_key
        changed = True
    if changed:
        write_private(path, stored)
        users = {stored["email"]: {"password_hash": hash_password(stored["password"])}}
        write_private(data_dir / USERS_FILE, users)
    user = User(
        email=stored["email"],
        access_key=stored["access_key"],
        secret_key=stored["secret_key"],
        uuid=stored["uuid"],
    )
    return Credentials(
        user=user, password=stored["password"], token_secret=bytes.fromhex(stored["token_secret"])
    )


def check_login(data_dir: Path, email: str, password: str) -> bool:
    """Whether ``email``/``password`` match a user stored in the data dir."""
    users: dict[str, Any] = read_json(data_dir / USERS_FILE, {})
    entry = users.get(email)
    if not isinstance(entry, dict):
        # spend the same time as a real check, so that unknown emails cannot be told apart by timing
        verify_password(password, hash_password("x"))
        return False
    return verify_password(password, str(entry.get("password_hash", "")))
