"""The order admin at a million orders: time, SQL queries and query plans of each support screen,
measured through the Django test client as a logged-in superuser.

    createdb -h 127.0.0.1 -U postgres orderhub_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderhub_bench \\
        .venv/bin/python -m benchmarks.admin_at_scale

It migrates, tops the database up to --orders with `manage.py generate_orders` (nothing to do when
it already holds that many), then measures. PostgreSQL only: its query plans are the point.
benchmarks/README.md says how to read what it prints; docs/performance.md has the figures.
"""

import argparse
import os
import platform
import re
import resource
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps every query in memory: not how production serves the admin.
os.environ.setdefault("DJANGO_DEBUG", "false")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from demo.management.commands.generate_orders import COMMON_LAST_NAMES  # noqa: E402
from orders.models import Order, OrderLine, OrderStatusChange, Shipment, ShipmentLine  # noqa: E402

SLOW_MS = 300
BENCH_USERNAME = "bench-admin"
CHANGELIST_URL = reverse("admin:orders_order_changelist")
EXPORT_URL = reverse("admin:orders_order_export")
EXPORT_FILTER = {"shipping_country__exact": "NL"}
# What an EXPLAIN line must contain to be printed: plan nodes, their conditions, the totals.
PLAN_KEYWORDS = ("->", "Scan", "Cond", "Filter", "Sort Key", "Rows Removed", "Time:")
PLAN_LINE_WIDTH = 170
FRAMEWORK_TABLE = re.compile(r'^SELECT .*? FROM "(django_|auth_)')
SELECT_LIST = re.compile(r"^SELECT (?!COUNT).{80,}? FROM ")
RSS_SAMPLE_EVERY = 10_000  # CSV lines


@dataclass
class Figures:
    label: str
    first_ms: float
    timings_ms: list
    queries: int
    rows: str
    explained: list = field(default_factory=list)  # (sql, key plan lines)
    # A page must answer within SLOW_MS; a download is judged by its memory instead.
    is_page: bool = True

    @property
    def median_ms(self):
        return statistics.median(self.timings_ms)

    @property
    def max_ms(self):
        return max(self.timings_ms)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="Orders to measure at.")
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per measurement.")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (see the module docstring).")

    call_command("migrate", verbosity=0)
    generate_missing_orders(options.orders)
    vacuum_analyze()
    print_setting()
    client = Client(HTTP_HOST="localhost")
    client.force_login(bench_superuser())
    index_scans_before = index_scans()

    sample = sample_order()
    figures = [measure(client, *page, options.repeat) for page in pages(sample)]
    export = measure_export(client, options.repeat)
    print_table([*figures, export.figures])
    print_export(export)
    print_plans([*figures, export.figures])
    print_indexes(index_scans_before)


def generate_missing_orders(target):
    existing = Order.objects.count()
    if existing >= target:
        print(f"{existing:,} orders present: no generation.")
        return
    started = time.perf_counter()
    call_command("generate_orders", target - existing)
    print(f"generate_orders {target - existing}: {time.perf_counter() - started:,.0f} s")


def vacuum_analyze():
    """Fresh planner statistics and a visibility map (for index-only scans), as autovacuum would
    leave them some time after a bulk load; quick when there is nothing new."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Order, OrderLine, OrderStatusChange, Shipment, ShipmentLine):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    print(f"VACUUM (ANALYZE): {time.perf_counter() - started:,.0f} s")


def print_setting():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
    counts = {
        "orders": Order.objects.count(),
        "order lines": OrderLine.objects.count(),
        "status changes": OrderStatusChange.objects.count(),
        "shipments": Shipment.objects.count(),
    }
    print(
        f"\nMachine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg_version}"
    )
    # The machine may be shared: the load says how much else ran while these figures were taken.
    print("Load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    tables = ", ".join(f"{count:,} {name}" for name, count in counts.items())
    print(f"Database {connection.settings_dict['NAME']}: {db_size}; {tables}")
    print(
        f"Settings: {os.environ['DJANGO_SETTINGS_MODULE']}, DEBUG={settings.DEBUG}, "
        f"ORDER_LIST_COUNT_LIMIT={settings.ORDER_LIST_COUNT_LIMIT:,}, 100 orders per page\n"
    )


def bench_superuser():
    user, created = get_user_model().objects.get_or_create(
        username=BENCH_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user


def sample_order():
    """A closed order halfway through the table (it has lines, history and a shipment) whose
    last name is a rare one, so its searches show the single-match case."""
    ids = Order.objects.order_by("pk").values_list("pk", flat=True)
    middle = (ids.first() + ids.last()) // 2
    return (
        Order.objects.filter(pk__gte=middle, status="closed")
        .exclude(last_name__in=COMMON_LAST_NAMES)
        .order_by("pk")
        .first()
    )


def pages(order):
    # Midnights in UTC, as the admin's date filter links give them.
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    year_ago = (today.replace(day=1) - timedelta(days=365)).replace(day=1)
    month_after = (year_ago + timedelta(days=32)).replace(day=1)
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    return [
        ("list, unfiltered", CHANGELIST_URL, {}),
        ("list, page 100 (last offered)", CHANGELIST_URL, {"p": 100}),
        ("filter status=pending", CHANGELIST_URL, {"status__exact": "pending"}),
        ("filter status=closed", CHANGELIST_URL, {"status__exact": "closed"}),
        ("filter country=NL", CHANGELIST_URL, {"shipping_country__exact": "NL"}),
        (
            "filter created past 7 days",
            CHANGELIST_URL,
            {
                "created_at__gte": today - timedelta(days=7),
                "created_at__lt": today + timedelta(days=1),
            },
        ),
        (
            f"filter created {year_ago:%Y-%m}",
            CHANGELIST_URL,
            {"created_at__gte": year_ago, "created_at__lt": month_after},
        ),
        (
            "filter status=delivered + country=FR",
            CHANGELIST_URL,
            {"status__exact": "delivered", "shipping_country__exact": "FR"},
        ),
        ("search reference", CHANGELIST_URL, {"q": order.reference}),
        ("search 35up id", CHANGELIST_URL, {"q": order.thirtyfiveup_id}),
        ("search email (upper case)", CHANGELIST_URL, {"q": order.email.upper()}),
        (f"search last name {order.last_name}", CHANGELIST_URL, {"q": order.last_name.lower()}),
        ("search last name smith (common)", CHANGELIST_URL, {"q": "smith"}),
        (
            "search first and last name",
            CHANGELIST_URL,
            {"q": f"{order.first_name} {order.last_name}".upper()},
        ),
        ("search reference fragment", CHANGELIST_URL, {"q": order.reference[-6:]}),
        ("search email fragment", CHANGELIST_URL, {"q": order.email.split("@")[0][-8:]}),
        ("filter needs a person", CHANGELIST_URL, {"needs_person": "yes"}),
        (f"order change page ({order.reference})", change_url, {}),
    ]


def measure(client, label, url, params, repeat):
    first_ms, response = timed_get(client, url, params)
    timings = [timed_get(client, url, params)[0] for _ in range(repeat)]
    with CaptureQueriesContext(connection) as captured:
        timed_get(client, url, params)
    queries = captured.captured_queries
    changelist = (response.context_data or {}).get("cl")
    rows = changelist.paginator.count_label if changelist else "-"
    return Figures(
        label,
        first_ms,
        timings,
        len(queries),
        rows,
        explained=[explain(query["sql"]) for query in order_queries(queries)],
    )


def timed_get(client, url, params):
    started = time.perf_counter()
    response = client.get(url, params)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} {params}: HTTP {response.status_code}")
    return elapsed_ms, response


def order_queries(captured):
    """The queries on the hub's own tables (orders, deliveries, provider links): sessions,
    users, permissions and content types are not what grows with the orders."""
    return [query for query in captured if not FRAMEWORK_TABLE.match(query["sql"])]


def explain(sql):
    if sql.startswith("DECLARE"):
        # A streamed queryset runs in a server-side cursor: explain the query it was declared for.
        sql = sql.split(" FOR ", 1)[1]
    with connection.cursor() as cursor:
        # The SQL is what Django just ran for the page, read back from the query log.
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = [row[0] for row in cursor.fetchall()]
    return sql, [
        line[:PLAN_LINE_WIDTH]
        for line in plan
        if any(word in line for word in PLAN_KEYWORDS) and "Recheck Cond" not in line
    ]


@dataclass
class ExportFigures:
    figures: Figures
    size_mb: float
    rss_mb_per_run: list  # (RSS at the start, highest RSS while streaming) per run
    maxrss_mb_before: float
    maxrss_mb_after: float
    traced_peak_mb: float
    traced_ms: float


def measure_export(client, repeat):
    maxrss_before = maxrss_mb()
    first = stream_export(client)
    runs = [stream_export(client) for _ in range(repeat)]
    maxrss_after = maxrss_mb()
    with CaptureQueriesContext(connection) as captured:
        stream_export(client)
    # Read from the connection's log, which the next request empties: keep a copy now.
    queries = captured.captured_queries
    tracemalloc.start()
    traced = stream_export(client)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    label = "CSV export country=NL"
    return ExportFigures(
        figures=Figures(
            label,
            first["ms"],
            [run["ms"] for run in runs],
            len(queries),
            f"{first['rows']:,}",
            explained=[explain(query["sql"]) for query in order_queries(queries)],
            is_page=False,
        ),
        size_mb=first["bytes"] / 2**20,
        rss_mb_per_run=[(run["rss_start"], run["rss_peak"]) for run in [first, *runs]],
        maxrss_mb_before=maxrss_before,
        maxrss_mb_after=maxrss_after,
        traced_peak_mb=traced_peak,
        traced_ms=traced["ms"],
    )


def stream_export(client):
    """Read the whole streamed CSV as a browser would, keeping none of it."""
    rss_start = rss_mb()
    rss_peak = rss_start
    started = time.perf_counter()
    response = client.get(EXPORT_URL, EXPORT_FILTER)
    if response.status_code != 200:
        raise SystemExit(f"GET {EXPORT_URL}: HTTP {response.status_code}")
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += 1
        if lines % RSS_SAMPLE_EVERY == 0:
            rss_peak = max(rss_peak, rss_mb())
    response.close()
    return {
        "ms": (time.perf_counter() - started) * 1000,
        "rows": lines - 1,
        "bytes": size,
        "rss_start": rss_start,
        "rss_peak": max(rss_peak, rss_mb()),
    }


def rss_mb():
    """Resident memory now (Linux), where ru_maxrss only ever grows."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(all_figures):
    header = f"{'measurement':<42} {'first':>8} {'median':>8} {'max':>8} {'queries':>7} {'rows':>9}"
    print(header)
    print("-" * len(header))
    for figures in all_figures:
        slow = "  SLOW" if figures.is_page and figures.median_ms > SLOW_MS else ""
        print(
            f"{figures.label[:42]:<42} {figures.first_ms:>8.1f} {figures.median_ms:>8.1f} "
            f"{figures.max_ms:>8.1f} {figures.queries:>7} {figures.rows:>9}{slow}"
        )
    print(
        f"(ms; median and max of {len(all_figures[0].timings_ms)} runs after the first; "
        f"SLOW: a page with a median above {SLOW_MS} ms)\n"
    )


def print_export(export):
    print(f"CSV export: {export.figures.rows} rows, {export.size_mb:.1f} MB streamed")
    for number, (start, peak) in enumerate(export.rss_mb_per_run, start=1):
        print(
            f"  run {number}: RSS {start:.0f} MB at the start, "
            f"{peak:.0f} MB at most while streaming"
        )
    print(
        f"  ru_maxrss (process peak): {export.maxrss_mb_before:.0f} MB before the exports, "
        f"{export.maxrss_mb_after:.0f} MB after"
    )
    print(
        f"  tracemalloc peak of Python allocations during one export: "
        f"{export.traced_peak_mb:.1f} MB (that run took {export.traced_ms:,.0f} ms traced)\n"
    )


def print_plans(all_figures):
    print("EXPLAIN (ANALYZE, BUFFERS) of the queries on the hub's tables, key lines:")
    for figures in all_figures:
        print(f"\n== {figures.label}")
        for sql, lines in figures.explained:
            print(f"  SQL: {shortened(sql)}")
            for line in lines:
                print(f"    {line}")


def shortened(sql):
    """The query without its column list, cut to one line: the WHERE and ORDER BY matter here."""
    sql = SELECT_LIST.sub("SELECT ... FROM ", sql, count=1)
    return sql if len(sql) <= PLAN_LINE_WIDTH else f"{sql[: PLAN_LINE_WIDTH - 3]}..."


def index_scans():
    with connection.cursor() as cursor:
        # This backend ran the pages: its index counters reach the view once flushed.
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT indexrelname, idx_scan, pg_size_pretty(pg_relation_size(indexrelid)) "
            "FROM pg_stat_user_indexes WHERE relname = 'orders_order' ORDER BY indexrelname"
        )
        return {name: (scans, size) for name, scans, size in cursor.fetchall()}


def print_indexes(before):
    after = index_scans()
    print("\nIndexes of orders_order: size, scans during this run")
    for name, (scans, size) in after.items():
        print(f"  {name:<45} {size:>8} {scans - before.get(name, (0, ''))[0]:>8,}")


if __name__ == "__main__":
    main()
