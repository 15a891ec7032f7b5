"""The operations the hub asks of its providers, as named on every delivery."""

PLACE_ORDER = "place_order"
UPDATE_ORDER_STATUS = "update_order_status"
PUSH_ORDER = "push_order"
SUBMIT_ORDER = "submit_order"
REQUEST_RETURN = "request_return"
UPDATE_RETURN_STATUS = "update_return_status"
