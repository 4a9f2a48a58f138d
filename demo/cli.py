"""`gridhub.cli` plugin: ``gridhub demo`` (the demo site) and ``gridhub patrol simulate``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from demo.escalation import RobotInbox, with_demo_robot
from demo.patrols import PatrolSimulator, SimSettings
from demo.world import attach_demo
from hub.cli import DEMO_CONFIG
from hub.config import load_site
from hub.infra.mqtt import BrokerAddress
from hub.seams import CliHooks, Commands
from hub.serve import probe_broker, serve

log = logging.getLogger("gridhub")


def register(hooks: CliHooks) -> None:
    """Add `gridhub demo` and `gridhub patrol simulate`."""
    demo = hooks.commands.add_parser("demo", help="run the demo site on embedded services")
    demo.add_argument("--config", type=Path, default=DEMO_CONFIG, help="site YAML file")
    demo.add_argument("--port", type=int, default=None, help="HTTP port (default: the file's)")
    demo.set_defaults(command=cmd_demo)
    _add_patrol_commands(hooks.commands)


def cmd_demo(args: argparse.Namespace) -> int:
    site = load_site(args.config)
    port = args.port if args.port is not None else site.api.port
    inbox = RobotInbox()
    inbox.start()
    try:
        site = with_demo_robot(site, inbox.url, f"http://{site.api.host}:{port}")
        serve(site, site.api.host, port, attach=attach_demo)
    finally:
        inbox.stop()
    return 0


def _add_patrol_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    patrol = commands.add_parser("patrol", help="patrol tools")
    patrol_commands = patrol.add_subparsers(title="patrol commands", metavar="COMMAND",
                                            required=True)  # fmt: skip
    simulate = patrol_commands.add_parser(
        "simulate", help="simulated patrols that walk, report and answer dispatches"
    )
    simulate.add_argument("--config", type=Path, default=DEMO_CONFIG, help="site YAML file")
    simulate.add_argument("--count", type=int, help="how many of the site's patrols (default all)")
    simulate.add_argument("--mqtt-url", help="broker (default: the site's, or its embedded port)")
    simulate.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    simulate.add_argument("--report-every", type=float, default=5.0, help="seconds between fixes")
    simulate.add_argument("--seed", type=int, default=0, help="random seed for the walks")
    simulate.set_defaults(command=cmd_patrol_simulate)


def cmd_patrol_simulate(args: argparse.Namespace) -> int:
    site = load_site(args.config)
    url = args.mqtt_url or (
        site.mqtt.url.get_secret_value() if site.mqtt.url
        else f"mqtt://127.0.0.1:{site.mqtt.embedded_port}"
    )  # fmt: skip
    probe_broker(url)
    settings = SimSettings(report_every_s=args.report_every)
    simulator = PatrolSimulator(site, args.count, args.seed, settings)
    log.info(
        "simulating %d patrols on %s", len(simulator.patrols), BrokerAddress.parse(url).describe()
    )
    simulator.run(url, args.duration)
    return 0


plugin = Commands(register)
