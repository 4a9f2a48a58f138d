"""`gridhub user …`: add users, issue or rotate their API tokens, revoke them.

These commands work on the database directly, also before the hub has ever run:
they migrate the schema first, and a patrol user's patrol is taken from the site
file. A new API token lives `api.token_days` days when the site file sets it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from hub.auth import ROLES, add_user, issue_token, revoke_tokens, rotate_token
from hub.config import SiteConfig, load_site
from hub.errors import HubError
from hub.serve import run_migrations, timeseries_policy
from hub.services import service_endpoints
from hub.storage.db import connect
from hub.storage.site_repo import sync_patrols


def add_user_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], default_config: Path
) -> None:
    user = commands.add_parser("user", help="API users and tokens")
    user_commands = user.add_subparsers(title="user commands", metavar="COMMAND", required=True)
    add = user_commands.add_parser("add", help="add a user and print its API token (once)")
    add.add_argument("name", help="user name")
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    add.add_argument("--patrol", help="the patrol a patrol user acts for")
    add.add_argument("--password-stdin", action="store_true",
                     help="read a dashboard login password from standard input")  # fmt: skip
    add.set_defaults(command=cmd_user_add)
    token = user_commands.add_parser(
        "token", help="issue a new API token for a user (its earlier API tokens stop working)"
    )
    token.add_argument("name", help="user name")
    token.set_defaults(command=cmd_user_token)
    revoke = user_commands.add_parser(
        "revoke", help="revoke every token and session of a user at once"
    )
    revoke.add_argument("name", help="user name")
    revoke.set_defaults(command=cmd_user_revoke)
    for sub in (add, token, revoke):
        sub.add_argument("--config", type=Path, default=default_config, help="site YAML file")
        sub.add_argument("--url", help="postgresql:// URL (overrides the config)")


@contextmanager
def _database(args: argparse.Namespace) -> Iterator[tuple[psycopg.Connection[Any], SiteConfig]]:
    """A connection to the site's (migrated) database, committed on success."""
    site = load_site(args.config)
    if args.url:
        run_migrations(args.url, timeseries_policy(site))
        with connect(args.url) as conn:
            yield conn, site
        return
    with service_endpoints(site) as endpoints:
        run_migrations(endpoints.database_url, timeseries_policy(site))
        with connect(endpoints.database_url) as conn:
            yield conn, site


def _expiry(site: SiteConfig) -> datetime | None:
    days = site.api.token_days
    return None if days is None else datetime.now(UTC) + timedelta(days=days)


def _print_token(token: str, expires: datetime | None) -> None:
    until = f"valid until {expires.isoformat(timespec='seconds')}" if expires else "no expiry"
    print(f"API token ({until}; shown once):")  # noqa: T201
    print(token)  # noqa: T201


def cmd_user_add(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if args.password_stdin and not password:
        raise HubError("--password-stdin got an empty password")
    with _database(args) as (conn, site):
        if args.patrol is not None and args.patrol in {p.id for p in site.patrols}:
            sync_patrols(conn, site)  # the hub may never have run on this database
        user_id = add_user(conn, args.name, args.role, args.patrol, password)
        expires = _expiry(site)
        token = issue_token(conn, user_id, "api", expires)
    print(f"user {args.name} ({args.role}) added")  # noqa: T201
    _print_token(token, expires)
    return 0


def cmd_user_token(args: argparse.Namespace) -> int:
    with _database(args) as (conn, site):
        expires = _expiry(site)
        token = rotate_token(conn, args.name, expires)
    print(f"user {args.name}: earlier API tokens revoked")  # noqa: T201
    _print_token(token, expires)
    return 0


def cmd_user_revoke(args: argparse.Namespace) -> int:
    with _database(args) as (conn, _site):
        count = revoke_tokens(conn, args.name)
    print(f"user {args.name}: {count} token(s) and sessions revoked")  # noqa: T201
    return 0
