"""Money as people read it: always with its currency."""

from decimal import Decimal


def format_money(amount, currency):
    """ "1,234.50 EUR"; "-" when there is no amount (an order without lines)."""
    if amount is None:
        return "-"
    return f"{Decimal(amount):,.2f} {currency}"
