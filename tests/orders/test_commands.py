"""Management commands: import_orders and seed_demo, as an operator runs them."""

import io
import json
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command, execute_from_command_line

from integrations.outbox.models import Delivery
from orders.models import Order, OrderNote, OrderStatus, Shipment
from tests.orders.test_ingest import ingest_document

pytestmark = pytest.mark.django_db


def run(*args):
    """Run a command; returns (stdout, CommandError message or None)."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


@pytest.fixture
def mixed_documents():
    invalid = ingest_document("IMP-3", currency="ZZZ", customer={"email": "nope"})
    bad_lines = ingest_document(
        "IMP-4",
        shipping_address={"state": "NSW"},
        lines=[{"sku": "caseable/HC12 PXX", "name": "Case", "quantity": 1, "unit_price": "9.99"}],
    )
    return [
        ingest_document("IMP-1"),
        ingest_document("IMP-2", currency="EUR", shipping_address={"country": "DE", "state": None}),
        ingest_document("IMP-1"),
        invalid,
        bad_lines,
        ["not", "an", "order"],
    ]


EXPECTED_IMPORT_OUTPUT = [
    "created IMP-1",
    "created IMP-2",
    "unchanged IMP-1",
    "refused IMP-3: customer.email: Enter a valid email address.",
    "refused IMP-4: shipping_address.state: 'NSW' is not an ISO 3166-2 subdivision of US "
    "(use the code without the country prefix, e.g. WA, QC, NSW).; lines[0].sku: "
    "'caseable/HC12 PXX' is not a SKU of the form vendor/code without spaces.",
    "refused element 6 (no reference): non_field_errors: Invalid data. Expected a dictionary, "
    "but got list.",
    "2 created, 1 unchanged, 3 refused",
]


def test_import_from_a_file_reports_every_order(tmp_path, mixed_documents):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(mixed_documents), encoding="utf-8")

    out, error = run("import_orders", str(path))

    assert out.splitlines() == EXPECTED_IMPORT_OUTPUT
    assert error == "3 of 6 orders refused (see above)."
    assert sorted(Order.objects.values_list("reference", flat=True)) == ["IMP-1", "IMP-2"]
    imported = Order.objects.get(reference="IMP-2")
    assert (imported.currency, imported.shipping_country.code) == ("EUR", "DE")
    assert imported.history.get().actor_label == "import_orders"


def test_import_from_standard_input(monkeypatch, mixed_documents):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(mixed_documents)))

    out, error = run("import_orders", "-")

    assert out.splitlines() == EXPECTED_IMPORT_OUTPUT
    assert error == "3 of 6 orders refused (see above)."
    assert Order.objects.count() == 2


def test_import_of_valid_orders_succeeds_and_a_rerun_changes_nothing(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([ingest_document("IMP-1"), ingest_document("IMP-2")]))

    first, first_error = run("import_orders", str(path))
    second, second_error = run("import_orders", str(path))

    assert first.splitlines() == [
        "created IMP-1",
        "created IMP-2",
        "2 created, 0 unchanged, 0 refused",
    ]
    assert second.splitlines() == [
        "unchanged IMP-1",
        "unchanged IMP-2",
        "0 created, 2 unchanged, 0 refused",
    ]
    assert first_error is second_error is None
    assert Order.objects.count() == 2


def test_empty_array_imports_nothing(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text("[]")

    assert run("import_orders", str(path)) == ("0 created, 0 unchanged, 0 refused\n", None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '[{"reference": "IMP-1",\n  "currency": "USD"',
            "is not valid JSON: Expecting ',' delimiter at line 2, column 20. "
            "Nothing was imported.",
        ),
        ("", "is not valid JSON: Expecting value at line 1, column 1. Nothing was imported."),
        (
            '{"reference": "IMP-1"}',
            "must hold a JSON array of orders, not a JSON object. Nothing was imported.",
        ),
        ('"IMP-1"', "must hold a JSON array of orders, not a JSON string. Nothing was imported."),
    ],
)
def test_a_file_that_is_not_a_json_array_imports_nothing(tmp_path, content, message):
    path = tmp_path / "orders.json"
    path.write_text(content)

    out, error = run("import_orders", str(path))

    assert out == ""
    assert error == f"{path} {message}"
    assert not Order.objects.exists()


def test_bad_json_on_standard_input_is_named_as_such(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("[1,]"))

    out, error = run("import_orders", "-")

    assert out == ""
    assert error == (
        "standard input is not valid JSON: Expecting value at line 1, column 4. "
        "Nothing was imported."
    )


def test_missing_file_is_reported(tmp_path):
    path = tmp_path / "missing.json"

    out, error = run("import_orders", str(path))

    assert out == ""
    assert error == f"Cannot read {path}: No such file or directory."


def test_refused_orders_make_the_process_exit_non_zero(tmp_path, capsys):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([ingest_document("IMP-1"), ingest_document("IMP-2", lines=[])]))

    # The command line closes database connections when done; the test's transaction needs its own.
    with (
        mock.patch("django.core.management.base.connections.close_all"),
        pytest.raises(SystemExit) as exit_info,
    ):
        execute_from_command_line(["manage.py", "import_orders", str(path)])

    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "created IMP-1",
        "refused IMP-2: lines: Ensure this field has at least 1 elements.",
        "1 created, 0 unchanged, 1 refused",
    ]
    assert "1 of 2 orders refused" in captured.err
    assert Order.objects.filter(reference="IMP-1").exists()


# seed_demo


def test_seed_demo_creates_users_and_orders_in_every_status_and_country(client):
    out, error = run("seed_demo")

    assert error is None
    assert "Created user admin." in out
    assert "Created user support." in out
    assert "50 demo orders (9 statuses): 50 created, 0 already present." in out
    assert "http://127.0.0.1:8000/admin/" in out
    assert "admin / orderhub-demo" in out
    assert "support / orderhub-support" in out

    orders = Order.objects.filter(reference__startswith="DEMO-")
    assert orders.count() == 50
    assert set(orders.values_list("status", flat=True)) == set(OrderStatus.values)
    assert {"US", "DE", "NL", "FR", "GB", "CA", "AU"} <= set(
        orders.values_list("shipping_country", flat=True)
    )
    assert {"USD", "EUR", "GBP"} <= set(orders.values_list("currency", flat=True))
    assert {"en", "de", "nl", "fr"} <= set(orders.values_list("language", flat=True))
    assert orders.get(shipping_country="CA", reference="DEMO-0037").shipping_state == "QC"
    assert set(orders.filter(shipping_country="AU").values_list("shipping_state", flat=True)) == {
        "NSW"
    }
    assert not orders.exclude(thirtyfiveup_id=None).exists()
    assert not Delivery.objects.exists(), "made-up demo history must not reach the providers"
    assert all(1 <= order.lines.count() <= 3 for order in orders)
    assert OrderNote.objects.count() >= 2

    shipped = orders.filter(status__in=["fulfilled", "delivered"])
    assert shipped.exists()
    assert all(order.shipments.exists() for order in shipped)
    assert not Shipment.objects.filter(order__status__in=["new", "pending", "approved"]).exists()
    assert all(shipment.carrier_code for shipment in Shipment.objects.all())

    User = get_user_model()
    admin, support = User.objects.get(username="admin"), User.objects.get(username="support")
    assert admin.is_superuser and admin.is_staff
    assert support.is_staff and not support.is_superuser
    assert list(support.groups.values_list("name", flat=True)) == ["support"]
    assert client.login(username="admin", password="orderhub-demo")
    assert client.login(username="support", password="orderhub-support")
    assert client.get("/admin/").status_code == 200


def test_seed_demo_orders_have_real_history():
    run("seed_demo")

    delivered = Order.objects.filter(reference__startswith="DEMO-", status="delivered").first()
    steps = list(delivered.history.values_list("from_status", "to_status", "source"))
    assert steps[0] == ("new", "new", "system")
    assert steps[-1] == ("fulfilled", "delivered", "provider")
    times = list(delivered.history.values_list("created_at", flat=True))
    assert times == sorted(times)
    assert times[0] == delivered.ordered_at
    assert not delivered.history.filter(unexpected=True).exists()


def test_seed_demo_twice_changes_nothing():
    run("seed_demo")
    counts = (Order.objects.count(), Shipment.objects.count(), OrderNote.objects.count())
    statuses = dict(Order.objects.values_list("reference", "status"))

    out, error = run("seed_demo")

    assert error is None
    assert "Demo data already present: nothing changed (50 demo orders, 9 statuses)." in out
    assert "Created user" not in out
    assert "admin / orderhub-demo" in out
    assert (Order.objects.count(), Shipment.objects.count(), OrderNote.objects.count()) == counts
    assert dict(Order.objects.values_list("reference", "status")) == statuses
    assert get_user_model().objects.filter(username__in=["admin", "support"]).count() == 2


def test_seed_demo_keeps_an_existing_admin_password():
    get_user_model().objects.create_superuser("admin", "ops@shop.example", "changed-by-ops-1")

    out, _ = run("seed_demo")

    assert "Created user admin." not in out
    assert get_user_model().objects.get(username="admin").check_password("changed-by-ops-1")
