"""Replace the personal data of orders closed long ago (orders.privacy; docs/runbook.md)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor
from core.errors import ActionError
from orders.privacy import anonymise_closed_orders


class Command(BaseCommand):
    help = (
        "Replace names, email, phone and address of orders closed or cancelled more than DAYS "
        "days ago; numbers, lines and history stay. Orders with an open return or an unsettled "
        "delivery are held back and listed with the reason. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument(
            "--user", help="Your username, recorded in each order's history (default: system)."
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, older_than, user, batch_size, **options):
        actor = Actor.system("anonymise_orders")
        if user:
            try:
                actor = Actor.staff(get_user_model().objects.get_by_natural_key(user))
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None

        def progress(report):
            self.stdout.write(
                f"Batch {report.batches}: {report.anonymised:,} anonymised, "
                f"{len(report.held):,} held back so far."
            )

        try:
            report = anonymise_closed_orders(
                older_than_days=older_than, actor=actor, batch_size=batch_size, progress=progress
            )
        except ActionError as error:
            raise CommandError(error.message) from None
        for reference, reason in report.held:
            self.stdout.write(f"{reference}: held back: {reason}")
        self.stdout.write(
            f"Done: {report.anonymised:,} orders anonymised, {len(report.held):,} held back."
        )
