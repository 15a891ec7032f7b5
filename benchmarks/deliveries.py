"""Delivery throughput: orders end to end through the outbox against the sandbox, in three hub
modes, each next to a plain `requests` loop that makes the same HTTP calls without the hub.

    .venv/bin/python -m benchmarks.deliveries                  # a scratch SQLite file
    .venv/bin/python -m benchmarks.deliveries --postgres       # a scratch PostgreSQL database
    make bench-deliveries

Per order: ingested (placed at 35up: POST /orders then GET /orders/{id}; pushed to Shipup), then
approved once 35up has it (PATCH /orders/{id}; pushed to Sendcloud, up to 100 orders per call).
Modes, each on an emptied database and Redis database:
  (a) embedded: one `manage.py send_deliveries --loop` process (no broker; outbox.services.drain)
  (b) celery-1: `celery -A config worker --pool=solo --concurrency=1 -B`
  (c) celery-2: `celery -A config worker --pool=prefork --concurrency=2 -B`
  (d) plain: the calls the sandbox received in that mode, replayed with `requests` from
      1 thread (next to a and b) or 2 threads (next to c), same payloads, same endpoints, same
      order within each order; 35up ids mapped to the ones the replay's POSTs return.
The orders come in through a driver process (orders.ingest.ingest_order, then
orders.services.request_transition once an order is pending at 35up), which, in the Celery
modes, schedules the drains on commit as a web process would. A mode's time runs from the first
ingest to the moment every delivery is finished. The providers' rate limits are off
(PROVIDER_RATE_LIMITS empty) so that the hub's own work is timed, not the limiter's waits.

It talks only to 127.0.0.1 (the sandbox it starts, Redis, PostgreSQL), stops by itself (each
mode has a deadline) and removes its database and empties its Redis database when done.
benchmarks/README.md says how to read the figures; docs/performance.md has a run's.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"  # the Celery worker test uses /7
DEFAULT_POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DELIVERIES_PER_ORDER = 4  # 35up place, Shipup push, 35up approve, Sendcloud push
MODES = {
    "embedded": "(a) embedded loop: manage.py send_deliveries --loop, 1 process",
    "celery-1": "(b) Celery, 1 worker process (--pool=solo --concurrency=1) + beat",
    "celery-2": "(c) Celery, 2 worker processes (--pool=prefork --concurrency=2) + beat",
}
PLAIN_THREADS = {"embedded": 1, "celery-1": 1, "celery-2": 2}
# Settings the benchmark decides; anything of these names in the caller's environment is dropped.
OWN_PREFIXES = (
    "DATABASE_",
    "CELERY_",
    "REDIS_URL",
    "SANDBOX_",
    "THIRTYFIVEUP_",
    "SENDCLOUD_",
    "SHIPUP_",
    "REEVOO_",
    "OUTBOX_",
    "PROVIDER_",
    "TRIGGER_",
    "SYNC_",
    "DJANGO_",
)
READY_SECONDS = 60


def document(number):
    """One ingest document (DESIGN.md "The order ingest format"), two lines, three currencies."""
    return {
        "reference": f"BENCH-{number:05d}",
        "session": f"bench-{number}",
        "currency": ("EUR", "USD", "GBP")[number % 3],
        "customer": {
            "first_name": "Ada",
            "last_name": f"Bench{number}",
            "email": f"ada{number}@example.com",
            "phone": "0031612345678",
        },
        "shipping_address": {
            "street": "Stadhuisplein",
            "street_number": str(1 + number % 200),
            "city": "Oss",
            "postcode": "5341AB",
            "country": "NL",
        },
        "lines": [
            {"sku": "caseable/BENCH-1", "name": "Case", "quantity": 1, "unit_price": "3.50"},
            {"sku": "caseable/BENCH-2", "name": "Strap", "quantity": 2, "unit_price": "12.25"},
        ],
    }


# --- the driver: a separate process, configured like a web process of the mode ---------------


def drive(orders, deadline_seconds):
    """Ingest the orders, approve each once 35up has it (pending), wait for every delivery to
    finish; print the timings as one JSON line."""
    import django

    django.setup()
    from core.actors import Actor
    from core.errors import ActionError
    from orders.ingest import IngestOutcome, ingest_order
    from orders.models import Order, OrderStatus
    from orders.services import request_transition
    from outbox.models import Delivery, DeliveryState

    finished = [DeliveryState.SUCCEEDED, DeliveryState.FAILED, DeliveryState.DEAD]
    actor = Actor.system("benchmark")
    started = time.monotonic()
    deadline = started + deadline_seconds

    def check_deadline(doing):
        if time.monotonic() > deadline:
            raise SystemExit(f"Deadline of {deadline_seconds:.0f} s passed while {doing}.")

    for number in range(orders):
        result = ingest_order(document(number), actor=actor)
        if result.outcome != IngestOutcome.CREATED:
            raise SystemExit(f"Ingest of {result.reference}: {result.outcome} {result.errors}")
    ingested = time.monotonic() - started

    approved = refused = 0
    while approved < orders:
        check_deadline(f"approving ({approved} of {orders} approved)")
        pending = list(
            Order.objects.filter(status=OrderStatus.PENDING).values_list("pk", flat=True)[:500]
        )
        for order_id in pending:
            try:
                request_transition(order_id=order_id, action="approve", actor=actor, message="paid")
            except ActionError:
                refused += 1  # tried again on the next pass
            else:
                approved += 1
        if not pending:
            time.sleep(0.05)
    approvals_done = time.monotonic() - started

    # Every delivery exists now (an approval writes its deliveries in its own transaction).
    while Delivery.objects.exclude(state__in=finished).exists():
        check_deadline(
            f"waiting for deliveries ({Delivery.objects.filter(state__in=finished).count()} "
            f"of {Delivery.objects.count()} finished)"
        )
        time.sleep(0.05)
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "ingested": ingested,
                "approvals_done": approvals_done,
                "approvals_refused": refused,
            }
        )
    )


# --- the sandbox: a separate process ----------------------------------------------------------


def serve_sandbox(port):
    """The fake providers on 127.0.0.1:`port`, as sandbox.server.sandbox_in_thread serves them
    (Django's threaded WSGI server, only /sandbox/), with TCP_NODELAY on each connection.

    Without it every answer of Django's server waits for the client's delayed ACK (about 40 ms
    on Linux: the headers and the body leave in two writes and Nagle's algorithm holds the
    second), which would time the kernel's timer instead of the hub; manage.py run_sandbox and
    the test suite's live server have that wait."""
    import django

    django.setup()
    from django.core.servers.basehttp import ThreadedWSGIServer, get_internal_wsgi_application

    from sandbox.server import QuietRequestHandler, sandbox_only

    class NoDelayRequestHandler(QuietRequestHandler):
        disable_nagle_algorithm = True

    server = ThreadedWSGIServer(("127.0.0.1", port), NoDelayRequestHandler)
    server.set_app(sandbox_only(get_internal_wsgi_application()))
    print(f"Sandbox serving on http://127.0.0.1:{port}/sandbox/", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


# --- processes --------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A child in its own process group, its output in a log file; stopped by its own id."""

    def __init__(self, name, command, env, log_dir):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own command lines
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_for_log(self, text, seconds=READY_SECONDS):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise SystemExit(f"{self.name} exited at start:\n{self.tail()}")
            if text in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise SystemExit(f"{self.name} not ready within {seconds} s:\n{self.tail()}")

    def stop(self):
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        except ProcessLookupError:
            pass

    def tail(self, lines=30):
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def hub_environment(database_url, sandbox_root):
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(OWN_PREFIXES)
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="false",
        DATABASE_URL=database_url,
        SANDBOX_ENABLED="true",
        SANDBOX_URL=sandbox_root,
        # Rate limits off: the hub's own work is timed, not the limiter's waits.
        SENDCLOUD_WRITE_RATE_LIMITS="",
        SENDCLOUD_READ_RATE_LIMITS="",
        SHIPUP_RATE_LIMITS="",
        # No 35up sync during a run (beat's first one would come after this long).
        SYNC_INTERVAL_SECONDS="86400",
    )
    return environment


def worker_command(mode, log_dir):
    if mode == "embedded":
        return [sys.executable, "manage.py", "send_deliveries", "--loop", "--interval", "0.1"]
    pool = (
        ["--pool=solo", "--concurrency=1"]
        if mode == "celery-1"
        else ["--pool=prefork", "--concurrency=2"]
    )
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        *pool,
        "-B",
        "--schedule",
        str(log_dir / f"{mode}-beat-schedule"),
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        f"bench-{mode}-{uuid.uuid4().hex[:6]}@%h",
    ]


# --- the scratch database ---------------------------------------------------------------------


class ScratchDatabase:
    """A PostgreSQL database created and dropped through the admin URL's server, or a SQLite
    file in a directory of its own, removed with it."""

    def __init__(self, postgres_admin_url):
        self.postgres_admin_url = postgres_admin_url
        self.directory = None
        if postgres_admin_url:
            self.name = f"orderhub_bench_deliveries_{os.getpid()}"
            base = postgres_admin_url.rsplit("/", 1)[0]
            self.url = f"{base}/{self.name}"
        else:
            self.directory = Path(tempfile.mkdtemp(prefix="orderhub-bench-db-"))
            self.name = str(self.directory / "deliveries.sqlite3")
            self.url = f"sqlite:///{self.name}"

    def _admin(self, sql):
        import psycopg

        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def create(self):
        if self.postgres_admin_url:
            self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        if self.postgres_admin_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            shutil.rmtree(self.directory, ignore_errors=True)


# --- the plain loop ---------------------------------------------------------------------------


@dataclass
class Call:
    provider: str
    method: str
    path: str
    body: object
    key: str  # the order (or batch) it belongs to: one stream sends all of a key's calls
    old_id: str = ""  # a 35up POST: the id the hub's run got back


def recorded_calls():
    """The calls the sandbox received in the hub's run, in order, with their order key."""
    from sandbox.models import SandboxRequest

    calls, key_of_id = [], {}
    for number, (provider, method, path, body, answer) in enumerate(
        SandboxRequest.objects.order_by("id").values_list(
            "provider", "method", "path", "body", "response_body"
        )
    ):
        old_id = ""
        if provider == "35up" and method == "POST":
            key, old_id = body["reference"], answer["id"]
            key_of_id[old_id] = key
        elif provider == "35up":
            key = key_of_id[path.rstrip("/").rsplit("/", 1)[1]]
        elif provider == "shipup":
            key = body["merchant_id"]
        else:
            key = f"{provider}-{number}"
        calls.append(Call(provider, method, path, body, key, old_id))
    return calls


def streams_of(calls, count):
    """Split the calls into `count` streams, a key's calls all in one stream, in their order."""
    stream_of_key, streams = {}, [[] for _ in range(count)]
    for call in calls:
        stream = stream_of_key.setdefault(call.key, len(stream_of_key) % count)
        streams[stream].append(call)
    return streams


def plain_replay(calls, threads, base_url):
    """Send the calls with `requests` from `threads` threads; returns (seconds, errors)."""
    import requests
    from django.conf import settings

    auth = {
        "35up": {"auth": (settings.THIRTYFIVEUP_USERNAME, settings.THIRTYFIVEUP_PASSWORD)},
        "sendcloud": {"auth": (settings.SENDCLOUD_PUBLIC_KEY, settings.SENDCLOUD_SECRET_KEY)},
        "shipup": {"headers": {"Authorization": f"Bearer {settings.SHIPUP_API_KEY}"}},
        "reevoo": {"auth": (settings.REEVOO_API_KEY, settings.REEVOO_API_SECRET)},
    }
    errors = []

    def send(stream):
        new_ids = {}
        with requests.Session() as session:
            for call in stream:
                path = call.path
                if call.provider == "35up" and not call.old_id:
                    prefix, _, old_id = path.rstrip("/").rpartition("/")
                    path = f"{prefix}/{new_ids[old_id]}"
                options = dict(auth[call.provider])
                headers = {**options.pop("headers", {})}
                data = None
                if call.body is not None:
                    headers["Content-Type"] = "application/json"
                    data = json.dumps(call.body)
                response = session.request(
                    call.method, base_url + path, data=data, headers=headers, timeout=30, **options
                )
                if response.status_code >= 300:
                    errors.append(f"{call.method} {path} -> {response.status_code}")
                elif call.old_id:
                    new_ids[call.old_id] = response.json()["id"]

    workers = [
        threading.Thread(target=send, args=(stream,)) for stream in streams_of(calls, threads)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.monotonic() - started, errors


# --- a run ------------------------------------------------------------------------------------


@dataclass
class Figures:
    label: str
    seconds: float
    deliveries: int
    calls: Counter
    sendcloud_batches: list = field(default_factory=list)
    states: Counter = field(default_factory=Counter)
    notes: str = ""

    @property
    def per_second(self):
        return self.deliveries / self.seconds if self.seconds else 0.0


def reset(redis_client):
    from django.core.management import call_command
    from django.db import connections

    call_command("flush", interactive=False, verbosity=0)
    connections.close_all()
    if redis_client is not None:
        redis_client.flushdb()


def sandbox_calls():
    from sandbox.models import SandboxRequest

    calls = Counter(SandboxRequest.objects.values_list("provider", flat=True))
    refused = SandboxRequest.objects.exclude(response_status__lt=300).count()
    batches = [
        len(body or [])
        for body in SandboxRequest.objects.filter(provider="sendcloud", method="POST")
        .order_by("id")
        .values_list("body", flat=True)
    ]
    return calls, refused, batches


def run_mode(mode, args, environment, log_dir, redis_client):
    from outbox.models import Delivery

    reset(redis_client)
    env = dict(environment)
    if mode != "embedded":
        env.update(CELERY_BROKER_URL=args.redis_url, REDIS_URL=args.redis_url)
    worker = Process(mode, worker_command(mode, log_dir), env, log_dir)
    try:
        if mode != "embedded":
            worker.wait_for_log(b" ready.")
        driver = subprocess.run(  # noqa: S603 - our own command line
            [
                sys.executable,
                "-m",
                "benchmarks.deliveries",
                "--role",
                "drive",
                "--orders",
                str(args.orders),
                "--deadline",
                str(args.deadline),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            # The driver keeps its own deadline; this only catches a driver that hangs.
            timeout=args.deadline + 120,
        )
    finally:
        worker.stop()
    if driver.returncode != 0:
        raise SystemExit(
            f"{mode}: the driver failed:\n{driver.stdout[-3000:]}\n{driver.stderr[-3000:]}\n"
            f"worker log:\n{worker.tail()}"
        )
    timings = json.loads(driver.stdout.strip().splitlines()[-1])
    calls, refused, batches = sandbox_calls()
    states = Counter(Delivery.objects.values_list("state", flat=True))
    hub = Figures(
        MODES[mode],
        timings["seconds"],
        Delivery.objects.count(),
        calls,
        batches,
        states,
        notes=(
            f"driver: {args.orders} ingested by {timings['ingested']:.1f} s, all approved by "
            f"{timings['approvals_done']:.1f} s; answers >= 300: {refused}"
        ),
    )
    replayed = recorded_calls()
    reset(redis_client)
    threads = PLAIN_THREADS[mode]
    seconds, errors = plain_replay(replayed, threads, args.sandbox_origin)
    plain = Figures(
        f"(d) plain requests, {threads} thread{'s' if threads > 1 else ''}, the calls of {mode}",
        seconds,
        hub.deliveries,
        Counter(call.provider for call in replayed),
        [len(call.body) for call in replayed if call.provider == "sendcloud"],
        notes=f"answers >= 300: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""),
    )
    return hub, plain


def machine_line(postgres):
    from django import get_version
    from django.db import connection

    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}, Django {get_version()}, {database}; load average "
        f"(1, 5, 15 min) at the start: {load}"
    )


def print_figures(pairs, args):
    width = 72
    print(
        f"\n{'mode':<{width}} {'seconds':>8} {'deliv/s':>8}  HTTP calls per provider; "
        "Sendcloud orders per call"
    )
    for hub, plain in pairs:
        for figures in (hub, plain):
            calls = ", ".join(f"{name} {count}" for name, count in sorted(figures.calls.items()))
            batches = figures.sendcloud_batches
            mean = sum(batches) / len(batches) if batches else 0
            print(
                f"{figures.label:<{width}} {figures.seconds:>8.1f} {figures.per_second:>8.1f}  "
                f"{calls}; {mean:.1f} (min {min(batches, default=0)}, "
                f"max {max(batches, default=0)})"
            )
        states = ", ".join(f"{state} {count}" for state, count in sorted(hub.states.items()))
        print(f"    hub/plain ratio (time): {hub.seconds / plain.seconds:.2f}")
        print(f"    deliveries: {states}; {hub.notes}; plain: {plain.notes}")
        print(f"    Sendcloud orders per call, in order: {hub.sendcloud_batches}")


def orchestrate(args):
    import redis

    log_dir = Path(tempfile.mkdtemp(prefix="orderhub-bench-deliveries-"))
    database = ScratchDatabase(args.postgres)
    redis_client = None
    if any(mode != "embedded" for mode in args.modes):
        redis_client = redis.Redis.from_url(args.redis_url, socket_connect_timeout=2)
        try:
            redis_client.ping()
        except redis.RedisError as error:
            raise SystemExit(f"Redis at {args.redis_url} is unreachable: {error}") from None
        if redis_client.dbsize():
            raise SystemExit(
                f"Redis database {args.redis_url} is not empty: choose another with --redis-url."
            )
    port = free_port()
    args.sandbox_origin = f"http://127.0.0.1:{port}"
    environment = hub_environment(database.url, f"{args.sandbox_origin}/sandbox")
    os.environ.update(environment)
    for key in [key for key in os.environ if key.startswith(OWN_PREFIXES)]:
        if key not in environment:
            del os.environ[key]
    database.create()
    sandbox = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        print(
            f"Delivery throughput: {args.orders:,} orders end to end, "
            f"{args.orders * DELIVERIES_PER_ORDER:,} deliveries per mode"
        )
        print(machine_line(bool(args.postgres)))
        print(
            "Rate limits: off (PROVIDER_RATE_LIMITS empty: SENDCLOUD_WRITE_RATE_LIMITS, "
            "SENDCLOUD_READ_RATE_LIMITS and SHIPUP_RATE_LIMITS set to '') for a fair timing; "
            "the hub's defaults would allow Sendcloud 100 writes/60 s and 15/1 s, Shipup 60/30 s."
        )
        print(
            f"Sandbox: one process on 127.0.0.1:{port} (sandbox.server's app on Django's threaded "
            "WSGI server, TCP_NODELAY on), no faults; database "
            f"{'PostgreSQL' if args.postgres else 'SQLite file'} "
            f"(scratch, shared by hub and sandbox); Redis {args.redis_url}"
        )
        connections.close_all()
        sandbox = Process(
            "sandbox",
            [
                sys.executable,
                "-m",
                "benchmarks.deliveries",
                "--role",
                "sandbox",
                "--port",
                str(port),
            ],
            environment,
            log_dir,
        )
        sandbox.wait_for_log(b"Sandbox serving")
        pairs = []
        for mode in args.modes:
            pairs.append(run_mode(mode, args, environment, log_dir, redis_client))
            hub, plain = pairs[-1]
            print(f"  {mode}: hub {hub.seconds:.1f} s, plain {plain.seconds:.1f} s", flush=True)
        print_figures(pairs, args)
    finally:
        if sandbox is not None:
            sandbox.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not be set up yet
            pass
        database.drop()
        if redis_client is not None:
            redis_client.flushdb()
        if args.keep_logs:
            print(f"Logs kept in {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        type=lambda text: [mode for mode in text.split(",") if mode],
        help=f"comma-separated, of {', '.join(MODES)}",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES_ADMIN_URL,
        default="",
        metavar="ADMIN_URL",
        help="use a scratch PostgreSQL database, created and dropped through this server "
        f"(default {DEFAULT_POSTGRES_ADMIN_URL}); without it, a scratch SQLite file",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="an empty Redis database")
    parser.add_argument(
        "--deadline", type=float, default=300, help="seconds one mode's hub run may take at most"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    parser.add_argument(
        "--role", default="orchestrate", choices=["orchestrate", "drive", "sandbox"]
    )
    parser.add_argument("--port", type=int, default=0, help="with --role sandbox")
    args = parser.parse_args()
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    if args.role == "drive":
        drive(args.orders, args.deadline)
    elif args.role == "sandbox":
        serve_sandbox(args.port)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
