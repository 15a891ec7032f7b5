from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        # An order with an open return keeps its customer's data (orders.privacy).
        from orders.privacy import register_hold
        from returns.privacy import open_returns

        register_hold(open_returns)
