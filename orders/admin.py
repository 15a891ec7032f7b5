"""The support screens for orders: a thin door onto orders.services.

Order data is read-only here: orders come in through ingest, statuses change only through the
transition services (which re-check permissions and write the history), and notes are added with
orders.services.add_note.
"""

from datetime import UTC

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.actors import Actor
from core.admin import ListParametersMixin
from core.errors import ActionError, Conflict, PermissionRefused, TransitionRefused
from core.money import format_money
from core.paginator import CappedCountPaginator
from integrations.providers import Provider, disabled_providers
from integrations.selectors import provider_syncs, refused_shop_actions
from integrations.services import (
    MANUAL_PUSH_OPERATIONS,
    PUSH_PERMISSION,
    push_order_to_provider,
    push_refusal,
)
from orders.forms import PushProviderForm, TransitionForm
from orders.models import Order, OrderLine, OrderNote, OrderStatus, Shipment, ShipmentLine
from orders.selectors import (
    countries_present,
    is_held,
    order_csv_lines,
    order_ids_needing_a_person,
    order_notes,
    order_timeline,
    search_orders,
    with_list_columns,
)
from orders.services import (
    ACKNOWLEDGE_PERMISSION,
    ACTION_PAST,
    SHOP_ACTIONS,
    acknowledge_delivery_failure,
    acknowledge_unexpected_status,
    action_permissions,
    add_note,
    available_actions,
    bulk_request_transition,
    request_transition,
)
from outbox import registry
from outbox.selectors import pending_count

# Each order of a bulk action runs its own transaction; past this a request would run for minutes.
MAX_BULK_ORDERS = 500

# What cancelling does, by the status it starts from: staff must know before they confirm.
ASK_35UP_TO_CANCEL = (
    "35up is asked to cancel the order. It stays pending cancellation until 35up confirms, "
    "and may still be dispatched if 35up has already started."
)
CANCEL_CONSEQUENCES = {
    OrderStatus.NEW: "The order has not been placed at 35up: it is cancelled here and never sent.",
    OrderStatus.PENDING: "The order is cancelled at once and 35up is told to cancel it.",
    OrderStatus.APPROVED: ASK_35UP_TO_CANCEL,
    OrderStatus.PROCESSING: ASK_35UP_TO_CANCEL,
}
BULK_CANCEL_WARNING = (
    "Cancelling cannot be undone. New and pending orders are cancelled at once; approved and "
    "processing orders are sent to 35up for cancellation and stay pending cancellation until 35up "
    "confirms."
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "sku",
        "name",
        "quantity",
        "price",
        "line_total",
        "config",
        "thirtyfiveup_item_id",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The currency is the order's: one join, not a query per line.
        return super().get_queryset(request).select_related("order")

    @admin.display(description="Unit price")
    def price(self, line):
        return format_money(line.unit_price, line.order.currency)

    @admin.display(description="Total")
    def line_total(self, line):
        return format_money(line.total_price, line.order.currency)


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ["tracking_number", "carrier_code", "shipped_at", "contents"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line"))
            )
        )

    @admin.display(description="Contents (quantity x SKU)")
    def contents(self, shipment):
        return ", ".join(
            f"{line.quantity} x {line.order_line.sku} ({line.order_line.name})"
            for line in shipment.lines.all()
        )


class OrderNoteInline(admin.TabularInline):
    """An empty row to add a note through orders.services.add_note; the notes written so far are
    in the timeline, with who wrote them and when."""

    model = OrderNote
    fields = ["body"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}
    extra = 1
    can_delete = False
    verbose_name = "internal note"
    verbose_name_plural = "Add an internal note (staff only, never sent to providers)"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False


class NeedsAPersonFilter(admin.SimpleListFilter):
    """Orders with a delivery that needs a person or a status 35up moved unexpectedly."""

    title = "needs a person"
    parameter_name = "needs_person"

    def lookups(self, request, model_admin):
        return [("yes", "Needs a person")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=order_ids_needing_a_person())
        return queryset


class CountryFilter(admin.SimpleListFilter):
    """The shipping countries that orders have, not all 250."""

    title = "shipping country"
    parameter_name = "shipping_country__exact"

    def lookups(self, request, model_admin):
        return [(country.code, country.name) for country in countries_present()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(shipping_country=self.value())
        return queryset


class ImportedDateFilter(admin.DateFieldListFilter):
    """`created_at` is when the hub received the order, not when the customer ordered."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "imported"


class OrderChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # Computed for the page shown only: the capped count never runs the subqueries, and
        # the rows an OFFSET skips (page 100 skips 9,900) are not computed either.
        page = self.result_list
        self.result_list = with_list_columns(
            Order.objects.filter(pk__in=page.values("pk")).order_by(*page.query.order_by)
        )


@admin.register(Order)
class OrderAdmin(ListParametersMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "customer",
        "status_badge",
        "ordered",
        "country",
        "total",
        "thirtyfiveup_id",
    ]
    list_filter = [
        NeedsAPersonFilter,
        "status",
        CountryFilter,
        ("created_at", ImportedDateFilter),
    ]
    # The search itself is orders.selectors.search_orders (get_search_results); a non-empty
    # search_fields only makes the admin show the search box.
    search_fields = ["reference"]
    search_help_text = (
        "Any part of a reference or 35up id, a customer's first or last name or both, or part "
        "of an email; any case, accents optional."
    )
    show_full_result_count = False
    paginator = CappedCountPaginator
    # Facet counts would run one unbounded COUNT per filter choice.
    show_facets = admin.ShowFacets.NEVER
    actions = ["approve_orders", "hold_orders", "cancel_orders", "push_orders"]
    inlines = [OrderLineInline, ShipmentInline, OrderNoteInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "status_badge",
                    "thirtyfiveup_id",
                    "thirtyfiveup_updated_at",
                    "ordered_at",
                    ("created_at", "updated_at"),
                    ("currency", "language"),
                    "session",
                ]
            },
        ),
        ("Customer", {"fields": [("first_name", "last_name"), "email", "phone"]}),
        (
            "Shipping address",
            {
                "fields": [
                    ("shipping_first_name", "shipping_last_name"),
                    ("shipping_email", "shipping_phone"),
                    "shipping_company",
                    ("shipping_street", "shipping_street_number"),
                    "shipping_extra",
                    ("shipping_postcode", "shipping_city"),
                    ("shipping_state", "shipping_country"),
                ]
            },
        ),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    class Media:
        css = {"all": ["orders/admin.css"]}

    @admin.display(description="Customer", ordering="last_name")
    def customer(self, order):
        return order.customer_name

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    @admin.display(description="Ordered (UTC)", ordering="ordered_at")
    def ordered(self, order):
        return f"{order.ordered_at.astimezone(UTC):%Y-%m-%d %H:%M}"

    @admin.display(description="Country", ordering="shipping_country")
    def country(self, order):
        return format_html(
            '<span title="{}">{}</span>', order.shipping_country.name, order.shipping_country.code
        )

    @admin.display(description="Total")
    def total(self, order):
        return format_money(getattr(order, "lines_total", None), order.currency)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, order):
        if is_held(order, getattr(order, "last_from_status", None)):
            badge = format_html(
                '<span class="order-status order-status--held" title="{}">{}</span>',
                "Approved before, then put back to pending: not waiting for a first approval.",
                "Pending (on hold)",
            )
        else:
            badge = format_html(
                '<span class="order-status order-status--{}">{}</span>',
                order.status,
                order.get_status_display(),
            )
        if order.status_unexpected:
            return format_html(
                '{} <span class="order-status-unexpected" title="{}">&#9888; unexpected</span>',
                badge,
                "35up reported a move outside its documented graph: check the status history.",
            )
        return badge

    def get_search_results(self, request, queryset, search_term):
        return search_orders(queryset, search_term), False

    def has_add_permission(self, request):
        # Orders come in through ingest (import command, API), which validates the whole document.
        return False

    def has_delete_permission(self, request, obj=None):
        # Orders are never deleted here: their history and deliveries must stay explainable.
        return False

    def has_export_permission(self, request):
        codename = get_permission_codename("export", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def _has_action_permission(self, request, action):
        return request.user.has_perm(action_permissions()[action])

    def has_approve_permission(self, request):
        return self._has_action_permission(request, "approve")

    def has_hold_permission(self, request):
        return self._has_action_permission(request, "hold")

    def has_cancel_permission(self, request):
        return self._has_action_permission(request, "cancel")

    def has_push_permission(self, request):
        return request.user.has_perm(PUSH_PERMISSION)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_csv_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "<path:object_id>/transition/<str:action>/",
                self.admin_site.admin_view(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            path(
                "<path:object_id>/acknowledge/<int:delivery_id>/",
                self.admin_site.admin_view(self.acknowledge_delivery_view),
                name="{}_{}_acknowledge_delivery".format(*info),
            ),
            path(
                "<path:object_id>/acknowledge-unexpected/",
                self.admin_site.admin_view(self.acknowledge_unexpected_view),
                name="{}_{}_acknowledge_unexpected".format(*info),
            ),
            path(
                "<path:object_id>/push/<str:provider>/",
                self.admin_site.admin_view(self.push_view),
                name="{}_{}_push".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_export_permission": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            timeline = order_timeline(obj, order_notes(obj))
            history = [entry.status_change for entry in timeline.entries if entry.status_change]
            # The status badge tells a held order from one awaiting its first approval.
            obj.last_from_status = history[-1].from_status if history else None
            context["timeline"] = timeline
            deliveries = [entry.delivery for entry in timeline.entries if entry.delivery]
            refused_actions = refused_shop_actions(deliveries)
            shown = {refused.delivery.pk for refused in refused_actions}
            context["refused_actions"] = refused_actions
            # Every other delivery that waits for a person gets a line of the banner too.
            context["deliveries_needing_a_person"] = [
                delivery
                for delivery in deliveries
                if delivery.needs_a_person and delivery.pk not in shown
            ]
            context["can_acknowledge"] = request.user.has_perm(ACKNOWLEDGE_PERMISSION)
            context["provider_syncs"] = provider_syncs(obj)
            context["has_push_permission"] = self.has_push_permission(request)
            context["has_view_delivery_permission"] = request.user.has_perm("outbox.view_delivery")
            context["transition_actions"] = sorted(
                available_actions(obj, request.user), key=lambda t: SHOP_ACTIONS.index(t.name)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        """Nothing to save: the order's own fields are read-only here (see the module docstring)."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not OrderNote:
            super().save_formset(request, form, formset, change)
            return
        # The author is whoever is logged in, set by the service; the form only carries the text.
        formset.new_objects = [
            add_note(order_id=form.instance.pk, author=request.user, body=note.body)
            for note in formset.save(commit=False)
        ]
        request.order_notes_added = len(formset.new_objects)

    def response_change(self, request, obj):
        """Back to the order page, saying what was saved: a note, or nothing at all."""
        if getattr(request, "order_notes_added", 0):
            self.message_user(request, f"Note added to order {obj.reference}.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"Nothing was saved: order {obj.reference} is unchanged. Only notes can be "
                "added here; write one in the note box first.",
                messages.INFO,
            )
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[obj.pk]))

    def _acknowledge(self, request, object_id, acknowledge, done):
        """POST only: run `acknowledge(order, actor)` and go back to the order page."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[object_id]))
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        try:
            acknowledge(order, Actor.staff(request.user))
        except PermissionRefused as error:
            raise PermissionDenied(error.message) from None
        except ActionError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"Order {order.reference}: {done}", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def acknowledge_delivery_view(self, request, object_id, delivery_id):
        return self._acknowledge(
            request,
            object_id,
            lambda order, actor: acknowledge_delivery_failure(
                order_id=order.pk, delivery_id=delivery_id, actor=actor
            ),
            f"the failure of delivery #{delivery_id} is acknowledged (see the timeline).",
        )

    def acknowledge_unexpected_view(self, request, object_id):
        return self._acknowledge(
            request,
            object_id,
            lambda order, actor: acknowledge_unexpected_status(order_id=order.pk, actor=actor),
            "the unexpected status move is acknowledged (see the timeline).",
        )

    def transition_view(self, request, object_id, action):
        """Confirm one transition (GET) and request it through the service (POST)."""
        if action not in SHOP_ACTIONS:
            raise Http404(f"'{action}' is not an order action.")
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        if request.method == "POST":
            form = TransitionForm(request.POST, action=action)
            if form.is_valid():
                return self._request_transition(request, order, action, form, change_url)
        else:
            form = TransitionForm(action=action)

        transition = next(
            (t for t in available_actions(order, request.user) if t.name == action), None
        )
        if transition is None:
            if not self._has_action_permission(request, action):
                raise PermissionDenied
            self.message_user(
                request,
                f"Order {order.reference} is {order.get_status_display().lower()}: "
                f"{transition_label(action).lower()} is not possible now.",
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{transition.custom['label']} order {order.reference}?",
            "opts": self.opts,
            "order": order,
            "transition": transition,
            "target_status": OrderStatus(transition.target).label,
            "consequence": CANCEL_CONSEQUENCES.get(order.status) if action == "cancel" else "",
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/orders/order/transition_confirm.html", context)

    def _request_transition(self, request, order, action, form, change_url):
        try:
            change = request_transition(
                order_id=order.pk,
                action=action,
                actor=Actor.staff(request.user),
                message=form.history_message(),
            )
        except PermissionRefused as error:
            raise PermissionDenied(error.message) from None
        except (TransitionRefused, Conflict) as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                f"Order {order.reference}: {change.get_from_status_display()} -> "
                f"{change.get_to_status_display()}.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(change_url)

    def push_view(self, request, object_id, provider):
        """Confirm sending the order to one provider (GET) and queue the delivery (POST)."""
        if provider not in Provider.values:
            raise Http404(f"'{provider}' is not a provider.")
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        label = Provider(provider).label
        if request.method == "POST":
            # The service checks the permission itself: a forged POST gets a 403 from there.
            try:
                delivery = push_order_to_provider(
                    order_id=order.pk, provider=provider, actor=Actor.staff(request.user)
                )
            except PermissionRefused as error:
                raise PermissionDenied(error.message) from None
            except ActionError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Order {order.reference}: queued for {label} (delivery #{delivery.pk}).",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)

        if not self.has_push_permission(request):
            raise PermissionDenied
        pending = pending_count(subject=order, provider=provider)
        if refusal := push_refusal(order, provider, pending=pending):
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(change_url)
        operation = MANUAL_PUSH_OPERATIONS[provider]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send order {order.reference} to {label}?",
            "opts": self.opts,
            "order": order,
            "provider_label": label,
            "operation_label": registry.operation_label(provider, operation),
            "unsafe_to_repeat": registry.spec_for(provider, operation).unsafe_to_repeat,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/orders/order/push_confirm.html", context)

    @admin.action(description="Approve selected orders", permissions=["approve"])
    def approve_orders(self, request, queryset):
        return self._bulk_transition(request, queryset, "approve")

    @admin.action(description="Hold selected orders", permissions=["hold"])
    def hold_orders(self, request, queryset):
        return self._bulk_transition(request, queryset, "hold")

    @admin.action(description="Cancel selected orders", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        return self._bulk_transition(request, queryset, "cancel")

    def _bulk_selection(self, request, queryset):
        """(pk, reference) of the selected orders; None, with a message, when they are too many."""
        selected = list(queryset.values_list("pk", "reference")[: MAX_BULK_ORDERS + 1])
        if len(selected) > MAX_BULK_ORDERS:
            self.message_user(
                request,
                f"A bulk action takes at most {MAX_BULK_ORDERS:,} orders: narrow the list first.",
                messages.ERROR,
            )
            return None
        return selected

    def _bulk_transition(self, request, queryset, action):
        """Show a confirmation page; once confirmed, one message per order says what happened."""
        selected = self._bulk_selection(request, queryset)
        if selected is None:
            return None
        if "confirm" in request.POST:
            form = TransitionForm(request.POST, action=action)
            if form.is_valid():
                outcomes = bulk_request_transition(
                    order_ids=[pk for pk, _ in selected],
                    action=action,
                    actor=Actor.staff(request.user),
                    message=form.history_message(),
                )
                for outcome in outcomes:
                    level = messages.SUCCESS if outcome.succeeded else messages.ERROR
                    self.message_user(request, outcome.message, level)
                return None
        else:
            form = TransitionForm(action=action)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{transition_label(action)} {len(selected)} order{pluralize(len(selected))}?",
            "opts": self.opts,
            "action": action,
            "action_name": f"{action}_orders",
            "action_label": transition_label(action),
            "action_past": ACTION_PAST[action],
            "selected": selected,
            "warning": BULK_CANCEL_WARNING if action == "cancel" else "",
            "form": form,
        }
        return TemplateResponse(request, "admin/orders/order/bulk_transition_confirm.html", context)

    @admin.action(description="Send selected orders to a provider…", permissions=["push"])
    def push_orders(self, request, queryset):
        """Pick a provider and confirm; then one message per order: queued, or refused and why."""
        selected = self._bulk_selection(request, queryset)
        if selected is None:
            return None
        disabled = disabled_providers()
        enabled = [(p.value, p.label) for p in Provider if p.value not in disabled]
        if not enabled:
            self.message_user(
                request,
                "No provider is enabled: the order page says what each one misses.",
                messages.ERROR,
            )
            return None
        form = PushProviderForm(
            request.POST if "confirm" in request.POST else None, providers=enabled
        )
        if form.is_valid():
            provider = form.cleaned_data["provider"]
            actor = Actor.staff(request.user)
            for pk, reference in selected:
                try:
                    delivery = push_order_to_provider(order_id=pk, provider=provider, actor=actor)
                except ActionError as error:
                    self.message_user(
                        request, f"{reference}: refused: {error.message}", messages.ERROR
                    )
                else:
                    self.message_user(
                        request,
                        f"{reference}: queued for {Provider(provider).label} "
                        f"(delivery #{delivery.pk}).",
                        messages.SUCCESS,
                    )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send {len(selected)} order{pluralize(len(selected))} to a provider?",
            "opts": self.opts,
            "action_name": "push_orders",
            "selected": selected,
            "disabled": [(Provider(p).label, missing) for p, missing in disabled.items()],
            "form": form,
        }
        return TemplateResponse(request, "admin/orders/order/bulk_push_confirm.html", context)

    def export_csv_view(self, request):
        """The orders the list shows with the same filters, search and ordering, streamed as CSV."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            changelist_url = reverse("admin:orders_order_changelist")
            return HttpResponseRedirect(f"{changelist_url}?{ERROR_FLAG}=1")
        response = StreamingHttpResponse(
            order_csv_lines(changelist.queryset), content_type="text/csv; charset=utf-8"
        )
        filename = f"orders-{timezone.now():%Y%m%dT%H%M%SZ}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def transition_label(action):
    """The button label declared on the transition ("Approve")."""
    field = Order._meta.get_field("status")
    return next(t.custom["label"] for t in field.get_all_transitions(Order) if t.name == action)
