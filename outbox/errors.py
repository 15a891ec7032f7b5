"""What a handler raises when a delivery did not succeed, as the engine reads it.

The integrations' provider errors extend DeliveryError; the engine needs only these attributes to
decide between retry, failure, dead, ambiguous and "held back by our own rate limiter".
"""


class DeliveryError(Exception):
    # Worth another attempt later.
    retryable = False
    # The provider may have received and acted on the request (no answer came back).
    outcome_unknown = False
    # Held back by the hub itself (its own rate limiter) before any call went out: the delivery
    # waits for `retry_after` seconds and the attempt does not count.
    throttled = False
    # The provider may have acted on the request although the call did not succeed (a server
    # error, no answer): before an unsafe operation is sent again, the provider is looked at.
    may_have_reached = True
    # The request went out to the provider; False when the hub refused to send it (the subject
    # breaks the provider's rules): "not sent", not "refused by the provider".
    sent = True

    def __init__(self, message, *, status=None, retry_after=None, request=None, response_body=""):
        self.message = message
        self.status = status
        self.retry_after = retry_after
        # The request as sent (headers redacted) and the answer's body, for the delivery record.
        self.request = request or {}
        self.response_body = response_body
        super().__init__(self.text)

    @property
    def text(self):
        return self.message
