"""Channels: each sends one rendered message to one target, or raises.

A channel raises `Undeliverable` when retrying cannot help (no address, a 4xx answer);
any other exception is taken as the channel being down, and the delivery is retried."""


class Undeliverable(Exception):
    pass
