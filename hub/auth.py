"""Users, roles and tokens: who may use the API, and as what.

Roles: `admin` (everything), `operator` (the monitoring room: cases, patrols,
statistics), `patrol` (a patrol's own dispatches and cases only), `integrator`
(cameras and zones). Tokens are random, shown once, and stored as SHA-256
hashes; passwords (for the dashboard login) as salted scrypt hashes. A login
makes a session token with an expiry, sent back as an HttpOnly cookie. API
tokens expire after `api.token_days` when the site sets it; `rotate_token` and
`revoke_tokens` are what `gridhub user token` and `gridhub user revoke` do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from hub.errors import AuthError
from hub.storage import rows

ROLES = ("admin", "operator", "patrol", "integrator")
TOKEN_PREFIX = "gh_"
SESSION_HOURS = 12
Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling."""

    user_id: int
    name: str
    role: str
    patrol_id: str | None


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(got.hex(), digest)


def add_user(
    conn: Conn, name: str, role: str, patrol_id: str | None = None, password: str | None = None
) -> int:
    """Create a user; a patrol user must name its patrol."""
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    if (role == "patrol") != (patrol_id is not None):
        raise AuthError("a patrol user needs --patrol ID, and only a patrol user has one")
    try:
        user_id = rows.scalar(
            conn,
            """INSERT INTO users (name, role, patrol_id, password_hash) VALUES (%s, %s, %s, %s)
               RETURNING id""",
            (name, role, patrol_id, hash_password(password) if password else None),
        )
    except psycopg.errors.UniqueViolation:
        raise AuthError(f"user {name!r} exists already") from None
    except psycopg.errors.ForeignKeyViolation:
        raise AuthError(f"no patrol {patrol_id!r}") from None
    return int(user_id)


def user_exists(conn: Conn, name: str) -> bool:
    return rows.exists(conn, "SELECT 1 FROM users WHERE name = %s", (name,))


def issue_token(
    conn: Conn, user_id: int, kind: str = "api", expires: datetime | None = None
) -> str:
    """A new token for the user; only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO tokens (user_id, token_sha256, kind, expires_at) VALUES (%s, %s, %s, %s)",
        (user_id, hash_token(token), kind, expires),
    )
    return token


@dataclass(frozen=True, slots=True)
class _TokenOwner:
    """A token's user and expiry, as `authenticate` checks them."""

    user_id: int
    name: str
    role: str
    patrol_id: str | None
    expires_at: datetime | None


def authenticate(conn: Conn, token: str, now: datetime) -> Principal:
    """The principal a token belongs to, or `AuthError` (unknown, revoked, expired, or
    its user disabled)."""
    owner = rows.one(
        conn,
        _TokenOwner,
        """SELECT u.id AS user_id, u.name, u.role, u.patrol_id, t.expires_at
           FROM tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_sha256 = %s AND NOT u.disabled""",
        (hash_token(token),),
    )
    if owner is None:
        raise AuthError("invalid or revoked token")
    if owner.expires_at is not None and owner.expires_at <= now:
        raise AuthError(
            f"token expired at {owner.expires_at.isoformat(timespec='seconds')}; "
            "log in again or ask for a new one (gridhub user token NAME)"
        )
    return Principal(owner.user_id, owner.name, owner.role, owner.patrol_id)


def rotate_token(conn: Conn, name: str, expires: datetime | None) -> str:
    """A new API token for user `name`; the user's earlier API tokens stop working."""
    user_id = rows.scalar(conn, "SELECT id FROM users WHERE name = %s", (name,))
    if user_id is None:
        raise AuthError(f"no user {name!r}")
    conn.execute("DELETE FROM tokens WHERE user_id = %s AND kind = 'api'", (user_id,))
    return issue_token(conn, int(user_id), "api", expires)


def revoke_tokens(conn: Conn, name: str) -> int:
    """Delete every token (API and sessions) of user `name`; how many there were."""
    if not user_exists(conn, name):
        raise AuthError(f"no user {name!r}")
    cur = conn.execute(
        "DELETE FROM tokens WHERE user_id = (SELECT id FROM users WHERE name = %s)", (name,)
    )
    return cur.rowcount


@dataclass(frozen=True, slots=True)
class _Login:
    """A user row as a login checks it."""

    user_id: int
    name: str
    role: str
    patrol_id: str | None
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user and the session token that proves it."""

    principal: Principal
    token: str


def login(conn: Conn, name: str, password: str, now: datetime) -> Session:
    """Check a password and open a session, or raise `AuthError`."""
    user = rows.one(
        conn,
        _Login,
        """SELECT id AS user_id, name, role, patrol_id, password_hash FROM users
           WHERE name = %s AND NOT disabled""",
        (name,),
    )
    stored = user.password_hash if user else None
    if user is None or stored is None or not check_password(password, stored):
        raise AuthError("wrong name or password")
    principal = Principal(user.user_id, user.name, user.role, user.patrol_id)
    token = issue_token(conn, principal.user_id, "session", now + timedelta(hours=SESSION_HOURS))
    return Session(principal, token)


def logout(conn: Conn, token: str) -> None:
    conn.execute(
        "DELETE FROM tokens WHERE token_sha256 = %s AND kind = 'session'", (hash_token(token),)
    )
