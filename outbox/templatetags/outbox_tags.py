from django import template
from django.urls import reverse

from outbox.selectors import SITUATIONS, needs_a_person_counts

register = template.Library()


@register.inclusion_tag("outbox/delivery_alerts.html", takes_context=True)
def delivery_alerts(context):
    """The admin index's counts of deliveries that need a person, by what happened to them:
    refused, not sent, failed in the hub, dead, ambiguous. One grouped query."""
    if not context["request"].user.has_perm("outbox.view_delivery"):
        return {"alerts": []}
    url = reverse("admin:outbox_delivery_changelist")
    return {
        "alerts": [
            {
                "label": f"Deliveries: {SITUATIONS[situation][0]}",
                "count": count,
                "url": f"{url}?situation={situation}",
                "id": f"deliveries-{situation}",
            }
            for situation, count in needs_a_person_counts().items()
        ]
    }
