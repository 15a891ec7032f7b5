"""Management commands: import_orders and seed_demo, as an operator runs them."""

import io
import json
from unittest import mock

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from orders.models import Order
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
