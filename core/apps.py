from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        # Imported once the app registry is ready: it uses django-axes, which reads the models.
        from core import signin

        signin.connect_signals()
