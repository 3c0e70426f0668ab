"""Bybit v5 linear and inverse futures: wire decoding, order-book sync and the websocket feed."""
