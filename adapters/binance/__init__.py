"""Binance USDⓈ-M and COIN-M futures: wire decoding, order-book sync and the websocket feed."""
