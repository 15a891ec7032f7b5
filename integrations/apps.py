from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Provider integrations"

    def ready(self):
        # Imported once the app registry is ready: these modules use the domain's models.
        from integrations import constraints, handlers, subscribers
        from orders import ingest

        handlers.register_all()
        subscribers.subscribe_all()
        ingest.register_sendable_check("providers", constraints.order_problems)
