"""Celery for real: a `celery worker` process on the machine's Redis (a dedicated database,
flushed before and after; ORDERHUB_TEST_CELERY_REDIS_URL chooses another) sends approved orders
to the sandbox served by the live server.

Two ways the drains get scheduled, one test each:
- the deliveries are all written before the worker starts and nothing in the test process talks
  to the broker: only beat's sweep (`-B`) can schedule the drains;
- the worker runs without beat and the test process, configured with the broker, approves the
  orders in a burst: only the on-commit fast path (`outbox.services.enqueue` ->
  `schedule_drain` -> `current_app.send_task`) can schedule them.
Either way each order reaches Sendcloud exactly once, in at most ceil(N/100) POST calls, every
delivery succeeds, and the broker never holds more than one waiting drain per provider.
A third test (expected to fail until the engine changes) shows what happens to the Sendcloud
batches when the changes arrive over a few seconds and the worker is idle.

The worker is another process sharing the test database (a file on SQLite, the test database on
PostgreSQL), as in test_crash.py. The module takes about 50 s on 2 cores.
"""

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import kombu.pools
import pytest
import redis
from celery import current_app
from celery.signals import after_task_publish
from django.conf import settings
from django.db import connection
from django.db.models import Count
from kombu import Connection

from core.actors import Actor
from orders.models import Order, OrderStatus
from orders.services import apply_reported_status, request_transition
from outbox.models import Delivery, DeliveryState
from sandbox.models import SandboxOrder, SandboxRequest, SandboxSendcloudOrder
from tests.factories import order_in_status
from tests.outbox.conftest import SANDBOX_PATHS, shared_database_url

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ORDERHUB_TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/7")
ORDERS = 250
MAX_SENDCLOUD_CALLS = math.ceil(ORDERS / 100)
# Between two reported approvals in the trickle test: 250 of them over about 4 s.
TRICKLE_PAUSE = 0.01
FINISHED = [DeliveryState.SUCCEEDED, DeliveryState.FAILED, DeliveryState.DEAD]
# What a worker must never inherit from the shell that runs pytest.
NOT_INHERITED = (
    "PYTEST",
    "DATABASE_URL",
    "CELERY_",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "SENDCLOUD_WRITE_RATE_LIMITS",
    "OUTBOX_",
)
WORKER_READY_SECONDS = 60
SETTLE_SECONDS = 150
BROKER_QUEUE = "celery"


def _redis_unreachable():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        return f"Redis is unreachable at {REDIS_URL}: {error}"
    return ""


REDIS_PROBLEM = _redis_unreachable()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(REDIS_PROBLEM), reason=REDIS_PROBLEM or "Redis reachable"),
    pytest.mark.timeout(420),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def broker_db():
    """The dedicated Redis database, empty before and after the test."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def sandbox_url(providers_at_sandbox):
    """The sandbox of the live server, no faults (the worker gets its URLs from these settings)."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("A worker process cannot open an in-memory SQLite test database.")
    return providers_at_sandbox


class Worker:
    """`celery -A config worker --pool=solo --concurrency=1` (with `-B`: beat embedded) in its
    own process group, its output in a log file."""

    def __init__(self, log_path, *, beat, sweep_seconds):
        self.log_path = log_path
        self.beat = beat
        self.sweep_seconds = sweep_seconds
        self.process = None

    def environment(self):
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith(NOT_INHERITED)
        }
        environment.update(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=shared_database_url(),
            CELERY_BROKER_URL=REDIS_URL,
            REDIS_URL=REDIS_URL,
            OUTBOX_RETRY_SCHEDULE="0,0.01,0.02,0.05,0.1,0.1,0.1,0.1",
            OUTBOX_SWEEP_SECONDS=str(self.sweep_seconds),
            PROVIDER_READ_TIMEOUT="10",
            DJANGO_LOG_LEVEL="INFO",
            **{name: getattr(settings, name) for name in SANDBOX_PATHS},
        )
        return environment

    def start(self):
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"celery-test-{os.getpid()}@%h",
        ]
        if self.beat:
            command += ["-B", "--schedule", str(self.log_path.with_suffix(".beat-schedule"))]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"The worker exited at start:\n{self.log_tail()}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise AssertionError(
            f"The worker was not ready within {WORKER_READY_SECONDS} s:\n{self.log_tail()}"
        )

    def stop(self):
        """Warm shutdown (SIGTERM to the worker's process group; beat runs in it), then kill."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines=40):
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_count(self, text):
        return self.log_path.read_text(errors="replace").count(text)


@pytest.fixture
def start_worker(tmp_path):
    workers = []

    def start(*, beat, sweep_seconds=1.0):
        worker = Worker(
            tmp_path / f"worker-{len(workers)}.log", beat=beat, sweep_seconds=sweep_seconds
        )
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def pending_orders(count):
    """Orders that 35up holds as pending (so the approval's PATCH succeeds at the sandbox)."""
    orders = []
    for number in range(count):
        order = order_in_status("pending", thirtyfiveup_id=f"CEL{number:07d}")
        SandboxOrder.objects.create(
            public_id=order.thirtyfiveup_id, reference=order.reference, status="pending"
        )
        orders.append(order)
    return orders


def approve(orders):
    for order in orders:
        request_transition(
            order_id=order.pk, action="approve", actor=Actor.system("test"), message="paid"
        )


def broker_messages(client):
    """(task name, args) of every message in the broker: waiting in the queue list, and
    delivered to a worker but not acknowledged (running, or held for its countdown)."""
    waiting = [json.loads(raw) for raw in client.lrange(BROKER_QUEUE, 0, -1)]
    unacked = [json.loads(raw)[0] for raw in client.hvals("unacked")]
    return (
        [(message["headers"]["task"], message["headers"]["argsrepr"]) for message in waiting],
        [(message["headers"]["task"], message["headers"]["argsrepr"]) for message in unacked],
    )


def drains_per_provider(messages):
    return Counter(args for task, args in messages if task == "outbox.drain_provider")


class QueueWatch:
    """Samples the broker while the worker runs: the most drains waiting per provider."""

    def __init__(self, client):
        self.client = client
        self.most_waiting = Counter()
        self.most_sweeps_waiting = 0
        self.samples = 0

    def sample(self):
        waiting, _ = broker_messages(self.client)
        self.samples += 1
        for provider, count in drains_per_provider(waiting).items():
            self.most_waiting[provider] = max(self.most_waiting[provider], count)
        sweeps = sum(1 for task, _ in waiting if task == "outbox.sweep")
        self.most_sweeps_waiting = max(self.most_sweeps_waiting, sweeps)


def wait_until_finished(worker, watch, started):
    deadline = started + SETTLE_SECONDS
    while Delivery.objects.exclude(state__in=FINISHED).exists():
        if time.monotonic() > deadline:
            states = delivery_states()
            raise AssertionError(
                f"Deliveries unfinished after {SETTLE_SECONDS} s: {states}\n{worker.log_tail()}"
            )
        if worker.process.poll() is not None:
            raise AssertionError(f"The worker died:\n{worker.log_tail()}")
        watch.sample()
        time.sleep(0.1)
    return time.monotonic() - started


def delivery_states():
    rows = Delivery.objects.values_list("provider", "state").annotate(n=Count("id"))
    return {f"{provider} {state}": count for provider, state, count in rows.order_by()}


def sendcloud_figures():
    posts = SandboxRequest.objects.filter(provider="sendcloud", method="POST")
    accepted = Counter()
    for request in posts.filter(response_status__lt=300):
        accepted.update(order["order_id"] for order in request.body)
    duplicates = sum(count - 1 for count in accepted.values())
    batch_sizes = [len(request.body or []) for request in posts]
    return posts.count(), duplicates, accepted, batch_sizes


def check_run(label, orders, seconds, worker, watch, broker):
    calls, duplicates, accepted, batch_sizes = sendcloud_figures()
    states = delivery_states()
    # After the run: a warm shutdown puts what the worker held back into the queue.
    worker.stop()
    waiting, unacked = broker_messages(broker)
    leftover = drains_per_provider(waiting + unacked)
    print(
        f"\nCELERY ({label}): {len(orders)} orders, {calls} Sendcloud calls, "
        f"{duplicates} duplicates, {seconds:.1f} s; batch sizes {batch_sizes}; "
        f"deliveries {states}; most drains waiting in the broker per provider "
        f"{dict(watch.most_waiting)} over {watch.samples} samples, most sweeps waiting "
        f"{watch.most_sweeps_waiting}; left in the broker after the run: drains {dict(leftover)}, "
        f"{len(waiting) + len(unacked)} messages"
    )
    sendcloud = Delivery.objects.filter(provider="sendcloud")
    assert sendcloud.count() == len(orders)
    assert set(sendcloud.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    assert duplicates == 0
    assert set(accepted) == {str(order.pk) for order in orders}
    assert SandboxSendcloudOrder.objects.count() == len(orders)
    assert calls <= math.ceil(len(orders) / 100), f"batches {batch_sizes}"
    assert set(SandboxOrder.objects.values_list("status", flat=True)) == {"approved"}
    assert Order.objects.filter(status=OrderStatus.APPROVED).count() == len(orders)
    assert all(count <= 1 for count in watch.most_waiting.values()), watch.most_waiting
    assert all(count <= 1 for count in leftover.values()), leftover
    assert "Traceback" not in worker.log_path.read_text(errors="replace"), worker.log_tail()


def test_sweep_drains_deliveries_written_before_the_worker_started(
    sandbox_url, broker_db, start_worker, settings
):
    """No broker in this process: the deliveries wait in the table until beat's sweep
    schedules a drain per provider; the drain then finds all 250 Sendcloud rows due."""
    settings.CELERY_BROKER_URL = ""
    settings.REDIS_URL = ""
    orders = pending_orders(ORDERS)
    approve(orders)
    assert Delivery.objects.filter(provider="sendcloud").count() == ORDERS
    assert broker_db.dbsize() == 0  # nothing scheduled from here

    started = time.monotonic()
    worker = start_worker(beat=True, sweep_seconds=1.0)
    watch = QueueWatch(broker_db)
    seconds = wait_until_finished(worker, watch, started)
    # A few more sweeps with nothing due, then stop.
    time.sleep(2.5)
    watch.sample()
    assert worker.log_count("Task outbox.sweep[") > 0
    check_run("written first, drained by the sweep", orders, seconds, worker, watch, broker_db)


@pytest.fixture
def broker_in_this_process(settings, broker_db):
    """This process schedules drains as a web process would: the outbox's on-commit path with
    CELERY_BROKER_URL and REDIS_URL set, and the Celery app sending to the test's Redis."""
    app = current_app._get_current_object()
    saved = app.conf.broker_url, app.conf.task_always_eager
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.REDIS_URL = REDIS_URL

    def reset_connections():
        # Pools made for another URL would keep sending there.
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    reset_connections()
    # As configured in a process started with CELERY_BROKER_URL (config/settings/base.py).
    app.conf.broker_url = REDIS_URL
    app.conf.task_always_eager = False
    published = []

    def record(sender=None, headers=None, **kwargs):
        published.append((sender, headers.get("argsrepr")))

    after_task_publish.connect(record, weak=False)
    yield published
    after_task_publish.disconnect(record)
    reset_connections()
    app.conf.broker_url, app.conf.task_always_eager = saved


def test_on_commit_schedules_drains_of_a_burst_of_approvals(
    sandbox_url, broker_in_this_process, broker_db, start_worker
):
    """The worker runs without beat: only this process's on-commit scheduling can get the
    deliveries sent. A burst of approvals (one transaction each, like the bulk admin action)
    schedules one 35up drain at once and one Sendcloud drain after its linger. The solo worker
    runs the 35up drain (250 PATCHes, some seconds) first, so the Sendcloud drain finds every
    row due; the next test has the worker idle."""
    published = broker_in_this_process
    assert current_app.main == "orderhub"
    with current_app.connection_for_write() as broker:
        assert broker.as_uri() == Connection(REDIS_URL).as_uri()
    orders = pending_orders(ORDERS)
    worker = start_worker(beat=False)
    assert not Delivery.objects.exists()

    started = time.monotonic()
    approve(orders)
    burst = time.monotonic() - started
    watch = QueueWatch(broker_db)
    seconds = wait_until_finished(worker, watch, started)
    print(f"\nburst of {ORDERS} approvals committed in {burst:.2f} s; published {published}")
    assert ("outbox.drain_provider", "['sendcloud']") in published
    assert worker.log_count("Task outbox.sweep[") == 0
    check_run("on-commit burst, no beat", orders, seconds, worker, watch, broker_db)


def test_changes_arriving_over_seconds_still_fill_sendcloud_batches(
    sandbox_url, broker_in_this_process, broker_db, start_worker
):
    """35up reports the approvals one by one over a few seconds (the sync path: Sendcloud
    deliveries only, so the idle worker starts the Sendcloud drain after its linger). A batch
    may go out partial once it has lingered, so at most one call per linger period beyond
    ceil(N/100) is fair; one call per drain round is not."""
    orders = pending_orders(ORDERS)
    worker = start_worker(beat=False)
    started = time.monotonic()
    for order in orders:
        apply_reported_status(order_id=order.pk, status=OrderStatus.APPROVED)
        time.sleep(TRICKLE_PAUSE)
    spread = time.monotonic() - started
    seconds = wait_until_finished(worker, QueueWatch(broker_db), started)
    calls, duplicates, accepted, batch_sizes = sendcloud_figures()
    fair = MAX_SENDCLOUD_CALLS + math.ceil(spread / settings.SENDCLOUD_BATCH_LINGER_SECONDS) + 1
    print(
        f"\nCELERY (approvals reported over {spread:.1f} s): {ORDERS} orders, {calls} Sendcloud "
        f"calls, {duplicates} duplicates, {seconds:.1f} s; batch sizes {batch_sizes}; "
        f"fair at most {fair} calls"
    )
    assert duplicates == 0
    assert len(accepted) == ORDERS
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    assert calls <= fair, f"batches {batch_sizes}"
