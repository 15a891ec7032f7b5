"""Thin Celery tasks: load, call a service."""

from celery import shared_task

from outbox import services


@shared_task(name="outbox.send_delivery", ignore_result=True)
def send_delivery(delivery_id):
    services.send_delivery(delivery_id)


@shared_task(name="outbox.sweep", ignore_result=True)
def sweep():
    """Enqueue one send per due delivery; rows already claimed elsewhere are skipped."""
    services.expire_leases()
    for delivery_id in services.due_ids():
        send_delivery.delay(delivery_id)


@shared_task(name="outbox.sync", ignore_result=True)
def sync():
    from outbox.sync import sync_from_35up

    sync_from_35up()
