from django.apps import AppConfig
from django.db.backends.signals import connection_created

from core.search import register_sqlite_fold


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        # The order search folds case and accents in SQL (core.search); SQLite needs the function.
        connection_created.connect(register_sqlite_fold, dispatch_uid="orderhub_sqlite_fold")
