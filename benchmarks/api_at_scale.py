"""The REST API at 1,000 and at 1,000,000 orders: the first page, filtered pages and a page deep
in the cursor, each timed and its SQL counted, on both databases, with the ratio of the two.

    .venv/bin/python -m benchmarks.api_at_scale
        # --large postgres://postgres@127.0.0.1:5432/orderhub_bench   (1,000,000 orders)
        # --small postgres://postgres@127.0.0.1:5432/orderhub_bench_1k (made here: 1,000 orders)

Each database is measured in a process of its own (`--measure URL`), which migrates it, tops it
up to its number of orders with `manage.py generate_orders`, runs VACUUM (ANALYZE) on the order
tables, then asks every page once ("first") and `--repeat` more times (median, best, and the
median time spent in SQL), through the Django test client with a real API token, as a client
in the support group. A page's cost must not grow with the table: the target is a best run
within 1.5x of the small database's (on a shared 2-core machine the best run is the page's own
cost; the median carries whatever else ran).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from urllib.parse import urlencode

import psycopg

LARGE_URL = "postgres://postgres@127.0.0.1:5432/orderhub_bench"
SMALL_URL = "postgres://postgres@127.0.0.1:5432/orderhub_bench_1k"
TARGET_RATIO = 1.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", default=LARGE_URL)
    parser.add_argument("--large-orders", type=int, default=1_000_000)
    parser.add_argument("--small", default=SMALL_URL)
    parser.add_argument("--small-orders", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15, help="Timed runs per page.")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--orders", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        os.environ["DATABASE_URL"] = options.measure
        print(json.dumps(measure_database(options.orders, options.repeat)))
        return
    create_database(options.small)
    results = {}
    for label, url, orders in (
        ("small", options.small, options.small_orders),
        ("large", options.large, options.large_orders),
    ):
        print(f"Measuring {url} ({orders:,} orders) ...", flush=True)
        run = subprocess.run(  # noqa: S603 - our own command line
            [
                sys.executable,
                "-m",
                "benchmarks.api_at_scale",
                "--measure",
                url,
                "--orders",
                str(orders),
                "--repeat",
                str(options.repeat),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode:
            sys.stderr.write(run.stdout + run.stderr)
            raise SystemExit(f"measuring {url} failed")
        results[label] = json.loads(run.stdout.strip().splitlines()[-1])
    print_report(results["small"], results["large"])


def create_database(url):
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def measure_database(orders, repeat):
    """Runs in the child process: Django set up against DATABASE_URL."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # With DEBUG on, Django keeps every query in memory: not how production serves the API.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    # One benchmark client sends hundreds of requests: no throttle here.
    os.environ["API_THROTTLE_RATE"] = ""
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    from orders.models import Order, OrderLine, OrderStatusChange, Shipment, ShipmentLine

    call_command("migrate", verbosity=0)
    existing = Order.objects.count()
    if existing < orders:
        with open(os.devnull, "w") as quiet:
            call_command("generate_orders", orders - existing, stdout=quiet)
    with connection.cursor() as cursor:
        for model in (Order, OrderLine, OrderStatusChange, Shipment, ShipmentLine):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    client = api_client()
    figures = [measure_page(client, label, url, repeat) for label, url in pages()]
    return {
        "database": connection.settings_dict["NAME"],
        "orders": Order.objects.count(),
        "postgresql": pg_version,
        "django": django.get_version(),
        "load": os.getloadavg(),
        "figures": figures,
    }


def api_client():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user, _ = get_user_model().objects.get_or_create(username="bench-api")
    user.groups.add(Group.objects.get(name="support"))
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def pages():
    """(label, url) of each page measured; the deep pages start 90% of the way down."""
    from api.pagination import encode_cursor
    from orders.models import Order

    count = Order.objects.count()
    deep = Order.objects.order_by("-created_at", "-id").values_list("created_at", "id")[
        count * 9 // 10
    ]
    updated = Order.objects.order_by("updated_at", "id").values_list("updated_at", "id")[
        count * 9 // 10
    ]
    since = Order.objects.order_by("updated_at", "id").values_list("updated_at", flat=True)[
        count // 2
    ]
    return [
        ("first page", "/api/v1/orders/"),
        ("filtered: status=delivered", "/api/v1/orders/?status=delivered"),
        ("filtered: country=NL", "/api/v1/orders/?country=NL"),
        (
            "sync: updated_since, by updated_at",
            "/api/v1/orders/?"
            + urlencode({"ordering": "updated_at", "updated_since": since.isoformat()}),
        ),
        (
            "deep cursor (90%), newest first",
            "/api/v1/orders/?" + urlencode({"cursor": encode_cursor("-created_at", *deep)}),
        ),
        (
            "deep cursor (90%), by updated_at",
            "/api/v1/orders/?"
            + urlencode(
                {"ordering": "updated_at", "cursor": encode_cursor("updated_at", *updated)}
            ),
        ),
    ]


def measure_page(client, label, url, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def timed():
        sql_ms = []

        def timing(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                sql_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        with connection.execute_wrapper(timing):
            response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return elapsed, sum(sql_ms), response

    first_ms, _, response = timed()
    runs = [timed() for _ in range(repeat)]
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return {
        "label": label,
        "first_ms": first_ms,
        "median_ms": statistics.median(run[0] for run in runs),
        "min_ms": min(run[0] for run in runs),
        "sql_median_ms": statistics.median(run[1] for run in runs),
        "queries": len(captured),
        "results": len(response.json()["results"]),
    }


def print_report(small, large):
    print(
        f"\nMachine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}, Django {large['django']}, PostgreSQL {large['postgresql']}"
    )
    for run in (small, large):
        load = " ".join(f"{value:.2f}" for value in run["load"])
        print(f"Database {run['database']}: {run['orders']:,} orders (load after: {load})")
    print(
        "Client: Django test client, token auth, a support-group user, 50 orders per page "
        "with lines, shipments, history and provider syncs\n"
    )
    header = (
        f"{'page':<36} {'first':>15} {'median':>15} {'best':>15} {'SQL median':>15} "
        f"{'queries':>7} {'ratio':>6}"
    )
    print(header)
    print(f"{'':<36} {'1k / 1M ms':>15} {'1k / 1M ms':>15} {'1k / 1M ms':>15} {'1k / 1M ms':>15}")
    print("-" * len(header))
    worst = 0.0
    for a, b in zip(small["figures"], large["figures"], strict=True):
        ratio = b["min_ms"] / a["min_ms"]
        worst = max(worst, ratio)
        cells = [
            f"{a[key]:.1f} / {b[key]:.1f}"
            for key in ("first_ms", "median_ms", "min_ms", "sql_median_ms")
        ]
        queries = f"{a['queries']}/{b['queries']}"
        print(
            f"{a['label']:<36} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} {cells[3]:>15} "
            f"{queries:>7} {ratio:>5.2f}x"
        )
    verdict = "within" if worst <= TARGET_RATIO else "OVER"
    print(
        f"\nRatio = best timed run at {large['orders']:,} "
        f"orders / best at {small['orders']:,} (the best run is the page's own cost on a shared "
        f"machine; the median shows the noise). Worst: {worst:.2f}x, {verdict} the "
        f"{TARGET_RATIO}x target."
    )


if __name__ == "__main__":
    main()
