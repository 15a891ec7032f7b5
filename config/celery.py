"""Celery: workers drain deliveries per provider; beat runs the sweep and the 35up sync.

Waiting between attempts is the Delivery row's business (next_attempt_at), not the broker's: the
sweep schedules a drain for whatever is due, so a lost message or a restarted worker only delays a
delivery.
"""

import os

from celery import Celery

# A worker or beat started without DJANGO_SETTINGS_MODULE runs production, never the demo.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("orderhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["outbox", "orders", "integrations"])


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    sender.add_periodic_task(
        settings.OUTBOX_SWEEP_SECONDS, sender.signature("outbox.sweep"), name="sweep deliveries"
    )
    sender.add_periodic_task(
        settings.SYNC_INTERVAL_SECONDS,
        sender.signature("integrations.sync_35up"),
        name="sync from 35up",
    )
    if settings.ANONYMISE_AFTER_DAYS:
        sender.add_periodic_task(
            24 * 3600,
            sender.signature("orders.anonymise_closed_orders"),
            name="anonymise closed orders",
        )
