from django.db import migrations

from core.groups import API_READ, grant_view_permissions

# API clients that only read: the view permissions of orders, returns and deliveries.
READ_APPS = ["orders", "returns", "outbox"]


def create_group(apps, schema_editor):
    for app_label in READ_APPS:
        grant_view_permissions(apps, schema_editor, app_label=app_label, group_names=[API_READ])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_staff_groups"),
        ("returns", "0002_staff_groups"),
        ("outbox", "0002_groups"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
