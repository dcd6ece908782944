"""The single `homesafe` command: one subcommand per part, each built from flags and environment."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

DEFAULT_BROKER_URL = "mqtt://127.0.0.1:1883"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"HOMESAFE_{name}", default)


def _cmd_demo(args: argparse.Namespace) -> int:
    from homesafe.demo import DemoOptions, run_demo

    options = DemoOptions(port=args.port, homes=args.homes, duration_s=args.duration, broker_port=args.broker_port,
                          press_every_s=args.press_every, data_dir=args.data_dir, seed=args.seed,
                          time_scale=args.time_scale, admin_token=_env("ADMIN_TOKEN") or None)
    try:
        return asyncio.run(run_demo(options))
    except KeyboardInterrupt:
        return 0


def _cmd_server(args: argparse.Namespace) -> int:
    from server.config import ServerSettings
    from server.db.migrate import MigrationError, upgrade
    from server.db.session import make_engine
    from server.run import serve

    settings = ServerSettings.from_env(host=args.host, port=args.port, database_url=args.database_url)
    # Migrate before the HTTP server starts, so a database that cannot be adopted is one clear line,
    # not the tail of uvicorn's startup traceback (the app's own start-up migration is then a no-op).
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    except MigrationError as exc:
        print(f"homesafe server: database {engine.url.render_as_string()}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    serve(settings)
    return 0


def _cmd_gateway(args: argparse.Namespace) -> int:
    from gateway.config import GatewayConfig
    from gateway.protocol import BrokerSettings, parse_shard_spec
    from gateway.service import Gateway

    config = GatewayConfig(
        broker=BrokerSettings.from_url(args.broker),
        server_url=args.server_url,
        ingest_token=args.ingest_token,
        shards=parse_shard_spec(args.shards),
        outbox_path=args.outbox,
        worker_id=args.worker_id,
    )
    with Gateway(config) as gateway:
        gateway.wait_connected(30)
        print(f"gateway {config.worker_id}: {len(config.shards)} shards on {config.broker.url}, alerts to "
              f"{config.server_url}", flush=True)
        try:
            while True:
                time.sleep(args.stats_every)
                print(f"gateway {config.worker_id}: {gateway.worker.stats()}, outbox {len(gateway.outbox)}",
                      flush=True)
        except KeyboardInterrupt:
            return 0


def _cmd_edge(args: argparse.Namespace) -> int:
    from edge.config import EXAMPLE_CONFIG, ConfigError, load_config

    if args.example_config:
        print(EXAMPLE_CONFIG, end="")
        return 0
    if not args.config:
        print("homesafe edge: give --config FILE (see --example-config)", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"homesafe edge: {exc}", file=sys.stderr)
        return 2
    from edge.agent import EdgeAgent

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(EdgeAgent(config).run())
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from gateway.protocol import BrokerSettings
    from simulators.run import SimulationOptions, list_scenarios, run_simulation

    if args.list_scenarios:
        print(list_scenarios())
        return 0
    options = SimulationOptions(
        broker=BrokerSettings.from_url(args.broker), scenario=args.scenario, homes=args.homes,
        base_topic=args.base_topic, speed=args.speed, duration_s=args.duration, rate_per_home=args.rate_per_home,
        press_every_s=args.press_every, qos=args.qos, seed=args.seed, uplink_hook=args.uplink_hook,
        dry_run=args.dry_run, print_edge_config=args.print_edge_config, progress_every_s=args.progress_every)
    try:
        return run_simulation(options, echo=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        return 0


def _database_url(args: argparse.Namespace) -> str:
    return args.database_url or _env("DATABASE_URL") or "sqlite:///homesafe.db"


def _expiry(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time, e.g. 2030-01-31T00:00:00+08:00") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset; add one, e.g. +08:00 or Z")
    return moment


def _cmd_token(args: argparse.Namespace) -> int:
    from server.auth import Role, TokenFieldError, manage

    url = _database_url(args)
    if args.token_command == "create":
        try:
            row, token = manage.create(url, name=args.name, role=Role(args.role), responder_id=args.responder,
                                       communities=args.community, expires_at=args.expires_at)
        except TokenFieldError as exc:
            flag = {"responder_id": "--responder", "communities": "--community", "expires_at": "--expires-at"}
            print(f"homesafe token create: {flag.get(exc.field, exc.field)}: {exc.message}", file=sys.stderr)
            return 2
        print(f"token {row.id} ({row.role}, {row.name!r}); shown this once, store it now:", file=sys.stderr)
        print(token, flush=True)
        return 0
    if args.token_command == "list":
        now = datetime.now(UTC)
        print(f"{'id':>4}  {'role':<10} {'state':<8} {'responder':>9}  {'expires':<25} name / communities")
        for row in manage.listing(url):
            expires = row.expires_at.isoformat(timespec="seconds") if row.expires_at else "-"
            communities = f" [{', '.join(row.communities)}]" if row.communities else ""
            responder = row.responder_id or "-"
            print(f"{row.id:>4}  {row.role:<10} {manage.state(row, now):<8} {responder:>9}  {expires:<25} "
                  f"{row.name}{communities}")
        return 0
    revoked = manage.revoke(url, args.id)
    if revoked is None:
        print(f"homesafe token revoke: no token {args.id}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked" if revoked else f"token {args.id} was already revoked")
    return 0


def _add_token_parser(sub: argparse._SubParsersAction) -> None:
    token = sub.add_parser(
        "token", help="create, list and revoke API tokens, straight in the database",
        description="Manages API tokens in the server's database, e.g. the first admin token when "
                    "HOMESAFE_ADMIN_TOKEN is unset. Each write is audited with the actor 'cli'.")
    token.set_defaults(func=_cmd_token)
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--database-url", default=None,
                          help="SQLAlchemy URL (default $HOMESAFE_DATABASE_URL or sqlite:///homesafe.db)")
    commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = commands.add_parser("create", parents=[database], help="issue a token and print it once (stdout)")
    create.add_argument("--role", required=True, choices=("admin", "operator", "responder", "integrator"))
    create.add_argument("--name", required=True, help="what the token is for, e.g. 'operator desk 1'")
    create.add_argument("--responder", type=int, default=None, metavar="ID",
                        help="the responder a responder token acts as (required for --role responder)")
    create.add_argument("--community", action="append", default=[], metavar="C",
                        help="responder tokens: a community seen besides the responder's own (repeatable)")
    create.add_argument("--expires-at", type=_expiry, default=None, metavar="TIME",
                        help="ISO 8601 time with offset after which the token stops working (default never)")
    commands.add_parser("list", parents=[database], help="every token, its role and state; never the tokens")
    revoke = commands.add_parser("revoke", parents=[database], help="revoke a token: it gets 401 from then on")
    revoke.add_argument("id", type=int, help="the token's id, as `homesafe token list` shows it")


def _speed(value: str) -> float:
    if value in ("max", "inf"):
        return float("inf")
    speed = float(value)
    if not speed > 0:
        raise argparse.ArgumentTypeError(f"speed must be positive or max, got {value}")
    return speed


def _add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    simulate = sub.add_parser(
        "simulate", help="simulated homes publishing Zigbee2MQTT payloads: a scenario, or load at scale",
        description="With --scenario: run a scenario file (homes, routine, timeline of falls, presses, faults...). "
                    "Without: scale mode, --homes homes at --rate-per-home messages per second from one process.")
    simulate.add_argument("--scenario", help="scenario YAML file, or a bundled scenario's name (--list-scenarios)")
    simulate.add_argument("--list-scenarios", action="store_true", help="list the bundled scenarios and exit")
    simulate.add_argument("--broker", default=_env("MQTT_URL", DEFAULT_BROKER_URL),
                          help="broker URL (default $HOMESAFE_MQTT_URL or mqtt://127.0.0.1:1883)")
    simulate.add_argument("--homes", type=int, default=None,
                          help="homes h0001..hN (scale mode: default 1; with a scenario: overrides its homes)")
    simulate.add_argument("--base-topic", default=None,
                          help="Zigbee2MQTT base topic; {home} is replaced (default zigbee2mqtt, or "
                               "zigbee2mqtt/{home} with several homes)")
    simulate.add_argument("--speed", type=_speed, default=None,
                          help="scenario: simulated seconds per real second, overriding the file's (max = no waiting)")
    simulate.add_argument("--rate-per-home", type=float, default=None,
                          help="scale mode: messages per second per home (default 0.26, a city's average)")
    simulate.add_argument("--qos", type=int, choices=(0, 1), default=None, help="scale mode: MQTT QoS (default 0)")
    simulate.add_argument("--press-every", type=float, default=None,
                          help="scale mode: press a random home's call button every SECONDS")
    simulate.add_argument("--duration", type=float, default=None, help="stop after SECONDS of wall-clock time")
    simulate.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's, or 1)")
    simulate.add_argument("--uplink-hook", default=None,
                          help="scenario: command run as `CMD down HOME SECONDS` and `CMD up HOME 0` for "
                               "uplink_drop steps (the simulator cannot cut an edge agent's uplink itself)")
    simulate.add_argument("--dry-run", action="store_true",
                          help="scenario: print the messages it would publish, without a broker or waiting")
    simulate.add_argument("--print-edge-config", action="store_true",
                          help="print edge agent configurations (YAML) matching the simulated homes, and exit")
    simulate.add_argument("--progress-every", type=float, default=5.0,
                          help="scale mode: print progress every SECONDS (default 5)")
    simulate.set_defaults(func=_cmd_simulate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="homesafe", description=__doc__)
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "WARNING"), help="logging level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run every part in one process with an embedded broker and SQLite")
    demo.add_argument("--port", type=int, default=8000, help="server HTTP port (default 8000)")
    demo.add_argument("--homes", type=int, default=20, help="simulated homes (default 20)")
    demo.add_argument("--duration", type=float, default=None, help="stop after SECONDS with a summary")
    demo.add_argument("--broker-port", type=int, default=11883, help="embedded MQTT broker port (default 11883)")
    demo.add_argument("--press-every", type=float, default=6.0, help="seconds between button presses (default 6)")
    demo.add_argument("--data-dir", default=None, help="keep the database and spools here (default: temporary)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the scenario")
    demo.add_argument("--time-scale", type=float, default=1.0,
                      help="multiply every escalation wait, e.g. 0.05 turns a 60 s step into 3 s (default 1)")
    demo.set_defaults(func=_cmd_demo)

    server = sub.add_parser("server", help="run the HTTP server (alerts, notifications, registry)")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=8000)
    server.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default $HOMESAFE_DATABASE_URL or sqlite:///homesafe.db)")
    server.set_defaults(func=_cmd_server)

    gateway = sub.add_parser("gateway", help="run one gateway worker")
    gateway.add_argument("--broker", default=_env("MQTT_URL", DEFAULT_BROKER_URL),
                         help="central broker URL (default $HOMESAFE_MQTT_URL or mqtt://127.0.0.1:1883)")
    gateway.add_argument("--server-url", default=_env("SERVER_URL", "http://127.0.0.1:8000"))
    gateway.add_argument("--ingest-token", default=_env("INGEST_TOKEN"))
    gateway.add_argument("--shards", default="all", help="shards this worker owns: all, 0-127, 0-63,200 ...")
    gateway.add_argument("--worker-id", default="gw-0", help="stable id; the broker keeps its session")
    gateway.add_argument("--outbox", default="homesafe-gateway-outbox.db", help="durable alert outbox (SQLite)")
    gateway.add_argument("--stats-every", type=float, default=10.0, help="print counters every SECONDS")
    gateway.set_defaults(func=_cmd_gateway)

    edge = sub.add_parser("edge", help="run one home's edge agent")
    edge.add_argument("--config", help="the home's YAML configuration")
    edge.add_argument("--example-config", action="store_true", help="print a complete example configuration")
    edge.set_defaults(func=_cmd_edge)

    _add_simulate_parser(sub)
    _add_token_parser(sub)

    from homesafe.detect import add_detect_parser, add_train_parser

    add_detect_parser(sub)
    add_train_parser(sub)
    from homesafe.detect_inactivity import add_parsers as add_inactivity_parsers

    add_inactivity_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (ValueError, RuntimeError, TimeoutError) as exc:
        print(f"homesafe {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
