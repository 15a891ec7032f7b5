"""Thin Celery tasks: load, call a service."""

from celery import shared_task

from integrations.sync import sync_from_35up


@shared_task(name="integrations.sync_35up", ignore_result=True)
def sync_35up():
    sync_from_35up()
