"""Demo data for `manage.py seed_demo`: two staff users, 50 orders across every status and six
returns of delivered or fulfilled orders in several return statuses.

Everything is fixed (no randomness). Orders come in through `ingest_order` and really travel:
the sandbox 35up is served over HTTP from this process while seeding, each order is placed there
through the outbox, the shop's requests go out as PATCHes, and 35up's later moves are made at the
sandbox and read back by the sync. So every demo order has a 35up id and the history a real order
would have. Returns travel the same way: requested through `returns.services`, POSTed to the
sandbox, moved on there and read back. Sendcloud, Shipup and Reevoo deliveries stay queued for the
delivery loop of `make run`, which sends them within the providers' rate limits.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import override_settings

from core.actors import Actor
from core.groups import SUPPORT
from integrations.providers import Provider
from integrations.sync import sync_order, sync_return
from orders.ingest import IngestOutcome, ingest_order
from orders.models import Order, OrderStatus
from orders.services import add_note, add_shipment, reason_message, request_transition
from outbox.services import drain
from returns import services as return_services
from returns.models import ReturnStatus
from sandbox import thirtyfiveup as sandbox_35up
from sandbox.server import sandbox_in_thread

ADMIN_URL = "http://127.0.0.1:8000/admin/"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "orderhub-demo"
SUPPORT_USERNAME = "support"
SUPPORT_PASSWORD = "orderhub-support"
DEMO_ORDER_COUNT = 50
# The demo's "now": orders are dated in the days and weeks before it.
DEMO_CLOCK = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

S = OrderStatus
R = ReturnStatus


@dataclass(frozen=True)
class Customer:
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    street_number: str
    city: str
    postcode: str
    country: str
    currency: str
    language: str
    state: str = ""
    company: str = ""
    extra: str = ""


CUSTOMERS = [
    Customer("Emily", "Carter", "emily.carter@example.com", "+1 206 555 0142", "5th Avenue",
             "1420", "Seattle", "98101", "US", "USD", "en", state="WA", extra="Apt 1203"),
    Customer("Lukas", "Schneider", "lukas.schneider@example.de", "+49 30 5550 1234", "Torstraße",
             "109", "Berlin", "10119", "DE", "EUR", "de"),
    Customer("Daan", "de Vries", "daan.devries@example.nl", "+31 20 555 0123", "Prinsengracht",
             "263", "Amsterdam", "1016 GV", "NL", "EUR", "nl"),
    Customer("Camille", "Dubois", "camille.dubois@example.fr", "+33 1 55 55 01 23",
             "Rue de Rivoli", "99", "Paris", "75001", "FR", "EUR", "fr"),
    Customer("Oliver", "Bennett", "oliver.bennett@example.co.uk", "+44 20 7946 0321",
             "Baker Street", "221B", "London", "NW1 6XE", "GB", "GBP", "en"),
    Customer("Michael", "Nguyen", "michael.nguyen@example.com", "+1 415 555 0187",
             "Mission Street", "350", "San Francisco", "94105", "US", "USD", "en", state="CA",
             company="Bayside Analytics", extra="Floor 12"),
    Customer("Anna", "Becker", "anna.becker@example.de", "+49 89 5550 4321", "Maximilianstraße",
             "12", "München", "80539", "DE", "EUR", "de"),
    Customer("Sanne", "Jansen", "sanne.jansen@example.nl", "+31 30 555 0456", "Oudegracht",
             "158", "Utrecht", "3511 AZ", "NL", "EUR", "nl"),
    Customer("Hugo", "Lefèvre", "hugo.lefevre@example.fr", "+33 4 55 55 02 34",
             "Rue de la République", "21", "Lyon", "69002", "FR", "EUR", "fr"),
    Customer("Amelia", "Hughes", "amelia.hughes@example.co.uk", "+44 161 496 0754", "Deansgate",
             "100", "Manchester", "M3 2GP", "GB", "GBP", "en"),
    Customer("Sarah", "Goldberg", "sarah.goldberg@example.com", "+1 212 555 0163",
             "West 57th Street", "225", "New York", "10019", "US", "USD", "en", state="NY",
             extra="Suite 400"),
    Customer("Gabriel", "Tremblay", "gabriel.tremblay@example.ca", "+1 514 555 0199",
             "Rue Sainte-Catherine Ouest", "1500", "Montréal", "H3G 1S6", "CA", "CAD", "fr",
             state="QC"),
    Customer("Jonas", "Weber", "jonas.weber@example.de", "+49 40 5550 7788", "Schanzenstraße",
             "27", "Hamburg", "20357", "DE", "EUR", "de", company="Weber & Sohn GmbH"),
    Customer("Thijs", "van Dijk", "thijs.vandijk@example.nl", "+31 10 555 0789",
             "Witte de Withstraat", "50", "Rotterdam", "3012 BR", "NL", "EUR", "nl"),
    Customer("Chloé", "Martin", "chloe.martin@example.fr", "+33 4 55 55 03 45", "Cours Mirabeau",
             "14", "Aix-en-Provence", "13100", "FR", "EUR", "fr"),
    Customer("Harry", "Wilson", "harry.wilson@example.co.uk", "+44 131 496 0912", "Rose Street",
             "45", "Edinburgh", "EH2 2NH", "GB", "GBP", "en"),
    Customer("David", "Ramirez", "david.ramirez@example.com", "+1 512 555 0134",
             "Congress Avenue", "1100", "Austin", "78701", "US", "USD", "en", state="TX"),
    Customer("Charlotte", "Smith", "charlotte.smith@example.com.au", "+61 2 5550 1234",
             "George Street", "200", "Sydney", "2000", "AU", "AUD", "en", state="NSW",
             extra="Level 5"),
    Customer("Lea", "Hoffmann", "lea.hoffmann@example.de", "+49 221 5550 3344", "Ehrenstraße",
             "45", "Köln", "50672", "DE", "EUR", "de"),
    Customer("Jessica", "Miller", "jessica.miller@example.com", "+1 312 555 0178",
             "South Wacker Drive", "233", "Chicago", "60606", "US", "USD", "en", state="IL",
             company="Lakeshore Partners"),
    Customer("Emma", "Bakker", "emma.bakker@example.nl", "+31 70 555 0246", "Lange Voorhout",
             "34", "Den Haag", "2514 EE", "NL", "EUR", "en"),
    Customer("Léa", "Moreau", "lea.moreau@example.fr", "+33 5 55 55 04 56", "Rue Sainte-Catherine",
             "88", "Bordeaux", "33000", "FR", "EUR", "fr"),
    Customer("Kevin", "Park", "kevin.park@example.com", "+1 323 555 0112", "Hollywood Boulevard",
             "6801", "Los Angeles", "90028", "US", "USD", "en", state="CA"),
    Customer("Sophie", "Taylor", "sophie.taylor@example.co.uk", "+44 117 496 0385", "Park Street",
             "18", "Bristol", "BS1 5JA", "GB", "GBP", "en"),
    Customer("Brian", "O'Connor", "brian.oconnor@example.com", "+1 617 555 0155", "Beacon Street",
             "1", "Boston", "02108", "US", "USD", "en", state="MA"),
]  # fmt: skip


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    prices: dict  # currency -> decimal string
    config: dict = field(default_factory=dict)


def _prices(usd, eur, gbp, cad, aud):
    return {"USD": usd, "EUR": eur, "GBP": gbp, "CAD": cad, "AUD": aud}


PRODUCTS = [
    Product("caseable/HC12PXX127030XXAPIP2P", 'Caseable hard case 12" (custom print)',
            _prices("29.99", "27.99", "24.99", "39.99", "44.95"),
            {"size": "12", "color": "black"}),
    Product("belkin/WIA004btBK", "Belkin BoostCharge Pro 3-in-1 wireless charger",
            _prices("149.99", "149.99", "129.99", "199.99", "229.95")),
    Product("anker/A2633", "Anker 511 Charger (Nano 3, 30W)",
            _prices("22.99", "24.99", "19.99", "29.99", "34.95"), {"color": "white"}),
    Product("zagg/200111592", "ZAGG InvisibleShield Glass Elite screen protector",
            _prices("44.99", "39.99", "34.99", "59.99", "64.95"), {"device": "iPhone 15 Pro"}),
    Product("caseable/SL13MBAXXNAVY", 'Caseable laptop sleeve 13"',
            _prices("39.99", "36.99", "32.99", "52.99", "59.95"),
            {"size": "13", "color": "navy"}),
    Product("otterbox/77-92665", "OtterBox Defender Series case",
            _prices("64.95", "59.99", "54.99", "84.95", "94.95"),
            {"device": "iPhone 15", "color": "black"}),
    Product("anker/A1289", "Anker 737 Power Bank (PowerCore 24K)",
            _prices("109.99", "119.99", "99.99", "149.99", "169.95")),
    Product("spigen/ACS06778", "Spigen Ultra Hybrid MagFit case",
            _prices("24.99", "22.99", "19.99", "32.99", "36.95"),
            {"device": "iPhone 15 Pro Max", "color": "frost clear"}),
    Product("nomad/NM01962685", "Nomad Sport Band 45 mm",
            _prices("59.95", "59.95", "54.95", "79.95", "89.95"), {"color": "marine blue"}),
    Product("belkin/F8J213bt04-BLK", "Belkin USB-C to Lightning cable 1.2 m",
            _prices("19.99", "19.99", "17.99", "26.99", "29.95")),
    Product("mophie/401311471", "mophie 3-in-1 travel charger with MagSafe",
            _prices("149.95", "159.99", "139.99", "199.95", "229.95")),
    Product("hama/00201536", "Hama USB-C hub, 6 ports",
            _prices("49.99", "44.99", "39.99", "64.99", "74.95")),
]  # fmt: skip

# Carrier code and tracking number pattern per destination country.
CARRIERS = {
    "US": ("ups", "1Z999AA1{:010d}"),
    "DE": ("dhl", "00340434{:012d}"),
    "NL": ("postnl", "3SDEVC{:09d}"),
    "FR": ("colissimo", "6A{:011d}"),
    "GB": ("royal_mail", "RM{:09d}GB"),
    "CA": ("canada_post", "7023{:012d}"),
    "AU": ("australia_post", "AP{:010d}"),
}

# How old an order in each status typically is, in hours before DEMO_CLOCK.
STATUS_AGE_HOURS = {
    S.NEW: 2,
    S.PENDING: 20,
    S.APPROVED: 40,
    S.PROCESSING: 70,
    S.FULFILLED: 120,
    S.DELIVERED: 260,
    S.PENDING_CANCELLATION: 80,
    S.CANCELLED: 150,
    S.CLOSED: 700,
}


@dataclass(frozen=True)
class Report:
    """35up reports `status`."""

    status: str


@dataclass(frozen=True)
class Request:
    """The shop asks for `action` (approve, hold, cancel); an order's cancel or hold gives one of
    orders.services.TRANSITION_REASONS, as staff must, and `message` adds the details."""

    action: str
    message: str = ""
    reason: str = ""


PLACED = Report(S.PENDING)
PAID = Request("approve", "Paid by card.")
TO_PROCESSING = [PLACED, PAID, Report(S.PROCESSING)]
TO_DELIVERED = [*TO_PROCESSING, Report(S.FULFILLED), Report(S.DELIVERED)]

# Ways to reach each status; the n-th order in a status takes variant n modulo their number.
PATHS = {
    S.NEW: [[]],
    S.PENDING: [
        [PLACED],
        [Report(S.APPROVED), Request("hold", "Checking the house number.", "address_check")],
    ],
    S.APPROVED: [[PLACED, PAID], [Report(S.APPROVED)], [PLACED, Request("approve", "Paid.")]],
    S.PROCESSING: [TO_PROCESSING, [Report(S.APPROVED), Report(S.PROCESSING)]],
    S.FULFILLED: [
        [*TO_PROCESSING, Report(S.FULFILLED)],
        [Report(S.APPROVED), Report(S.FULFILLED)],
    ],
    S.DELIVERED: [TO_DELIVERED],
    S.PENDING_CANCELLATION: [
        [PLACED, PAID, Request("cancel", "Changed their mind.", "customer_asked")],
        [*TO_PROCESSING, Request("cancel", "Ordered the wrong model.", "customer_asked")],
    ],
    S.CANCELLED: [
        [Request("cancel", reason="duplicate")],
        [PLACED, Request("cancel", reason="payment_failed")],
        [PLACED, PAID, Request("cancel", reason="customer_asked"), Report(S.CANCELLED)],
    ],
    S.CLOSED: [
        [*TO_DELIVERED, Report(S.CLOSED)],
        [PLACED, Request("cancel", reason="fraud"), Report(S.CLOSED)],
    ],
}

NOTES = {
    3: "Customer called: please leave the parcel with the neighbour at no. 12.",
    8: "Customer asked for an invoice with their company name; sent by email.",
    21: "Second order this month; customer asked whether both can ship together.",
}


@dataclass(frozen=True)
class DemoReturn:
    """A return of one demo order: its reason and what happens to it after 35up accepts it
    (Report: 35up moves it; Request: support runs a shop action)."""

    reason: str
    steps: list
    # Every unit of every line; otherwise one unit of the first line.
    whole_order: bool = False


TO_CUSTOMER_SHIPPED = [Report(R.AWAITING_RETURN), Report(R.CUSTOMER_SHIPPED)]
TO_REFUNDED = [
    *TO_CUSTOMER_SHIPPED,
    Report(R.VENDOR_RECEIVED),
    Report(R.CONFIRMED),
    Report(R.REFUNDED),
]

# One story per returnable demo order, oldest first (demo_return_stories()).
RETURN_STORIES = [
    DemoReturn("Wrong size: does not fit the customer's device.", [Report(R.AWAITING_RETURN)]),
    DemoReturn("Arrived with a cracked corner.", TO_CUSTOMER_SHIPPED),
    # Waits on the shop: it must ship the items on to the vendor (the admin index counts it).
    DemoReturn(
        "Customer brought it back to the shop instead of sending it.",
        [
            Report(R.AWAITING_RETURN),
            Request("mark_seller_received", "Handed in at the shop counter."),
        ],
    ),
    DemoReturn("Stopped working after a week.", TO_REFUNDED, whole_order=True),
    DemoReturn("Ordered twice by mistake.", [*TO_REFUNDED, Report(R.CLOSED)]),
    DemoReturn(
        "Customer changed their mind.",
        [Report(R.AWAITING_RETURN), Request("cancel", "Customer decided to keep it after all.")],
    ),
]
DEMO_RETURN_COUNT = len(RETURN_STORIES)


@dataclass(frozen=True)
class DemoOrder:
    document: dict
    steps: list
    ordered_at: datetime


def demo_orders():
    """The demo orders, oldest first (DEMO-0001 is the oldest)."""
    statuses = list(S)
    drafts = []
    for index in range(DEMO_ORDER_COUNT):
        status = statuses[index % len(statuses)]
        variants = PATHS[status]
        steps = variants[(index // len(statuses)) % len(variants)]
        ordered_at = DEMO_CLOCK - timedelta(hours=STATUS_AGE_HOURS[status] + (index * 7) % 24)
        drafts.append((ordered_at, index, steps))
    drafts.sort(key=lambda draft: (draft[0], draft[1]))
    # A fixed seed: the same baskets on every run, so a second run finds every order unchanged.
    basket_picker = random.Random(35)
    return [
        DemoOrder(_document(number, index, ordered_at, basket_picker), steps, ordered_at)
        for number, (ordered_at, index, steps) in enumerate(drafts, start=1)
    ]


def demo_return_stories():
    """{reference: DemoReturn}: the stories go to the demo orders that end fulfilled or
    delivered, oldest first. Fixed by the scenario, not by the database, so a second run picks
    the same orders."""
    returnable = [
        demo_order.document["reference"]
        for demo_order in demo_orders()
        if demo_order.steps and demo_order.steps[-1] in (Report(S.FULFILLED), Report(S.DELIVERED))
    ]
    return dict(zip(returnable, RETURN_STORIES, strict=False))


def _document(number, index, ordered_at, basket_picker):
    customer = CUSTOMERS[index % len(CUSTOMERS)]
    products = basket_picker.sample(PRODUCTS, basket_picker.choice([1, 1, 2, 2, 3]))
    lines = []
    for product in products:
        line = {
            "sku": product.sku,
            "name": product.name,
            "quantity": basket_picker.choice([1, 1, 1, 2]),
            "unit_price": product.prices[customer.currency],
        }
        if product.config:
            line["config"] = dict(product.config)
        lines.append(line)
    address = {
        "company": customer.company,
        "street": customer.street,
        "street_number": customer.street_number,
        "extra": customer.extra,
        "city": customer.city,
        "postcode": customer.postcode,
        "country": customer.country,
    }
    if customer.state:
        address["state"] = customer.state
    return {
        "reference": f"DEMO-{number:04d}",
        "session": f"demo-session-{number:04d}",
        "currency": customer.currency,
        "language": customer.language,
        "ordered_at": ordered_at.isoformat().replace("+00:00", "Z"),
        "customer": {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": customer.phone,
        },
        "shipping_address": address,
        "lines": lines,
    }


@dataclass
class SeedReport:
    created_users: list = field(default_factory=list)
    created_orders: int = 0
    unchanged_orders: int = 0
    refused: list = field(default_factory=list)
    statuses: set = field(default_factory=set)
    created_returns: int = 0
    unchanged_returns: int = 0
    return_statuses: set = field(default_factory=set)

    @property
    def changed(self):
        return bool(self.created_users or self.created_orders or self.created_returns)


def seed_demo():
    """Create the demo users, orders and returns that are missing; existing ones are left as
    they are."""
    report = SeedReport()
    support_user = _seed_users(report)
    with sandbox_in_thread():
        for demo_order in demo_orders():
            _seed_order(demo_order, support_user, report)
        for reference, story in demo_return_stories().items():
            _seed_return(reference, story, support_user, report)
    return report


def _seed_users(report):
    User = get_user_model()
    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        User.objects.create_superuser(
            ADMIN_USERNAME, f"{ADMIN_USERNAME}@orderhub.example", ADMIN_PASSWORD
        )
        report.created_users.append(ADMIN_USERNAME)
    support_user = User.objects.filter(username=SUPPORT_USERNAME).first()
    if support_user is None:
        support_user = User.objects.create_user(
            SUPPORT_USERNAME,
            f"{SUPPORT_USERNAME}@orderhub.example",
            SUPPORT_PASSWORD,
            is_staff=True,
            first_name="Sam",
            last_name="Support",
        )
        support_user.groups.add(Group.objects.get(name=SUPPORT))
        report.created_users.append(SUPPORT_USERNAME)
    return support_user


def _send_to_35up():
    drain(provider=Provider.THIRTYFIVEUP)


def _seed_order(demo_order, support_user, report):
    """One order, placed at the sandbox 35up unless its story keeps it local, then moved on."""
    steps = demo_order.steps
    # 35up only knows orders whose story starts with a 35up report; the rest stay local (new,
    # or cancelled before placing).
    placed = bool(steps) and isinstance(steps[0], Report)
    with override_settings(TRIGGER_35UP_PLACE_ON_INGEST=placed):
        result = ingest_order(demo_order.document, actor=Actor.system("seed_demo"))
    if result.outcome == IngestOutcome.REFUSED:
        report.refused.append(f"{result.reference}: {'; '.join(result.errors)}")
        return
    order = result.order
    if result.outcome == IngestOutcome.UNCHANGED:
        report.unchanged_orders += 1
        report.statuses.add(order.status)
        return
    _send_to_35up()
    for step in steps:
        order.refresh_from_db()
        if isinstance(step, Request):
            request_transition(
                order_id=order.pk,
                action=step.action,
                actor=Actor.staff(support_user),
                message=reason_message(step.action, step.reason, step.message),
            )
            _send_to_35up()
        elif step.status != order.status:
            # 35up moves the order on; the hub hears it by reading it back, as the sync does.
            sandbox_35up.advance_order(order.thirtyfiveup_id, step.status)
            sync_order(order)
            if step.status == S.FULFILLED:
                _ship(order, shipped_at=demo_order.ordered_at + timedelta(days=2))
    number = _demo_number(order)
    if number in NOTES:
        add_note(order_id=order.pk, author=support_user, body=NOTES[number])
    order.refresh_from_db()
    report.created_orders += 1
    report.statuses.add(order.status)


def _seed_return(reference, story, support_user, report):
    """One return of a demo order, requested by support and moved on as `story` tells; an
    order that has a return already (an earlier run's, or one made in the demo) is left alone,
    as is one 35up has moved past returning (a demo left running closes orders)."""
    order = Order.objects.filter(reference=reference).first()
    if order is None:
        return
    existing = order.returns.order_by("id").first()
    if existing is not None:
        report.unchanged_returns += 1
        report.return_statuses.add(existing.status)
        return
    if return_services.order_return_refusal(order):
        return
    lines = list(order.lines.order_by("id"))
    requested = [(line.pk, line.quantity) for line in lines] if story.whole_order else []
    return_request = return_services.request_return(
        order_id=order.pk,
        lines=requested or [(lines[0].pk, 1)],
        reason=story.reason,
        actor=Actor.staff(support_user),
    )
    _send_to_35up()
    for step in story.steps:
        return_request.refresh_from_db()
        if isinstance(step, Request):
            return_services.request_transition(
                return_id=return_request.pk,
                action=step.action,
                actor=Actor.staff(support_user),
                message=step.message,
            )
            _send_to_35up()
        elif step.status != return_request.status:
            # 35up moves the return on; the hub hears it by reading it back, as the sync does.
            sandbox_35up.advance_return(return_request.thirtyfiveup_id, step.status)
            sync_return(return_request)
    return_request.refresh_from_db()
    report.created_returns += 1
    report.return_statuses.add(return_request.status)


def _ship(order, *, shipped_at):
    """One parcel, or two when the order has three lines (the last line ships a day later)."""
    carrier, pattern = CARRIERS[order.shipping_country.code]
    lines = list(order.lines.all())
    parcels = [lines[:2], lines[2:]] if len(lines) == 3 else [lines]
    for parcel_number, parcel in enumerate(parcels):
        add_shipment(
            order_id=order.pk,
            tracking_number=pattern.format(_demo_number(order) * 10 + parcel_number),
            carrier_code=carrier,
            shipped_at=shipped_at + timedelta(days=parcel_number),
            lines=[(line.pk, line.quantity) for line in parcel],
            actor=Actor.system("seed_demo"),
        )


def _demo_number(order):
    return int(order.reference.removeprefix("DEMO-"))
