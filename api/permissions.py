"""Who may use the API: signed-in users with the admin groups' permissions (core.groups).

Reading needs the model's view permission (the `api-read` group has only those); every write is
checked again by the service it calls, with the same permission the admin asks for.
"""

from rest_framework.permissions import BasePermission


def view_permission(model):
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


class CanViewModel(BasePermission):
    """Signed in and allowed to view the model of the view's queryset."""

    message = "You do not have permission to read these records."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.has_perm(view_permission(view.queryset.model))
