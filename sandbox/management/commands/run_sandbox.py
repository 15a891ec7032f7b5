"""Serve the fake providers on their own port, or move one fake 35up order on."""

from argparse import BooleanOptionalAction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import get_internal_wsgi_application

from core.nested import flatten_errors
from sandbox import faults, thirtyfiveup
from sandbox.endpoints import CONTROL_TOKEN_HEADER
from sandbox.models import SandboxFaults
from sandbox.server import BASE_URLS, sandbox_only, serve
from sandbox.validation import Refused

FAULT_OPTIONS = (
    "error_rate",
    "timeout_rate",
    "rate_limit_rate",
    "drop_rate",
    "latency_ms",
    "retry_after_seconds",
    "timeout_seconds",
    "seed",
    "ignore_list_filters",
    "omit_order_returns",
)


class Command(BaseCommand):
    help = (
        "Serve the fake 35up, Sendcloud, Shipup and Reevoo on their own port, optionally "
        "setting the fault configuration first; or, with --advance-order, move one fake 35up "
        "order on and exit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8020)
        rates = parser.add_argument_group("faults (stored; every process of the sandbox uses them)")
        for option in ("error_rate", "timeout_rate", "rate_limit_rate", "drop_rate"):
            rates.add_argument(
                f"--{option.replace('_', '-')}", type=float, help="probability per request, 0-1"
            )
        rates.add_argument("--latency-ms", type=int, help="added to every request")
        rates.add_argument("--retry-after-seconds", type=int, help="Retry-After of a 429")
        rates.add_argument("--timeout-seconds", type=float, help="wait of timeout and drop faults")
        rates.add_argument("--seed", type=int, help="seed of the fault draws (reproducible runs)")
        rates.add_argument(
            "--ignore-list-filters",
            action=BooleanOptionalAction,
            help="list endpoints keep only the filters the providers' documents promise",
        )
        rates.add_argument(
            "--omit-order-returns",
            action=BooleanOptionalAction,
            help="35up's order answers carry no `returns` (its documents do not promise them)",
        )
        rates.add_argument(
            "--no-faults", action="store_true", help="clear the fault configuration first"
        )
        parser.add_argument(
            "--advance-order",
            metavar="ID",
            help="move this 35up order one step on (or to --to) and exit",
        )
        parser.add_argument("--to", metavar="STATUS", help="the 35up status for --advance-order")

    def handle(self, *args, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The sandbox is disabled: SANDBOX_ENABLED is not set.")
        if options["advance_order"]:
            self._advance(options["advance_order"], options["to"])
            return
        self._configure_faults(options)
        application = sandbox_only(get_internal_wsgi_application())
        serve(
            options["host"],
            options["port"],
            application,
            on_bind=lambda port: self._announce(options["host"], port),
        )

    def _advance(self, order_id, status):
        try:
            order = thirtyfiveup.advance_order(order_id, status)
        except Refused as refusal:
            raise CommandError("; ".join(flatten_errors(refusal.errors))) from refusal
        self.stdout.write(f"35up order {order.public_id} is now {order.status}")

    def _configure_faults(self, options):
        changes = {name: options[name] for name in FAULT_OPTIONS if options[name] is not None}
        try:
            if options["no_faults"]:
                faults.reset_faults()
            if changes:
                faults.configure_faults(**changes)
        except ValidationError as exc:
            raise CommandError(exc.messages) from exc

    def _announce(self, host, port):
        root = f"http://{host}:{port}/sandbox"
        self.stdout.write(f"Sandbox serving the fake providers on {root}/ (Ctrl-C stops it)")
        self.stdout.write("Point the hub at it with:")
        for name, path in BASE_URLS:
            self.stdout.write(f"  {name}={root}/{path}")
        self.stdout.write(
            "It accepts the hub's configured credentials (THIRTYFIVEUP_USERNAME/PASSWORD, "
            "SENDCLOUD_PUBLIC_KEY/SECRET_KEY, SHIPUP_API_KEY, REEVOO_API_KEY/API_SECRET)."
        )
        config = SandboxFaults.load()
        shown = (
            *faults.RATE_FIELDS,
            "latency_ms",
            "seed",
            "ignore_list_filters",
            "omit_order_returns",
        )
        active = {name: getattr(config, name) for name in shown if getattr(config, name)}
        self.stdout.write(f"Faults: {active}" if active else "Faults: none")
        self.stdout.write(
            f"Control: {root}/_control/faults (staff session, or the header "
            f"{CONTROL_TOKEN_HEADER} with this install's SANDBOX_CONTROL_TOKEN)"
        )
