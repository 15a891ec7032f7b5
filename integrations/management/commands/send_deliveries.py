import time

from django.core.management.base import BaseCommand

from integrations.sync import sync_from_35up
from outbox import services


class Command(BaseCommand):
    help = (
        "Send the deliveries that are due: once, or in a loop. The loop is the embedded "
        "default's worker (no broker): with --sync-every it also reads 35up, as beat would."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sending until stopped.")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between rounds with --loop."
        )
        parser.add_argument(
            "--sync-every",
            type=float,
            default=0,
            help="With --loop, read 35up this often (seconds; 0: never).",
        )
        parser.add_argument(
            "--max-seconds", type=float, default=None, help="With --loop, stop after this long."
        )

    def handle(self, *args, loop, interval, sync_every, max_seconds, **options):
        started = last_sync = time.monotonic()
        while True:
            sent = services.drain()
            if sent or not loop:
                self.stdout.write(f"{sent} deliveries attempted.")
            if loop and sync_every and time.monotonic() - last_sync >= sync_every:
                last_sync = time.monotonic()
                self.stdout.write(f"35up sync: {sync_from_35up().summary()}")
            if not loop or (max_seconds is not None and time.monotonic() - started >= max_seconds):
                return
            time.sleep(interval)
