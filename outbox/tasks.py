"""Thin Celery tasks: load, call a service."""

from celery import shared_task

from outbox import services


@shared_task(name="outbox.drain_provider", ignore_result=True)
def drain_provider(provider):
    services.drain_provider(provider)


@shared_task(name="outbox.sweep", ignore_result=True)
def sweep():
    """Schedule one drain per provider with something due; a drain already scheduled is not
    scheduled again, and deliveries are never queued one task each."""
    services.expire_leases()
    for provider in services.providers_with_due():
        services.schedule_drain(provider)
