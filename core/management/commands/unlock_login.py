"""Let a person locked out after failed sign-ins try again at once (docs/runbook.md)."""

from django.core.management.base import BaseCommand

from core.signin import unlock


class Command(BaseCommand):
    help = "Forget the failed sign-ins of a username, from every address, so it can sign in again."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The username exactly as it was typed at sign-in.")

    def handle(self, *args, username, **options):
        count = unlock(username=username)
        if count:
            self.stdout.write(f"Unlocked {username!r}: {count} failed sign-in record(s) removed.")
        else:
            self.stdout.write(f"{username!r} had no failed sign-ins on record: nothing to unlock.")
