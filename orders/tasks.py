"""Thin Celery tasks: load, call a service."""

import logging

from celery import shared_task
from django.conf import settings

from core.actors import Actor
from orders.privacy import anonymise_closed_orders

logger = logging.getLogger(__name__)


@shared_task(name="orders.anonymise_closed_orders", ignore_result=True)
def anonymise_closed_orders_task():
    """Beat runs this daily when ANONYMISE_AFTER_DAYS is set (config/celery.py)."""
    days = settings.ANONYMISE_AFTER_DAYS
    if not days:
        return
    report = anonymise_closed_orders(older_than_days=days, actor=Actor.system("anonymise_orders"))
    logger.info(
        "Anonymised %d orders closed more than %d days ago; %d held back.",
        report.anonymised,
        days,
        len(report.held),
    )
