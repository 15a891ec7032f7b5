"""`manage.py generate_orders N`: N made-up orders written straight into the database, for the
benchmarks (benchmarks/admin_at_scale.py), never for a real shop.

Each order gets 1-3 lines, the status history that led to its status and, once fulfilled, one
shipment holding every line. Statuses follow the order's age (recent orders are still open, old
ones closed), created dates spread over two years, countries and customers repeat as in a real
shop. Rows go in with bulk_create, one transaction per chunk. No service is called: services write
outbox deliveries, and made-up orders must never reach a provider.
"""

import random
import unicodedata
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.actors import ChangeSource
from demo.scenario import CARRIERS, CUSTOMERS, PRODUCTS
from orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Shipment,
    ShipmentLine,
)

S = OrderStatus

SPAN = timedelta(days=730)
# Share of orders per destination; the addresses are the demo customers' (demo.scenario).
COUNTRY_WEIGHTS = {"DE": 27, "US": 22, "GB": 15, "FR": 13, "NL": 10, "CA": 7, "AU": 6}
ADDRESSES = {
    country: [customer for customer in CUSTOMERS if customer.country == country]
    for country in COUNTRY_WEIGHTS
}
# Statuses by the order's age in days (first bracket the age falls under): open orders are recent.
STATUS_WEIGHTS_BY_AGE = [
    (1, {S.NEW: 10, S.PENDING: 35, S.APPROVED: 35, S.PROCESSING: 20}),
    (
        7,
        {
            S.PENDING: 5,
            S.APPROVED: 10,
            S.PROCESSING: 25,
            S.FULFILLED: 35,
            S.DELIVERED: 15,
            S.PENDING_CANCELLATION: 3,
            S.CANCELLED: 7,
        },
    ),
    (
        60,
        {
            S.PROCESSING: 1,
            S.FULFILLED: 10,
            S.DELIVERED: 60,
            S.PENDING_CANCELLATION: 1,
            S.CANCELLED: 8,
            S.CLOSED: 20,
        },
    ),
    (None, {S.DELIVERED: 9, S.CANCELLED: 9, S.CLOSED: 82}),
]
# The moves 35up reported on the way to each status, and how long after the order each came.
HISTORY = {
    S.NEW: [],
    S.PENDING: [(S.NEW, S.PENDING, timedelta(minutes=2))],
    S.APPROVED: [
        (S.NEW, S.PENDING, timedelta(minutes=2)),
        (S.PENDING, S.APPROVED, timedelta(hours=3)),
    ],
    S.PROCESSING: [
        (S.NEW, S.APPROVED, timedelta(minutes=2)),
        (S.APPROVED, S.PROCESSING, timedelta(hours=8)),
    ],
    S.FULFILLED: [
        (S.NEW, S.APPROVED, timedelta(minutes=2)),
        (S.APPROVED, S.FULFILLED, timedelta(days=1)),
    ],
    S.DELIVERED: [
        (S.NEW, S.APPROVED, timedelta(minutes=2)),
        (S.APPROVED, S.FULFILLED, timedelta(days=1)),
        (S.FULFILLED, S.DELIVERED, timedelta(days=4)),
    ],
    S.PENDING_CANCELLATION: [
        (S.NEW, S.APPROVED, timedelta(minutes=2)),
        (S.APPROVED, S.PENDING_CANCELLATION, timedelta(hours=5)),
    ],
    S.CANCELLED: [
        (S.NEW, S.PENDING, timedelta(minutes=2)),
        (S.PENDING, S.CANCELLED, timedelta(hours=20)),
    ],
    S.CLOSED: [
        (S.NEW, S.APPROVED, timedelta(minutes=2)),
        (S.APPROVED, S.FULFILLED, timedelta(days=1)),
        (S.FULFILLED, S.DELIVERED, timedelta(days=4)),
        (S.DELIVERED, S.CLOSED, timedelta(days=30)),
    ],
}
SHIPPED = {S.FULFILLED, S.DELIVERED, S.CLOSED}

FIRST_NAMES = [
    "Emily", "Lukas", "Daan", "Camille", "Oliver", "Michael", "Anna", "Sanne", "Hugo", "Amelia",
    "Sarah", "Gabriel", "Jonas", "Thijs", "Chloé", "Harry", "David", "Charlotte", "Lea", "Jessica",
    "Emma", "Léa", "Kevin", "Sophie", "Brian", "Noah", "Mia", "Liam", "Hannah", "Lucas", "Julia",
    "Finn", "Olivia", "Max", "Zoé", "James", "Sofia", "Ben", "Isabella", "Paul",
]  # fmt: skip
# A few hundred orders each at a million orders: the worst case for a search by last name.
COMMON_LAST_NAMES = [
    "Smith", "Müller", "Schmidt", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
    "Davis", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Taylor",
    "Wilson", "Evans", "Walker", "Wright", "Roberts", "de Jong", "Jansen", "de Vries", "van Dijk",
    "Bakker", "Visser", "Smit", "Meijer", "Tremblay", "Gagnon", "Roy", "Côté", "Nguyen", "Lee",
    "Kim", "Patel", "Anderson", "Clark",
]  # fmt: skip
COMMON_LAST_NAME_SHARE = 0.4
# Rare surnames are built from these: 20 x 20 x 12 = 4,800 of them.
SURNAME_STARTS = [
    "Ash", "Berg", "Brook", "Cald", "Dorn", "Eld", "Fair", "Gold", "Hart", "Holt",
    "Kirk", "Lind", "Mar", "North", "Oak", "Ren", "Stan", "Thorn", "Wald", "Wes",
]  # fmt: skip
SURNAME_MIDDLES = [
    "a", "e", "en", "er", "in", "on", "el", "ing", "or", "am",
    "ow", "ri", "ley", "ham", "ston", "wick", "more", "ford", "brook", "field",
]  # fmt: skip
SURNAME_ENDS = ["", "s", "son", "er", "berg", "mann", "ton", "by", "well", "ett", "ier", "sen"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "post.example"]
# Several orders per customer on average, so a search by email finds a few orders.
ORDERS_PER_CUSTOMER = 3
LINE_COUNT_WEIGHTS = {1: 60, 2: 30, 3: 10}


class Command(BaseCommand):
    help = (
        "Write COUNT made-up orders (lines, status history, shipments) straight into the "
        "database, for benchmarks. Calls no service and writes no provider delivery."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="How many orders to add.")
        parser.add_argument(
            "--chunk-size", type=int, default=10_000, help="Orders per transaction (10,000)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed, the same orders."
        )
        parser.add_argument(
            "--prefix", default="GEN-", help="Reference prefix; numbers continue after the last."
        )

    def handle(self, *args, count, chunk_size, seed, prefix, **options):
        if count < 1 or chunk_size < 1:
            raise CommandError("COUNT and --chunk-size must be at least 1.")
        generator = OrderGenerator(seed=seed, prefix=prefix, total=count)
        started = timezone.now()
        written = 0
        while written < count:
            size = min(chunk_size, count - written)
            generator.write_chunk(size)
            written += size
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(f"{written:,} orders written ({seconds:,.0f} s)")
        self.stdout.write(
            self.style.SUCCESS(
                f"{count:,} orders, {generator.line_count:,} lines, "
                f"{generator.history_count:,} status changes, "
                f"{generator.shipment_count:,} shipments in "
                f"{(timezone.now() - started).total_seconds():,.1f} s."
            )
        )


class OrderGenerator:
    """Made-up orders in the database, one chunk at a time, all dated up to `now`."""

    def __init__(self, *, seed, prefix, total, now=None):
        self.prefix = prefix
        self.now = now or timezone.now()
        self.customer_count = max(total // ORDERS_PER_CUSTOMER, 1)
        self.customer_seed = seed
        self.next_number = self._last_number() + 1
        # A later run continues the numbers with other orders, for the same customers.
        self.random = random.Random(f"{seed}:{self.next_number}")
        self.line_count = self.history_count = self.shipment_count = 0

    def _last_number(self):
        last = (
            Order.objects.filter(reference__startswith=self.prefix)
            .order_by("-reference")
            .values_list("reference", flat=True)
            .first()
        )
        return int(last.removeprefix(self.prefix)) if last else 0

    def write_chunk(self, size):
        plans = [self._plan_order() for _ in range(size)]
        with transaction.atomic(), keep_given_timestamps():
            orders = Order.objects.bulk_create([plan.order for plan in plans])
            for plan, order in zip(plans, orders, strict=True):
                for line in plan.lines:
                    line.order_id = order.pk
                for change in plan.history:
                    change.order_id = order.pk
                if plan.shipment:
                    plan.shipment.order_id = order.pk
            OrderLine.objects.bulk_create([line for plan in plans for line in plan.lines])
            OrderStatusChange.objects.bulk_create([c for plan in plans for c in plan.history])
            shipped = [plan for plan in plans if plan.shipment]
            Shipment.objects.bulk_create([plan.shipment for plan in shipped])
            ShipmentLine.objects.bulk_create(
                [
                    ShipmentLine(shipment=plan.shipment, order_line=line, quantity=line.quantity)
                    for plan in shipped
                    for line in plan.lines
                ]
            )
        self.line_count += sum(len(plan.lines) for plan in plans)
        self.history_count += sum(len(plan.history) for plan in plans)
        self.shipment_count += len(shipped)

    def _plan_order(self):
        rng = self.random
        number = self.next_number
        self.next_number += 1
        # More orders lately than two years ago: the shop grows.
        created_at = self.now - SPAN * (1 - rng.random() ** 0.5)
        age_days = (self.now - created_at).days
        weights = next(w for limit, w in STATUS_WEIGHTS_BY_AGE if limit is None or age_days < limit)
        status = rng.choices(list(weights), weights=list(weights.values()))[0]
        moves = [
            (from_status, to_status, min(created_at + after, self.now))
            for from_status, to_status, after in HISTORY[status]
        ]
        last_report_at = moves[-1][2] if moves else None
        customer = self._customer(rng.randrange(self.customer_count))
        reference = f"{self.prefix}{number:08d}"
        order = Order(
            reference=reference,
            session=uuid.UUID(int=rng.getrandbits(128)).hex,
            first_name=customer["first_name"],
            last_name=customer["last_name"],
            email=customer["email"],
            phone=customer["phone"],
            shipping_first_name=customer["first_name"],
            shipping_last_name=customer["last_name"],
            shipping_email=customer["email"],
            shipping_phone=customer["phone"],
            shipping_company=customer["address"].company,
            shipping_street=customer["address"].street,
            shipping_street_number=customer["street_number"],
            shipping_extra=customer["address"].extra,
            shipping_city=customer["address"].city,
            shipping_postcode=customer["address"].postcode,
            shipping_state=customer["address"].state,
            shipping_country=customer["address"].country,
            currency=customer["address"].currency,
            language=customer["address"].language,
            ordered_at=created_at - timedelta(seconds=rng.randrange(5, 120)),
            created_at=created_at,
            updated_at=last_report_at or created_at,
            status=status,
            thirtyfiveup_id=None if status == S.NEW else thirtyfiveup_id(reference),
            thirtyfiveup_updated_at=last_report_at,
        )
        lines = [
            OrderLine(
                sku=product.sku,
                name=product.name,
                quantity=rng.choice([1, 1, 1, 2, 3]),
                unit_price=product.prices[order.currency],
                config=product.config,
            )
            for product in rng.sample(
                PRODUCTS,
                rng.choices(list(LINE_COUNT_WEIGHTS), list(LINE_COUNT_WEIGHTS.values()))[0],
            )
        ]
        history = [
            OrderStatusChange(
                from_status=from_status,
                to_status=to_status,
                source=ChangeSource.PROVIDER,
                actor_label="35up",
                created_at=at,
            )
            for from_status, to_status, at in moves
        ]
        shipment = None
        if status in SHIPPED:
            carrier, tracking_pattern = CARRIERS[customer["address"].country]
            fulfilled_at = next(at for _, to_status, at in moves if to_status == S.FULFILLED)
            shipment = Shipment(
                tracking_number=tracking_pattern.format(number),
                carrier_code=carrier,
                shipped_at=fulfilled_at,
                created_at=fulfilled_at,
            )
        return OrderPlan(order=order, lines=lines, history=history, shipment=shipment)

    def _customer(self, customer_number):
        """The same customer (name, email, address) every time the number comes up."""
        rng = random.Random(f"{self.customer_seed}:{customer_number}")
        country = rng.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()))[0]
        first_name = rng.choice(FIRST_NAMES)
        if rng.random() < COMMON_LAST_NAME_SHARE:
            last_name = rng.choice(COMMON_LAST_NAMES)
        else:
            last_name = "".join(
                rng.choice(part) for part in (SURNAME_STARTS, SURNAME_MIDDLES, SURNAME_ENDS)
            )
        local_part = ascii_slug(f"{first_name}.{last_name}")
        return {
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{local_part}.{customer_number}@{rng.choice(EMAIL_DOMAINS)}",
            "phone": f"+{rng.randrange(10**9, 10**10)}",
            "street_number": str(rng.randrange(1, 300)),
            "address": rng.choice(ADDRESSES[country]),
        }


class OrderPlan:
    """One order's rows before they are written: lines, history and shipment wait for its id."""

    __slots__ = ("history", "lines", "order", "shipment")

    def __init__(self, *, order, lines, history, shipment):
        self.order = order
        self.lines = lines
        self.history = history
        self.shipment = shipment


def thirtyfiveup_id(reference):
    """An id in 35up's style (upper-case hex, e.g. 42CA346434), the same for the same reference."""
    return uuid.uuid5(uuid.NAMESPACE_OID, reference).hex[:16].upper()


def ascii_slug(text):
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ascii_text.lower().replace(" ", "").replace("'", "")


@contextmanager
def keep_given_timestamps():
    """bulk_create stamps auto_now(_add) fields with the time of the call: made-up orders keep
    their own dates."""
    fields = [
        Order._meta.get_field("created_at"),
        Order._meta.get_field("updated_at"),
        Shipment._meta.get_field("created_at"),
    ]
    saved = [(field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            field.auto_now, field.auto_now_add = auto_now, auto_now_add
