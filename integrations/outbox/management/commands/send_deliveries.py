import time

from django.core.management.base import BaseCommand

from integrations.outbox import services


class Command(BaseCommand):
    help = (
        "Send the deliveries that are due: once, or in a loop (the demo's and a fallback worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sending until stopped.")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between rounds with --loop."
        )
        parser.add_argument(
            "--max-seconds", type=float, default=None, help="With --loop, stop after this long."
        )

    def handle(self, *args, loop, interval, max_seconds, **options):
        started = time.monotonic()
        while True:
            sent = services.drain()
            if sent or not loop:
                self.stdout.write(f"{sent} deliveries attempted.")
            if not loop or (max_seconds is not None and time.monotonic() - started >= max_seconds):
                return
            time.sleep(interval)
