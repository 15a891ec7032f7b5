"""What each (provider, operation) delivery does. Filled in with the provider services."""


def perform(delivery):
    raise NotImplementedError


def perform_sendcloud_batch(deliveries):
    raise NotImplementedError
