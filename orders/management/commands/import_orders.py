"""Import orders from a JSON array in the ingest format (docs/ingest-format.md)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor
from orders.ingest import IngestOutcome, ingest_order

NO_REFERENCE = "(no reference)"


class Command(BaseCommand):
    help = (
        "Import orders from FILE, a JSON array of orders in the ingest format ('-' reads standard "
        "input). Each order is created, found unchanged, or refused with its reasons; valid orders "
        "are created even when others are refused. Exits non-zero when any order was refused."
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
            result = ingest_order(document, actor=actor)
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
        try:
            if file == "-":
                documents = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    documents = json.load(handle)
        except OSError as error:
            raise CommandError(f"Cannot read {name}: {error.strerror}.") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{name} is not UTF-8 text: {error.reason}.") from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{name} is not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}. Nothing was imported."
            ) from None
        if not isinstance(documents, list):
            raise CommandError(
                f"{name} must hold a JSON array of orders, not a JSON {_json_type(documents)}. "
                "Nothing was imported."
            )
        return documents


def _json_type(value):
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
