"""Import orders from a JSON array in the ingest format (docs/ingest-format.md)."""

import logging
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor
from orders.ingest import (
    NO_REFERENCE,
    IngestOutcome,
    IngestParseError,
    ingest_order,
    parse_ingest_json,
)

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Import orders from FILE, a JSON array of orders in the ingest format ('-' reads standard "
        "input), at most INGEST_MAX_FILE_BYTES long. Each order is created, found unchanged, or "
        "refused with its reasons; valid orders are created even when others are refused. Exits "
        "non-zero when any order was refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to a JSON file, or '-' for standard input.")

    def handle(self, *args, file, **options):
        documents = self._read(file)
        actor = Actor.system("import_orders")
        counts = dict.fromkeys(
            (IngestOutcome.CREATED, IngestOutcome.UNCHANGED, IngestOutcome.REFUSED), 0
        )
        for position, document in enumerate(documents, start=1):
            try:
                result = ingest_order(document, actor=actor)
            except Exception as error:
                # A failure of the hub on one order (a lost database connection, a bug) is
                # reported on that order; the rest of the file goes on.
                logger.exception("import_orders: element %s failed", position)
                counts[IngestOutcome.REFUSED] += 1
                self.stdout.write(
                    f"refused element {position}: the hub failed on this order "
                    f"({type(error).__name__}); nothing of it was stored, the log has the details."
                )
                continue
            counts[result.outcome] += 1
            if result.outcome == IngestOutcome.REFUSED:
                label = result.reference
                if label == NO_REFERENCE:
                    label = f"element {position} {NO_REFERENCE}"
                self.stdout.write(f"refused {label}: {'; '.join(result.errors)}")
            else:
                self.stdout.write(f"{result.outcome} {result.reference}")
        self.stdout.write(", ".join(f"{count} {outcome}" for outcome, count in counts.items()))
        refused = counts[IngestOutcome.REFUSED]
        if refused:
            raise CommandError(f"{refused} of {len(documents)} orders refused (see above).")

    def _read(self, file):
        name = "standard input" if file == "-" else file
        # One byte past the limit is enough to know the file is too large.
        size = settings.INGEST_MAX_FILE_BYTES + 1
        try:
            if file == "-":
                raw = getattr(sys.stdin, "buffer", sys.stdin).read(size)
            else:
                with open(file, "rb") as handle:
                    raw = handle.read(size)
        except OSError as error:
            raise CommandError(f"Cannot read {name}: {error.strerror}.") from None
        try:
            return parse_ingest_json(raw, name=name)
        except IngestParseError as error:
            raise CommandError(f"{error} Nothing was imported.") from None
