"""Forms of the return admin screens; they only collect input, returns.services decides."""

from django import forms

from returns.services import REASON_MAX_LENGTH

LINE_FIELD_PREFIX = "quantity_"


class ReturnTransitionForm(forms.Form):
    """The message recorded in the return's status history with a requested transition."""

    message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional; recorded in the return's status history (for example: parcel "
        "DHL 00340434...).",
    )


class ReturnRequestForm(forms.Form):
    """A quantity per order line and the reason. The rules (what may be returned, that a reason
    is given) are returns.services.request_return's: its messages are shown on this form, which
    keeps what the user typed."""

    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "cols": 60, "required": True, "maxlength": REASON_MAX_LENGTH}
        ),
        help_text="Why the customer returns the items (for staff; 35up is not told).",
    )

    def __init__(self, *args, returnable, **kwargs):
        """`returnable`: returns.services.returnable_lines(order)."""
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in returnable:
            attrs = {"min": 0, "max": row.returnable, "class": "vIntegerField"}
            if not row.returnable:
                # Nothing to enter; a forged value still reaches the service, which says why.
                attrs["disabled"] = True
            name = f"{LINE_FIELD_PREFIX}{row.line.pk}"
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=0,
                initial=0,
                label=row.line.sku,
                widget=forms.NumberInput(attrs=attrs),
            )
            self.rows.append((row, self[name]))

    def lines(self):
        """[(order_line_id, quantity)] of the lines with a quantity above 0 (after is_valid)."""
        return [
            (int(name.removeprefix(LINE_FIELD_PREFIX)), quantity)
            for name, quantity in self.cleaned_data.items()
            if name.startswith(LINE_FIELD_PREFIX) and quantity
        ]
