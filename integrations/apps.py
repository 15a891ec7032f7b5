from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Provider integrations"

    def ready(self):
        # Imported once the app registry is ready: both modules use the domain's models.
        from integrations import handlers, subscribers

        handlers.register_all()
        subscribers.subscribe_all()
