from django import template
from django.db.models import Count
from django.urls import reverse

from outbox.models import Delivery, DeliveryState

register = template.Library()


@register.inclusion_tag("outbox/delivery_alerts.html", takes_context=True)
def delivery_alerts(context):
    """Dead and ambiguous deliveries need a person: the admin index says how many there are."""
    request = context["request"]
    if not request.user.has_perm("outbox.view_delivery"):
        return {"alerts": []}
    counts = dict(
        Delivery.objects.filter(state__in=[DeliveryState.DEAD, DeliveryState.AMBIGUOUS])
        .values_list("state")
        .annotate(total=Count("id"))
    )
    url = reverse("admin:outbox_delivery_changelist")
    return {
        "alerts": [
            {
                "label": DeliveryState(state).label,
                "count": counts.get(state, 0),
                "url": f"{url}?state__exact={state}",
            }
            for state in (DeliveryState.DEAD, DeliveryState.AMBIGUOUS)
        ]
    }
