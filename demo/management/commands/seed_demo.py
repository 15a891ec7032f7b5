"""Demo users and orders for a fresh installation; running it again changes nothing."""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import scenario as demo


class Command(BaseCommand):
    help = (
        f"Create the demo users ({demo.ADMIN_USERNAME}, {demo.SUPPORT_USERNAME}) and "
        f"{demo.DEMO_ORDER_COUNT} demo orders (DEMO-0001...) in every order status. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--admin-url",
            default=demo.ADMIN_URL,
            help="Where the admin will be served, printed for the demo's users "
            "(make run passes its HOST and PORT).",
        )

    def handle(self, *args, verbosity, admin_url, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError(
                "seed_demo places the demo orders at the built-in sandbox: set SANDBOX_ENABLED."
            )
        if verbosity < 2:
            # One line per provider call is for operators, not for the demo's first screen.
            logging.getLogger("integrations").setLevel(logging.WARNING)
        report = demo.seed_demo()
        for username in report.created_users:
            self.stdout.write(f"Created user {username}.")
        if report.changed:
            self.stdout.write(
                f"{report.created_orders + report.unchanged_orders} demo orders "
                f"({len(report.statuses)} statuses): {report.created_orders} created, "
                f"{report.unchanged_orders} already present."
            )
        else:
            self.stdout.write(
                f"Demo data already present: nothing changed ({report.unchanged_orders} demo "
                f"orders, {len(report.statuses)} statuses)."
            )
        self.stdout.write(
            f"Admin: {admin_url}\n"
            f"  {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}  (superuser)\n"
            f"  {demo.SUPPORT_USERNAME} / {demo.SUPPORT_PASSWORD}  (support group: orders, "
            "no users or settings)\n"
            "These passwords are public demo values: never use them outside a local demo."
        )
        if report.refused:
            raise CommandError(
                "Demo orders refused (an order with the same reference but other content "
                "exists):\n  " + "\n  ".join(report.refused)
            )
