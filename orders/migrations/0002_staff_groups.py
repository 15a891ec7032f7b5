from django.db import migrations

from core.groups import INTEGRATION_ADMIN, SUPPORT, grant_app_permissions

# Support runs orders day to day; deleting an order is for integration admins only.
SUPPORT_EXCLUDED = [
    "delete_order",
    "delete_orderline",
    "delete_shipment",
    "delete_shipmentline",
    "delete_orderstatuschange",
    "add_orderstatuschange",
    "change_orderstatuschange",
    "delete_ordernote",
    "change_ordernote",
]


def create_groups(apps, schema_editor):
    grant_app_permissions(
        apps, schema_editor, app_label="orders", group_names=[INTEGRATION_ADMIN]
    )
    grant_app_permissions(
        apps,
        schema_editor,
        app_label="orders",
        group_names=[SUPPORT],
        exclude_codenames=SUPPORT_EXCLUDED,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
