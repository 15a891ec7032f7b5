"""The OpenAPI schema describes every endpoint, parameter, error and example of the API."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from tests.factories import order_in_status

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_schema_is_valid_openapi(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/orders/",
        "/api/v1/orders/{id}/",
        "/api/v1/orders/by-reference/{reference}/",
        "/api/v1/orders/{id}/transitions/",
        "/api/v1/orders/{id}/shipments/",
        "/api/v1/orders/{id}/returns/",
        "/api/v1/returns/",
        "/api/v1/returns/{id}/",
        "/api/v1/returns/{id}/status/",
        "/api/v1/deliveries/",
        "/api/v1/deliveries/{id}/",
    }


def test_every_operation_has_a_summary_and_its_errors(schema):
    for path, method, operation in operations(schema):
        assert operation.get("summary"), (path, method)
        codes = set(operation["responses"])
        assert {"400", "401", "403", "429"} <= codes, (path, method, codes)
        if "{" in path:
            assert "404" in codes, (path, method)
        if method == "post":
            assert "415" in codes, (path, method)
        for code, response in operation["responses"].items():
            assert response.get("description"), (path, method, code)
            if code.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (path, method, code)


def test_every_operation_has_a_summary_of_its_own(schema):
    summaries = [operation["summary"] for _, _, operation in operations(schema)]
    assert len(summaries) == len(set(summaries))
    path = "/api/v1/orders/by-reference/{reference}/"
    assert schema["paths"][path]["get"]["summary"] == "Read an order by reference"


def test_every_query_parameter_is_described(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert parameter.get("description"), (path, method, parameter["name"])


def test_the_order_list_offers_every_filter(schema):
    names = {p["name"] for p in schema["paths"]["/api/v1/orders/"]["get"]["parameters"]}
    assert names >= {
        "status",
        "reference",
        "country",
        "updated_since",
        "created_after",
        "created_before",
        "sync_state",
        "has_dead_or_ambiguous",
        "cursor",
        "page_size",
        "ordering",
    }


def test_writes_carry_examples_and_refused_transitions_their_allowed_list(schema):
    ingest = schema["paths"]["/api/v1/orders/"]["post"]
    assert ingest["requestBody"]["content"]["application/json"]["examples"]
    assert {"200", "201", "409", "413"} <= set(ingest["responses"])
    transition = schema["paths"]["/api/v1/orders/{id}/transitions/"]["post"]
    example = transition["responses"]["409"]["content"]["application/json"]["examples"]
    assert next(iter(example.values()))["value"]["allowed"] == ["hold", "cancel"]
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "field_errors"}


def test_every_field_of_the_order_is_in_the_schema(schema, api):
    order = order_in_status("pending")
    body = api.get(f"/api/v1/orders/{order.pk}/").json()
    properties = schema["components"]["schemas"]["Order"]["properties"]
    assert set(body) == set(properties)


def test_every_property_of_every_component_is_described(schema):
    missing = [
        f"{name}.{prop}"
        for name, component in schema["components"]["schemas"].items()
        for prop, spec in component.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert missing == []
