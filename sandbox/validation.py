"""Small pieces the fake providers' validators share."""

import re
from datetime import datetime

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


class Refused(Exception):
    """A request the provider refuses: HTTP status plus the provider's error body details."""

    def __init__(self, status, errors):
        super().__init__(errors)
        self.status = status
        self.errors = errors


class NestedErrors:
    """Errors keyed by field, nested like the request; list positions become "0", "1", ..."""

    def __init__(self):
        self.tree = {}

    def add(self, path, message):
        node = self.tree
        for key in path[:-1]:
            node = node.setdefault(str(key), {})
        node.setdefault(str(path[-1]), message)

    def __bool__(self):
        return bool(self.tree)


def is_text(value):
    return isinstance(value, str) and bool(value.strip())


def is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_email(value):
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def is_country(value):
    return (
        isinstance(value, str)
        and re.fullmatch(r"[A-Z]{2}", value) is not None
        and pycountry.countries.get(alpha_2=value) is not None
    )


def is_subdivision(country, code):
    """ "WA" for "US": an ISO 3166-2 subdivision code without the country prefix."""
    return (
        isinstance(code, str)
        and re.fullmatch(r"[A-Z0-9]{1,3}", code) is not None
        and pycountry.subdivisions.get(code=f"{country}-{code}") is not None
    )


def is_currency(value):
    return (
        isinstance(value, str)
        and re.fullmatch(r"[A-Z]{3}", value) is not None
        and pycountry.currencies.get(alpha_3=value) is not None
    )


def is_aware_iso_datetime(value):
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None
