"""Forms of the order admin screens; they only collect input, the services decide."""

from django import forms

from core.errors import ActionError
from orders.services import TRANSITION_REASONS, reason_message

# What the free text is for, by action: it goes into the status history and, with the request,
# to 35up.
MESSAGE_HELP = {
    "approve": "Recorded in the status history and sent to 35up with the approval "
    "(for example: paid by bank transfer).",
    "hold": "Recorded in the status history with the reason and sent to 35up "
    "(for example: waiting for the customer to confirm the new address).",
    "cancel": "Recorded in the status history with the reason and sent to 35up "
    "(for example: the customer ordered the same case twice).",
}


class TransitionForm(forms.Form):
    """The reason (cancel, hold) and the message recorded with a requested transition."""

    reason = forms.ChoiceField(widget=forms.RadioSelect, label="Reason")
    message = forms.CharField(
        required=False,
        max_length=1000,
        label="Details",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["message"].help_text = MESSAGE_HELP.get(action, "")
        if action in TRANSITION_REASONS:
            self.fields["reason"].choices = TRANSITION_REASONS[action]
        else:
            del self.fields["reason"]
            self.fields["message"].label = "Message"

    def clean(self):
        cleaned = super().clean()
        if "message" in cleaned and not self.has_error("reason"):
            try:
                self.cleaned_data["history_message"] = reason_message(
                    self.action, cleaned.get("reason", ""), cleaned["message"]
                )
            except ActionError as error:
                self.add_error("message", error.message)
        return cleaned

    def history_message(self):
        """The text recorded in the status history: the reason's words, then the details."""
        return self.cleaned_data["history_message"]


class PushProviderForm(forms.Form):
    """The provider a bulk push sends the selected orders to: one of the enabled providers."""

    provider = forms.ChoiceField(widget=forms.RadioSelect, label="Send to")

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = providers
