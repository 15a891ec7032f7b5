"""The support screens for returns: a thin door onto returns.services.

Returns are requested from the order page ("Request a return", `request_view` here) and change
status only through the transition service, which re-checks the user's permission and writes the
history; nothing on a return is edited in a form. 35up's own moves arrive through the sync.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from core.actors import Actor
from core.admin import ListParametersMixin
from core.errors import ActionError, PermissionRefused
from core.paginator import CappedCountPaginator
from orders.models import Order
from returns.forms import ReturnRequestForm, ReturnTransitionForm
from returns.models import Return, ReturnLine, ReturnStatus
from returns.selectors import lines_summary, return_timeline, search_returns
from returns.services import (
    REQUEST_PERMISSION,
    SHOP_ACTIONS,
    action_permissions,
    available_actions,
    order_return_refusal,
    request_return,
    request_transition,
    returnable_lines,
)


def return_status_badge(return_request):
    """The return's status as a coloured badge (returns/admin.css), flagged when unexpected."""
    badge = format_html(
        '<span class="order-status return-status--{}">{}</span>',
        return_request.status,
        return_request.get_status_display(),
    )
    if return_request.status_unexpected:
        return format_html(
            '{} <span class="order-status-unexpected" title="{}">&#9888; unexpected</span>',
            badge,
            "35up reported a move outside its documented graph: check the status history.",
        )
    return badge


def action_refusal(return_request, action, user):
    """Why `action` is not offered to `user` on this return now (for a link opened by hand)."""
    if not user.has_perm(action_permissions()[action]):
        return f"You do not have permission to {action.replace('_', ' ')}."
    return (
        f"Return #{return_request.pk} is {return_request.get_status_display().lower()}: "
        f'"{action_label(action)}" is not possible now.'
    )


def action_label(action):
    """The button label declared on the transition ("Cancel return")."""
    field = Return._meta.get_field("status")
    return next(t.custom["label"] for t in field.get_all_transitions(Return) if t.name == action)


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    fields = ["sku", "name", "quantity", "thirtyfiveup_item_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Returned lines"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="SKU")
    def sku(self, line):
        return line.order_line.sku

    @admin.display(description="Name")
    def name(self, line):
        return line.order_line.name


class ReturnChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The lines of the page's returns in one more query (the count does not read them).
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .prefetch_related(
                Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line"))
            )
        )


@admin.register(Return)
class ReturnAdmin(ListParametersMixin, admin.ModelAdmin):
    list_display = [
        "return_number",
        "order_reference",
        "customer",
        "status_badge",
        "thirtyfiveup_id",
        "lines_summary",
        "created_at",
        "age",
    ]
    list_display_links = ["return_number"]
    list_filter = ["status"]
    list_select_related = ["order"]
    # Documents the search; get_search_results runs it as index lookups (returns.selectors).
    search_fields = [
        "order__reference__exact",
        "thirtyfiveup_id__exact",
        "order__email__iexact",
        "order__last_name__iexact",
    ]
    search_help_text = (
        "Exact order reference or 35up return id, or a customer's full email or last name "
        "(any case)."
    )
    show_full_result_count = False
    paginator = CappedCountPaginator
    # Facet counts would run one unbounded COUNT per filter choice.
    show_facets = admin.ShowFacets.NEVER
    actions = None
    inlines = [ReturnLineInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "order_link",
                    "customer",
                    "status_badge",
                    "thirtyfiveup_id",
                    "thirtyfiveup_updated_at",
                    ("created_at", "updated_at"),
                ]
            },
        ),
        ("Request", {"fields": ["reason", "requested_by_display"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    class Media:
        css = {"all": ["orders/admin.css", "returns/admin.css"]}

    def get_changelist(self, request, **kwargs):
        return ReturnChangeList

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return search_returns(queryset, term), False

    # Returns are requested from the order page through the service, never added or deleted
    # here, and nothing on them is edited in a form: statuses move through the transitions.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Return", ordering="id")
    def return_number(self, return_request):
        return f"#{return_request.pk}"

    @admin.display(description="Order")
    def order_reference(self, return_request):
        return return_request.order.reference

    @admin.display(description="Order")
    def order_link(self, return_request):
        url = reverse("admin:orders_order_change", args=[return_request.order_id])
        return format_html('<a href="{}">{}</a>', url, return_request.order.reference)

    @admin.display(description="Customer")
    def customer(self, return_request):
        order = return_request.order
        return f"{order.customer_name} <{order.email}>" if order.email else order.customer_name

    @admin.display(description="Status", ordering="status")
    def status_badge(self, return_request):
        return return_status_badge(return_request)

    @admin.display(description="Lines")
    def lines_summary(self, return_request):
        return lines_summary(return_request.lines.all())

    @admin.display(description="Age")
    def age(self, return_request):
        return timesince(return_request.created_at, depth=1)

    @admin.display(description="Requested by")
    def requested_by_display(self, return_request):
        return return_request.requested_by_label or "-"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "request/<int:order_id>/",
                self.admin_site.admin_view(self.request_view),
                name="{}_{}_request".format(*info),
            ),
            path(
                "<path:object_id>/transition/<str:action>/",
                self.admin_site.admin_view(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["timeline"] = return_timeline(obj)
            context["has_view_delivery_permission"] = request.user.has_perm("outbox.view_delivery")
            context["transition_actions"] = sorted(
                available_actions(obj, request.user), key=lambda t: SHOP_ACTIONS.index(t.name)
            )
            context["transition_form"] = ReturnTransitionForm()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def transition_view(self, request, object_id, action):
        """Run one shop action (POST from the return page); cancelling asks to confirm first.

        The service re-checks the user's permission and the state: a forged POST is refused
        with its message, whatever the page offered.
        """
        if action not in SHOP_ACTIONS:
            raise Http404(f"'{action}' is not a return action.")
        return_request = self.get_object(request, unquote(object_id))
        if return_request is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, return_request):
            raise PermissionDenied
        change_url = reverse("admin:returns_return_change", args=[return_request.pk])
        transition = next(
            (t for t in available_actions(return_request, request.user) if t.name == action),
            None,
        )
        if request.method == "POST":
            form = ReturnTransitionForm(request.POST)
            message = form.cleaned_data["message"] if form.is_valid() else ""
            confirmed = "confirm" in request.POST
            if transition is None or not transition.custom.get("confirm") or confirmed:
                # Whatever the page offered, the service decides (permission, state).
                return self._request_transition(
                    request, return_request, action, message, change_url
                )
        else:
            form = ReturnTransitionForm()
            if transition is None:
                self.message_user(
                    request, action_refusal(return_request, action, request.user), messages.ERROR
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{transition.custom['label']}: return #{return_request.pk}?",
            "opts": self.opts,
            "return_request": return_request,
            "transition": transition,
            "target_status": ReturnStatus(transition.target).label,
            # A return 35up never accepted changes here only (integrations.subscribers).
            "tells_35up": return_request.status != ReturnStatus.NEW,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/returns/return/transition_confirm.html", context)

    def _request_transition(self, request, return_request, action, message, change_url):
        try:
            change = request_transition(
                return_id=return_request.pk,
                action=action,
                actor=Actor.staff(request.user),
                message=message,
            )
        except ActionError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            told = "35up is told" if change.from_status != ReturnStatus.NEW else "here only"
            self.message_user(
                request,
                f"Return #{return_request.pk} of {return_request.order.reference}: "
                f"{change.get_from_status_display()} -> {change.get_to_status_display()} "
                f"({told}).",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(change_url)

    def request_view(self, request, order_id):
        """The order's lines with what each may still return; a return of the quantities typed,
        requested through returns.services.request_return, whose rules answer on the form."""
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise Http404(f"Order {order_id} does not exist.")
        order_url = reverse("admin:orders_order_change", args=[order.pk])
        if request.method == "POST":
            form = ReturnRequestForm(request.POST, returnable=returnable_lines(order))
            if form.is_valid():
                try:
                    return_request = request_return(
                        order_id=order.pk,
                        lines=form.lines(),
                        reason=form.cleaned_data["reason"],
                        actor=Actor.staff(request.user),
                    )
                except PermissionRefused as error:
                    self.message_user(request, error.message, messages.ERROR)
                    return HttpResponseRedirect(order_url)
                except ActionError as error:
                    form.add_error(None, error.message)
                else:
                    self.message_user(
                        request,
                        f"Return #{return_request.pk} of order {order.reference} requested: "
                        f"{lines_summary(return_request.lines.select_related('order_line'))}. "
                        "It is sent to 35up; this page shows when 35up accepts it.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:returns_return_change", args=[return_request.pk])
                    )
        else:
            if not request.user.has_perm(REQUEST_PERMISSION):
                raise PermissionDenied
            form = ReturnRequestForm(returnable=returnable_lines(order))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Request a return of order {order.reference}",
            "opts": self.opts,
            "order_opts": Order._meta,
            "order": order,
            "order_url": order_url,
            "refusal": order_return_refusal(order),
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/returns/return/request_form.html", context)
