"""ISO code and SKU checks shared by the models' clean(), so admin, API and commands agree.
Code lists come from pycountry (ISO 3166, 4217, 639), never from lists of our own."""

import re

import pycountry
from django.core.exceptions import ValidationError

# Countries whose addresses need a state, as the ISO 3166-2 code without the country prefix.
COUNTRIES_REQUIRING_STATE = frozenset({"US", "CA", "AU"})
SKU_PATTERN = re.compile(r"^[^\s/]+/[^\s]+$")


def validate_currency(value):
    if not value or pycountry.currencies.get(alpha_3=value) is None or value != value.upper():
        raise ValidationError(
            "'%(value)s' is not an ISO 4217 currency code (e.g. EUR, USD, GBP).",
            code="invalid_currency",
            params={"value": value},
        )


def validate_country(value):
    if not value or len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(
            "'%(value)s' is not an ISO 3166-1 alpha-2 country code (e.g. US, DE, GB).",
            code="invalid_country",
            params={"value": value},
        )


def validate_language(value):
    if not value or len(value) != 2 or pycountry.languages.get(alpha_2=value.lower()) is None:
        raise ValidationError(
            "'%(value)s' is not an ISO 639-1 language code (e.g. en, de).",
            code="invalid_language",
            params={"value": value},
        )


def validate_sku(value):
    if not value or not value.strip():
        raise ValidationError("SKU must not be empty.", code="empty_sku")
    if not SKU_PATTERN.match(value):
        raise ValidationError(
            "'%(value)s' is not a SKU of the form vendor/code without spaces.",
            code="invalid_sku",
            params={"value": value},
        )


def subdivision_codes(country_code):
    """ISO 3166-2 subdivision codes of a country, without the country prefix (WA, QC, NSW)."""
    return {
        subdivision.code.split("-", 1)[1]
        for subdivision in pycountry.subdivisions.get(country_code=country_code) or []
    }


def validate_state(country_code, state):
    """Returns the error message for a state that does not fit the country, or None.
    Elsewhere the state is free text: 35up reads it only for US, CA and AU."""
    if country_code in COUNTRIES_REQUIRING_STATE:
        if not state:
            return f"A state is required for {country_code} addresses (ISO 3166-2 code, e.g. WA)."
        if state not in subdivision_codes(country_code):
            return (
                f"'{state}' is not an ISO 3166-2 subdivision of {country_code} "
                "(use the code without the country prefix, e.g. WA, QC, NSW)."
            )
    return None
