from django.db import migrations

from core.groups import INTEGRATION_ADMIN, SUPPORT, grant_app_permissions


def grant(apps, schema_editor):
    grant_app_permissions(apps, schema_editor, app_label="outbox", group_names=[INTEGRATION_ADMIN])
    # Support staff see deliveries and may retry them; they cannot edit or delete them.
    grant_app_permissions(
        apps,
        schema_editor,
        app_label="outbox",
        group_names=[SUPPORT],
        exclude_codenames=["add_delivery", "change_delivery", "delete_delivery"],
    )


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial"), ("orders", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
