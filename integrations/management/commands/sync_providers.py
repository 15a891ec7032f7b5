from django.core.management.base import BaseCommand

from integrations.sync import sync_from_35up


class Command(BaseCommand):
    help = "Read open orders from 35up and apply their statuses; settle ambiguous placements."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Orders to read at most.")

    def handle(self, *args, limit, **options):
        report = sync_from_35up(limit=limit)
        self.stdout.write(report.summary())
        for error in report.errors:
            self.stderr.write(error)
