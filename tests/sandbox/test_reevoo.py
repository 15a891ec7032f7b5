"""The fake Reevoo: 202 with a request UUID, {status, message, errors[]} on a refusal."""

import copy
import uuid

import pytest

from sandbox import selectors

pytestmark = pytest.mark.django_db

PATH = "/organisations/ORDERHUB/customer_order"
# The spec's example, for our organisation and with customer_ref as the table spells it.
SUBMISSION = {
    "trkref": "ORDERHUB",
    "order_ref": "ABC123",
    "order_date": "10-12-2014",
    "fulfilment_date": "24-12-2014",
    "language": "en",
    "locale": "en-GB",
    "customer": {
        "email": "john@example.com",
        "customer_ref": "1122",
        "title": "MR",
        "first_name": "John",
        "country": "GB",
    },
    "order_items": [
        {
            "sku": "PROD1",
            "price": "55,99",
            "currency": "GBP",
            "metadata": {"field_1": "Value 1", "field_2": "Value 2"},
        },
        {"sku": "PROD2", "price": "10", "currency": "GBP"},
    ],
}


def submission(**changes):
    result = copy.deepcopy(SUBMISSION)
    result.update(changes)
    return result


def test_an_order_is_accepted_with_202_and_a_request_uuid(reevoo):
    response = reevoo.post(PATH, SUBMISSION)

    assert response.status_code == 202
    answer = response.json()
    assert answer["status"] == 202 and answer["message"] == "Accepted"
    assert uuid.UUID(answer["id"]).version == 4
    [stored] = selectors.reevoo_submissions("ABC123")
    assert str(stored.request_id) == answer["id"]


def test_every_submission_is_kept_with_its_own_uuid(reevoo):
    first = reevoo.post(PATH, SUBMISSION).json()["id"]
    second = reevoo.post(PATH, SUBMISSION).json()["id"]

    assert first != second
    assert selectors.reevoo_submissions("ABC123").count() == 2


def test_one_of_the_two_dates_is_enough(reevoo):
    only_fulfilled = submission()
    del only_fulfilled["order_date"]

    assert reevoo.post(PATH, only_fulfilled).status_code == 202


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"order_ref": "", "order_date": None, "fulfilment_date": None},
            [
                "order_ref: is mandatory",
                "order_date: is mandatory unless fulfilment_date is present",
            ],
        ),
        (
            {"order_date": "2014-12-10", "fulfilment_date": "31-02-2014"},
            [
                "order_date: must be a date as dd-mm-yyyy, e.g. 25-09-2021",
                "fulfilment_date: must be a date as dd-mm-yyyy, e.g. 25-09-2021",
            ],
        ),
        ({"customer": {"first_name": "John"}}, ["customer.email: is mandatory"]),
        (
            {
                "order_items": [
                    {"price": "55.99", "currency": "pounds", "metadata": {"Field-1": "x"}}
                ]
            },
            [
                "order_items[0].sku: is mandatory",
                "order_items[0].price: must be digits with a comma before the decimals, "
                'e.g. "55,99"',
                "order_items[0].currency: must be an ISO 4217 code",
                "order_items[0].metadata.Field-1: field names may contain only [a-z0-9_]",
            ],
        ),
        (
            {"trkref": "orderhub"},
            ["trkref: must be capital letters and digits, e.g. ABC or ABC-XYZ"],
        ),
        (
            {"trkref": "OTHER-ORG"},
            ["trkref: OTHER-ORG does not match the organisation ORDERHUB in the URL"],
        ),
    ],
)
def test_invalid_submissions_are_refused_with_readable_errors(reevoo, changes, errors):
    response = reevoo.post(PATH, submission(**changes))

    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": "Bad Request", "errors": errors}
    assert selectors.reevoo_submissions().count() == 0


def test_another_organisation_is_forbidden(reevoo):
    response = reevoo.post("/organisations/OTHER/customer_order", submission(trkref="OTHER"))

    assert response.status_code == 403
    assert response.json()["errors"] == [
        "not allowed to submit customer orders for organisation OTHER"
    ]


def test_wrong_credentials_are_refused_in_reevoos_shape(reevoo):
    response = reevoo.post(PATH, SUBMISSION, authorization="Basic c2FuZGJveC1rZXk6bm9wZQ==")

    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "message": "Unauthorized",
        "errors": ["Invalid or missing credentials"],
    }


def test_a_get_is_not_allowed(reevoo):
    response = reevoo.get(PATH)

    assert response.status_code == 405
    assert response.json()["status"] == 405
