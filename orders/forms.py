"""Forms of the order admin screens; they only collect input, the services decide."""

from django import forms


class TransitionMessageForm(forms.Form):
    """The message recorded in the status history with a requested transition (e.g. "paid")."""

    message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the order's status history (for example: paid by bank transfer).",
    )


class PushProviderForm(forms.Form):
    """The provider a bulk push sends the selected orders to: one of the enabled providers."""

    provider = forms.ChoiceField(widget=forms.RadioSelect, label="Send to")

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = providers
