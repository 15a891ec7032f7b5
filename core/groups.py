"""Staff groups, created and filled by data migrations (each app grants its own permissions)."""

SUPPORT = "support"
INTEGRATION_ADMIN = "integration-admin"
# API clients that read orders, returns and deliveries and never change anything (api/).
API_READ = "api-read"


def grant_app_permissions(apps, schema_editor, *, app_label, group_names, exclude_codenames=()):
    """Give `group_names` every permission of `app_label` except `exclude_codenames`."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; data migrations need them now.
    app_config = apps.get_app_config(app_label)
    # A migration's app registry has no models module; create_permissions skips such apps.
    app_config.models_module = getattr(app_config, "models_module", None) or True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label=app_label).exclude(
        codename__in=exclude_codenames
    )
    for name in group_names:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def grant_view_permissions(apps, schema_editor, *, app_label, group_names):
    """Give `group_names` the view permission of every model of `app_label`, and nothing else."""
    # With no group, this only creates the app's permissions (data migrations run before Django
    # creates them).
    grant_app_permissions(apps, schema_editor, app_label=app_label, group_names=[])
    Group = apps.get_model("auth", "Group")
    views = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label=app_label, codename__startswith="view_"
    )
    for name in group_names:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*views)
