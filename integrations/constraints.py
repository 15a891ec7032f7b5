"""What the providers' payloads can carry, checked when an order comes in, so that an order the
hub accepts can always be sent. Registered with `orders.ingest` in IntegrationsConfig.ready():
the orders layer cannot import this one, and the rules stay with the code that sends.

Every provider is checked, enabled or not: an order accepted today must still go out when a
provider is switched on later, and the same document must get the same answer on every install.
"""

from decimal import Decimal

from integrations.http import to_wire
from integrations.providers import Provider

# 35up (`qty`), Sendcloud and Shipup (`quantity`) take quantities as JSON integers; the specs give
# no bound. We send none past a signed 32-bit integer, the width of an integer column (our own
# OrderLine.quantity on PostgreSQL, the sandbox's) and of many providers' integer fields.
QUANTITY_PROVIDERS = (Provider.THIRTYFIVEUP, Provider.SENDCLOUD, Provider.SHIPUP)
PROVIDER_INTEGER_MAX = 2**31 - 1


def _names(providers):
    return ", ".join(Provider(provider).label for provider in providers)


def _sendcloud_amount(amount):
    """Why Sendcloud cannot be sent `amount` (None when it can). Sendcloud's prices are JSON
    numbers, encoded by `to_wire` as every payload is; it refuses what a float would round."""
    try:
        to_wire(amount)
    except ValueError:
        return (
            f"{amount} cannot be sent to Sendcloud, whose amounts are JSON numbers: it would be "
            f"rounded to {Decimal(repr(float(amount)))}."
        )
    return None


def order_problems(order, lines):
    """{path: [messages]} for the amounts of an unsaved order no provider could be sent: each
    line's quantity, each line's total (Sendcloud's `order_items[].total_price`) and the order's
    total (Sendcloud's `payment_details.total_price`)."""
    problems = {}
    for index, line in enumerate(lines):
        if line.quantity > PROVIDER_INTEGER_MAX:
            problems.setdefault(f"lines[{index}].quantity", []).append(
                f"{_names(QUANTITY_PROVIDERS)} take quantities up to {PROVIDER_INTEGER_MAX:,}."
            )
        elif message := _sendcloud_amount(line.total_price):
            problems.setdefault(f"lines[{index}]", []).append(f"The line's total {message}")
    if not problems and lines:
        total = sum((line.total_price for line in lines), Decimal(0))
        if message := _sendcloud_amount(total):
            problems.setdefault("lines", []).append(f"The order's total {message}")
    return problems
