"""Ingest limits: what no door accepts (docs/ingest-format.md "Limits"), each refused with a clear
message and no traceback, one order at a time, the rest of a file going on."""

import io
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DataError, OperationalError, connection
from django.test import override_settings

from core.actors import Actor
from core.errors import PermissionRefused
from orders import ingest as ingest_module
from orders.ingest import (
    NO_REFERENCE,
    IngestOutcome,
    IngestParseError,
    ingest_order,
    limit_problems,
    parse_ingest_json,
    sendable_checks,
)
from orders.models import Order, OrderLine
from tests.factories import UserFactory
from tests.orders.test_commands import run
from tests.orders.test_ingest import ingest, ingest_document

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's own refusals"
)


def line(**changes):
    return {"sku": "caseable/HC12", "name": "Case", "quantity": 1, "unit_price": "9.99", **changes}


def refused_with(document):
    result = ingest(document)
    assert result.outcome == IngestOutcome.REFUSED
    assert not Order.objects.filter(reference=result.reference).exists()
    return result.field_errors


# --- Each probe of issue 11, refused with a clear message ---


def test_a_10_mb_config_value_is_refused():
    document = ingest_document("LIM-1", lines=[line(config={"engraving": "x" * (10 * MB)})])

    assert refused_with(document) == {
        "lines[0].config.engraving": [
            "Ensure this field has no more than 200 characters (it has 10,485,760)."
        ]
    }


def test_10000_config_keys_are_refused():
    config = {f"option{number}": "x" for number in range(10_000)}

    assert refused_with(ingest_document("LIM-2", lines=[line(config=config)])) == {
        "lines[0].config": ["Ensure this field has no more than 50 options (it has 10,000)."]
    }


def test_5000_lines_in_one_order_are_refused():
    document = ingest_document("LIM-3", lines=[line() for _ in range(5_000)])

    assert refused_with(document) == {
        "lines": ["Ensure this field has no more than 100 lines (it has 5,000)."]
    }


def test_a_quantity_of_10_to_the_12_is_refused():
    document = ingest_document("LIM-4", lines=[line(quantity=10**12)])

    assert refused_with(document) == {
        "lines[0].quantity": ["Ensure this value is less than or equal to 10000."]
    }


def test_nul_is_refused_in_keys_and_in_values_anywhere():
    document = ingest_document(
        "LIM-5",
        customer={"first_name": "Jeff\x00rey"},
        lines=[line(config={"col\x00or": "black", "size": "4\x005"})],
        unknown={"deep": ["fine", "not\x00fine"]},
    )

    assert refused_with(document) == {
        "customer.first_name": ["Text may not contain NUL characters (\\u0000)."],
        "lines[0].config": ["A key: Text may not contain NUL characters (\\u0000)."],
        "unknown.deep[1]": ["Text may not contain NUL characters (\\u0000)."],
    }


def test_nul_in_a_parsed_json_key_is_refused():
    raw = json.dumps([ingest_document("LIM-6", lines=[line(config={"a\u0000b": "x"})])])

    (document,) = parse_ingest_json(raw.encode())

    assert refused_with(document) == {
        "lines[0].config": ["A key: Text may not contain NUL characters (\\u0000)."]
    }


def test_an_unpaired_surrogate_is_refused():
    (document,) = parse_ingest_json('[{"reference": "LIM-7", "session": "\\ud800"}]')

    assert refused_with(document)["session"] == [
        "Text may not contain unpaired surrogates (\\ud800-\\udfff)."
    ]


def test_deep_nesting_inside_an_order_is_refused_without_recursion():
    nested = "x"
    for _ in range(900):
        nested = [nested]

    assert refused_with(ingest_document("LIM-8", unknown=nested)) == {
        "unknown" + "[0]" * 8: ["Nested more than 8 arrays or objects deep."]
    }


def test_a_5000_digit_number_refuses_its_order_only():
    raw = (
        '[{"reference": "LIM-9", "lines": [{"quantity": '
        + "9" * 5_000
        + "}]}, "
        + json.dumps(ingest_document("LIM-10"))
        + "]"
    )

    bad, good = parse_ingest_json(raw)

    assert refused_with(bad) == {
        "lines[0].quantity": ["A number of 5,000 digits; numbers may have at most 50 digits."]
    }
    assert ingest(good).outcome == IngestOutcome.CREATED


def test_long_strings_and_keys_anywhere_are_refused():
    document = ingest_document(
        "LIM-11", notes="n" * 1_001, extra={"k" * 101: "value"}, customer={"last_name": "b" * 2_000}
    )

    assert refused_with(document) == {
        "customer.last_name": [
            "Ensure this field has no more than 1,000 characters (it has 2,000)."
        ],
        "notes": ["Ensure this field has no more than 1,000 characters (it has 1,001)."],
        "extra": ["Keys may have at most 100 characters; one has 101."],
    }


def test_a_refused_order_with_an_unreadable_reference_is_named_by_none():
    result = ingest(ingest_document("R" * 100))

    assert result.reference == NO_REFERENCE
    assert result.field_errors["reference"] == ["Ensure this field has no more than 64 characters."]


def test_reported_problems_are_capped():
    document = ingest_document("LIM-12", junk=["\x00"] * 10_000)

    assert len(refused_with(document)) == ingest_module.REPORTED_LIMIT_PROBLEMS


def test_an_order_within_every_limit_is_created():
    document = ingest_document(
        "LIM-13",
        lines=[
            line(quantity=10_000, config={f"o{n}": "v" * 200 for n in range(50)})
            for _ in range(100)
        ],
    )

    assert limit_problems(document) == {}
    assert ingest(document).outcome == IngestOutcome.CREATED
    assert OrderLine.objects.filter(order__reference="LIM-13").count() == 100


# --- What the providers can carry ---


def test_the_providers_register_their_checks_at_start_up():
    assert set(sendable_checks()) == {"providers"}


def test_a_line_total_sendcloud_would_round_is_refused():
    document = ingest_document("LIM-20", lines=[line(quantity=9_999, unit_price="9999999999.99")])

    assert refused_with(document) == {
        "lines[0]": [
            "The line's total 99989999999900.01 cannot be sent to Sendcloud, whose amounts are "
            "JSON numbers: it would be rounded to 99989999999900.02."
        ]
    }


def test_an_order_total_sendcloud_would_round_is_refused():
    document = ingest_document(
        "LIM-21",
        lines=[line(quantity=9_000, unit_price="9999999999.99"), line(unit_price="0.01")],
    )

    assert refused_with(document) == {
        "lines": [
            "The order's total 89999999999910.01 cannot be sent to Sendcloud, whose amounts are "
            "JSON numbers: it would be rounded to 89999999999910.02."
        ]
    }


@override_settings(INGEST_MAX_LINE_QUANTITY=10**12)
def test_a_quantity_past_the_providers_integers_is_refused_whatever_the_setting():
    errors = refused_with(ingest_document("LIM-22", lines=[line(quantity=2**31, unit_price="1")]))

    # PostgreSQL's integer column adds Django's own range message; SQLite has none.
    assert (
        "35up, Sendcloud, Shipup take quantities up to 2,147,483,647."
        in (errors["lines[0].quantity"])
    )


def test_the_largest_amounts_within_the_limits_are_sent_as_they_are():
    document = ingest_document("LIM-23", lines=[line(quantity=10_000, unit_price="999999999.99")])

    result = ingest(document)

    assert result.outcome == IngestOutcome.CREATED
    assert result.order.lines.get().total_price == Decimal("9999999999900.00")


# --- The limits come from the settings ---


@override_settings(INGEST_MAX_LINES_PER_ORDER=2, INGEST_MAX_LINE_QUANTITY=5)
def test_the_line_limits_come_from_their_settings():
    assert refused_with(ingest_document("SET-1", lines=[line(), line(), line()])) == {
        "lines": ["Ensure this field has no more than 2 lines (it has 3)."]
    }
    assert refused_with(ingest_document("SET-2", lines=[line(quantity=6)])) == {
        "lines[0].quantity": ["Ensure this value is less than or equal to 5."]
    }
    assert ingest(ingest_document("SET-3", lines=[line(quantity=5), line()])).order


@override_settings(
    INGEST_MAX_CONFIG_KEYS=1,
    INGEST_MAX_CONFIG_VALUE_LENGTH=3,
    INGEST_MAX_KEY_LENGTH=20,
    INGEST_MAX_STRING_LENGTH=10,
    INGEST_MAX_DEPTH=3,
)
def test_the_size_limits_come_from_their_settings():
    assert limit_problems({"lines": [{"config": {"a": "b", "c": "d"}}]}) == {
        "lines[0].config": ["Ensure this field has no more than 1 options (it has 2)."]
    }
    assert limit_problems({"lines": [{"config": {"a": "long"}}]}) == {
        "lines[0].config.a": ["Ensure this field has no more than 3 characters (it has 4)."]
    }
    assert limit_problems({"notes": "x" * 11, "city": "x" * 10}) == {
        "notes": ["Ensure this field has no more than 10 characters (it has 11)."]
    }
    assert limit_problems({"x": {"k" * 21: 1, "k" * 20: 1}}) == {
        "x": ["Keys may have at most 20 characters; one has 21."]
    }
    # The order's lines, a line and its config are 3 deep: the format's own nesting.
    assert limit_problems({"lines": [{"config": {"a": "b"}}], "x": [[[[]]]]}) == {
        "x[0][0][0]": ["Nested more than 3 arrays or objects deep."]
    }


@override_settings(INGEST_MAX_FILE_BYTES=100)
def test_the_file_size_comes_from_its_setting():
    with pytest.raises(IngestParseError) as refused:
        parse_ingest_json(b"[" + b" " * 100 + b"]", name="orders.json")

    assert str(refused.value) == "orders.json is larger than the 100 bytes the import reads."
    assert parse_ingest_json(b"[" + b" " * 98 + b"]") == []


# --- Documents that cannot be read at all: one message, no traceback ---


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 100_000, "is nested too deeply to read"),
        (b'["caf\xe9"]', "is not UTF-8 text: invalid continuation byte at byte 5."),
        (b"[NaN]", "is not valid JSON: NaN is not a JSON value."),
        (b"[-Infinity]", "is not valid JSON: -Infinity is not a JSON value."),
        (b'[{"a": 1,]', "is not valid JSON: Expecting property name enclosed in double quotes"),
        (b'{"reference": "X"}', "must hold a JSON array of orders, not a JSON object."),
        (b"12", "must hold a JSON array of orders, not a JSON number."),
    ],
)
def test_an_unreadable_document_raises_one_clear_error(raw, message):
    with pytest.raises(IngestParseError) as refused:
        parse_ingest_json(raw, name="orders.json")

    assert str(refused.value).startswith(f"orders.json {message}")


def test_one_order_can_be_parsed_for_a_door_that_takes_one():
    assert parse_ingest_json('{"reference": "X"}', expect=dict) == {"reference": "X"}
    with pytest.raises(
        IngestParseError, match=r"must hold a JSON object \(one order\), not a JSON array"
    ):
        parse_ingest_json("[]", expect=dict)


def test_a_byte_order_mark_is_read_past():
    assert parse_ingest_json(b"\xef\xbb\xbf[]") == []


# --- A file of good and bad orders through the command ---


def test_the_command_imports_the_good_orders_among_refused_ones(tmp_path):
    path = tmp_path / "orders.json"
    documents = [
        ingest_document("MIX-1"),
        ingest_document("MIX-2", lines=[line(config={"a\u0000": "b"})]),
        ingest_document("MIX-3", lines=[line() for _ in range(5_000)]),
        ingest_document("MIX-4", lines=[line(quantity=10**12)]),
        ingest_document("MIX-5", lines=[line(config={"engraving": "x" * MB})]),
        ingest_document("MIX-6"),
    ]
    path.write_text(json.dumps(documents)[:-1] + ', {"reference": ' + "1" * 5_000 + "}]")

    out, error = run("import_orders", str(path))

    assert out.splitlines() == [
        "created MIX-1",
        "refused MIX-2: lines[0].config: A key: Text may not contain NUL characters (\\u0000).",
        "refused MIX-3: lines: Ensure this field has no more than 100 lines (it has 5,000).",
        "refused MIX-4: lines[0].quantity: Ensure this value is less than or equal to 10000.",
        "refused MIX-5: lines[0].config.engraving: Ensure this field has no more than 200 "
        "characters (it has 1,048,576).",
        "created MIX-6",
        "refused element 7 (no reference): reference: A number of 5,000 digits; numbers may "
        "have at most 50 digits.",
        "2 created, 0 unchanged, 5 refused",
    ]
    assert error == "5 of 7 orders refused (see above)."
    assert sorted(Order.objects.values_list("reference", flat=True)) == ["MIX-1", "MIX-6"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000, "is nested too deeply to read"),
        (b"\xff\xfe[\x00]\x00", "is not UTF-8 text: invalid start byte at byte 0."),
    ],
)
def test_the_command_names_an_unreadable_file_without_a_traceback(tmp_path, content, message):
    path = tmp_path / "orders.json"
    path.write_bytes(content)

    out, error = run("import_orders", str(path))

    assert out == ""
    assert error.startswith(f"{path} {message}")
    assert error.endswith("Nothing was imported.")


@override_settings(INGEST_MAX_FILE_BYTES=1_000)
def test_the_command_refuses_a_file_past_its_size_reading_no_further(tmp_path, monkeypatch):
    content = json.dumps([ingest_document(f"BIG-{n}") for n in range(10)]).encode()
    path = tmp_path / "orders.json"
    path.write_bytes(content)
    stdin = mock.Mock(buffer=io.BytesIO(content))
    monkeypatch.setattr("sys.stdin", stdin)

    from_file = run("import_orders", str(path))
    from_stdin = run("import_orders", "-")

    assert from_file == (
        "",
        f"{path} is larger than the 1,000 bytes the import reads. Nothing was imported.",
    )
    assert from_stdin == (
        "",
        "standard input is larger than the 1,000 bytes the import reads. Nothing was imported.",
    )
    assert stdin.buffer.tell() == 1_001 < len(content)
    assert not Order.objects.exists()


# --- A database refusing one order refuses that order alone ---


def test_a_database_error_on_one_order_refuses_it_and_the_rest_go_on(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([ingest_document(f"DB-{n}") for n in (1, 2, 3)]))
    bulk_create = OrderLine.objects.bulk_create

    def refuse_the_second(lines, *args, **kwargs):
        if lines[0].order.reference == "DB-2":
            raise DataError("value out of range")
        return bulk_create(lines, *args, **kwargs)

    with mock.patch.object(OrderLine.objects, "bulk_create", side_effect=refuse_the_second):
        out, error = run("import_orders", str(path))

    assert out.splitlines() == [
        "created DB-1",
        "refused DB-2: The database refused this order (DataError); nothing of it was stored. "
        "The server log has the details.",
        "created DB-3",
        "2 created, 0 unchanged, 1 refused",
    ]
    assert error == "1 of 3 orders refused (see above)."
    assert sorted(Order.objects.values_list("reference", flat=True)) == ["DB-1", "DB-3"]


def test_a_failure_of_the_hub_on_one_order_is_reported_and_the_file_goes_on(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([ingest_document(f"HUB-{n}") for n in (1, 2, 3)]))
    bulk_create = OrderLine.objects.bulk_create

    def fail_on_the_second(lines, *args, **kwargs):
        if lines[0].order.reference == "HUB-2":
            raise OperationalError("server closed the connection unexpectedly")
        return bulk_create(lines, *args, **kwargs)

    with mock.patch.object(OrderLine.objects, "bulk_create", side_effect=fail_on_the_second):
        out, error = run("import_orders", str(path))

    assert out.splitlines() == [
        "created HUB-1",
        "refused element 2: the hub failed on this order (OperationalError); nothing of it was "
        "stored, the log has the details.",
        "created HUB-3",
        "2 created, 0 unchanged, 1 refused",
    ]
    assert error == "1 of 3 orders refused (see above)."
    assert sorted(Order.objects.values_list("reference", flat=True)) == ["HUB-1", "HUB-3"]


def test_a_person_without_the_permission_to_add_orders_cannot_ingest():
    user = UserFactory(is_staff=True)
    with pytest.raises(PermissionRefused, match="permission to add orders"):
        ingest_order(ingest_document("NOPE-1"), actor=Actor.staff(user))
    assert not Order.objects.exists()


@on_postgresql
def test_postgresql_refusing_nul_refuses_that_order_only(monkeypatch):
    """The limits refuse NUL first; should one ever get past them, PostgreSQL's own refusal
    (text and jsonb keep no NUL) still refuses that order alone, within the caller's
    transaction."""
    monkeypatch.setattr(ingest_module, "limit_problems", lambda document: {})

    results = [
        ingest(ingest_document("PG-1", customer={"first_name": "Jeff\x00rey"})),
        ingest(ingest_document("PG-2", lines=[line(config={"a\u0000b": "x"})])),
        ingest(ingest_document("PG-3")),
    ]

    assert [result.outcome for result in results] == [
        IngestOutcome.REFUSED,
        IngestOutcome.REFUSED,
        IngestOutcome.CREATED,
    ]
    # Django's own validator on text fields, then PostgreSQL refusing the jsonb key.
    assert results[0].errors == ["customer.first_name: Null characters are not allowed."]
    assert results[1].errors == [
        "The database refused this order (DataError); nothing of it was stored. "
        "The server log has the details."
    ]
    assert list(Order.objects.values_list("reference", flat=True)) == ["PG-3"]
