from django.db import migrations

from core.groups import INTEGRATION_ADMIN, SUPPORT, grant_app_permissions

# Support runs returns day to day: request them and set the statuses the shop is responsible
# for; history and deleting are not theirs to edit.
SUPPORT_EXCLUDED = [
    "delete_return",
    "delete_returnline",
    "delete_returnstatuschange",
    "add_returnstatuschange",
    "change_returnstatuschange",
]


def grant(apps, schema_editor):
    grant_app_permissions(apps, schema_editor, app_label="returns", group_names=[INTEGRATION_ADMIN])
    grant_app_permissions(
        apps,
        schema_editor,
        app_label="returns",
        group_names=[SUPPORT],
        exclude_codenames=SUPPORT_EXCLUDED,
    )


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial"), ("orders", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
