"""Staff groups created by the migrations: what support and integration admins may do."""

import pytest
from django.contrib.auth.models import Group

from core.groups import INTEGRATION_ADMIN, SUPPORT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def codenames(group_name, app_label):
    return set(
        Group.objects.get(name=group_name)
        .permissions.filter(content_type__app_label=app_label)
        .values_list("codename", flat=True)
    )


def test_both_groups_exist_after_migrations():
    assert set(
        Group.objects.filter(name__in=[SUPPORT, INTEGRATION_ADMIN]).values_list("name", flat=True)
    ) == {"support", "integration-admin"}


def test_support_runs_orders():
    granted = codenames(SUPPORT, "orders")

    assert {
        "approve_order",
        "hold_order",
        "cancel_order",
        "view_order",
        "change_order",
        "export_order",
        "add_ordernote",
        "view_ordernote",
        "add_shipment",
        "view_orderstatuschange",
    } <= granted


def test_support_cannot_delete_orders_or_rewrite_history():
    granted = codenames(SUPPORT, "orders")

    assert not granted & {
        "delete_order",
        "delete_orderline",
        "add_orderstatuschange",
        "change_orderstatuschange",
        "delete_orderstatuschange",
        "change_ordernote",
        "delete_ordernote",
    }


def test_support_has_no_user_or_group_permissions():
    assert codenames(SUPPORT, "auth") == set()


def test_integration_admin_may_delete_orders():
    granted = codenames(INTEGRATION_ADMIN, "orders")

    assert {"delete_order", "approve_order", "hold_order", "cancel_order", "view_order"} <= granted


def test_support_user_holds_the_order_action_permissions():
    user = UserFactory(groups=[SUPPORT])

    assert user.has_perms(["orders.approve_order", "orders.hold_order", "orders.cancel_order"])
    assert not user.has_perm("orders.delete_order")
    assert not user.has_perm("auth.change_user")
    assert not user.has_perm("auth.add_group")


def test_staff_user_outside_the_groups_holds_nothing():
    user = UserFactory(is_staff=True)

    assert not user.has_perm("orders.approve_order")
    assert not user.has_perm("orders.view_order")
