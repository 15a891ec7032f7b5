"""factory_boy factories shared by the whole suite."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from integrations.operations import PUSH_ORDER
from orders.models import Order, OrderLine, Shipment, ShipmentLine
from outbox import registry
from outbox.models import Delivery


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@shop.example")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def groups(self, create, names, **kwargs):
        if not create:
            return
        if names:
            self.groups.add(*[Group.objects.get(name=name) for name in names])
        # Also stores the password hash set above (skip_postgeneration_save leaves it unsaved).
        self.save()


class OrderFactory(factory.django.DjangoModelFactory):
    """An order in `new`; move it with orders.services or the `status` trait helpers in tests."""

    class Meta:
        model = Order

    reference = factory.Sequence(lambda n: f"ORD-{n:06d}")
    session = factory.Sequence(lambda n: f"session-{n}")
    first_name = "Jeffrey"
    last_name = factory.Sequence(lambda n: f"Bazos{n}")
    email = factory.LazyAttribute(lambda order: f"{order.last_name.lower()}@nile.example")
    phone = "001384859590"
    shipping_first_name = factory.SelfAttribute("first_name")
    shipping_last_name = factory.SelfAttribute("last_name")
    shipping_email = factory.SelfAttribute("email")
    shipping_phone = factory.SelfAttribute("phone")
    shipping_company = "Nile"
    shipping_street = "Monopoly Street"
    shipping_street_number = "66"
    shipping_extra = "Top Floor"
    shipping_city = "Seattle"
    shipping_postcode = "98121"
    shipping_state = "WA"
    shipping_country = "US"
    currency = "USD"
    language = "en"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"caseable/HC12PXX{n:06d}")
    name = "Hard case"
    quantity = 2
    unit_price = Decimal("29.99")
    config = factory.LazyFunction(lambda: {"size": "45", "color": "black"})


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    tracking_number = factory.Sequence(lambda n: f"1Z{n:010d}")
    carrier_code = "ups"


class ShipmentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipmentLine

    shipment = factory.SubFactory(ShipmentFactory)
    order_line = factory.SubFactory(OrderLineFactory)
    quantity = 1


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery about `subject` (an Order); a Sendcloud upsert unless told otherwise."""

    class Meta:
        model = Delivery

    class Params:
        subject = factory.SubFactory(OrderFactory)

    provider = "sendcloud"
    operation = PUSH_ORDER
    subject_type = factory.LazyAttribute(lambda delivery: delivery.subject._meta.label_lower)
    subject_id = factory.SelfAttribute("subject.pk")
    sequence_key = factory.LazyAttribute(
        lambda delivery: registry.sequence_key(
            delivery.provider, delivery.subject_type, delivery.subject_id
        )
    )
    # 35up calls build on each other (a PATCH needs the order its POST created).
    sequence_strict = factory.LazyAttribute(lambda delivery: delivery.provider == "35up")
    target = factory.SelfAttribute("subject.reference")
    created_by = "support"


def order_in_status(status, **kwargs):
    """An order with one line, moved to `status` through the provider entry point, as 35up would."""
    from orders.services import apply_reported_status

    order = OrderFactory(**kwargs)
    OrderLineFactory(order=order)
    if status != "new":
        apply_reported_status(order_id=order.pk, status=status)
        order.refresh_from_db()
    return order
