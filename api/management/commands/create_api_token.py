"""Print the API token of a user, creating it when the user has none (or a new one, --rotate)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = (
        "Print the API token of USERNAME (created if missing). The token acts with the user's "
        "permissions: put API clients in the api-read group to let them read only."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the user's token: the old one stops working at once.",
        )

    def handle(self, *args, username, rotate, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"No user {username!r}: create it first (manage.py createsuperuser "
                "or the admin's Users page)."
            )
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: its token would be refused.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
