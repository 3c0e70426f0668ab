"""make_exchange: real ccxt classes, known ids only, URLs pointed at an endpoint per §B.6."""

from __future__ import annotations

import pytest

from adapters.exchanges import make_exchange, rest_base, ws_base
from sim.errors import InputError

LOOP = "http://127.0.0.1:8765"


def test_unknown_exchange_suggests_the_close_ccxt_ids() -> None:
    with pytest.raises(InputError, match=r"unknown exchange 'binanceusdmx'.*'binanceusdm'"):
        make_exchange("binanceusdmx")


def test_binanceusdm_endpoint_rewrites_fapi_and_linear_websocket() -> None:
    ex = make_exchange("binanceusdm", endpoint=LOOP, pro=True)

    api = ex.urls["api"]
    assert api["fapiPublic"] == "http://127.0.0.1:8765/fapi/v1"
    assert api["fapiPublicV2"] == "http://127.0.0.1:8765/fapi/v2"
    assert api["fapiPublicV3"] == "http://127.0.0.1:8765/fapi/v3"
    assert api["ws"]["linear"] == "ws://127.0.0.1:8765/ws"
    assert type(ex).__module__.startswith("ccxt.pro")


def test_binancecoinm_endpoint_rewrites_dapi_and_inverse_websocket() -> None:
    ex = make_exchange("binancecoinm", endpoint=LOOP, pro=True)

    assert ex.urls["api"]["dapiPublic"] == "http://127.0.0.1:8765/dapi/v1"
    assert ex.urls["api"]["ws"]["inverse"] == "ws://127.0.0.1:8765/ws"


def test_bybit_endpoint_rewrites_rest_keys_and_public_websockets() -> None:
    ex = make_exchange("bybit", endpoint=LOOP, pro=True)

    api = ex.urls["api"]
    assert {api[k] for k in api if k != "ws"} == {LOOP}
    assert api["ws"]["public"]["linear"] == "ws://127.0.0.1:8765/v5/public/linear"
    assert api["ws"]["public"]["inverse"] == "ws://127.0.0.1:8765/v5/public/inverse"
    assert ex.options["fetchMarkets"]["types"] == ["linear", "inverse"]


def test_other_venue_keeps_paths_but_takes_the_endpoint_host() -> None:
    ex = make_exchange("mexc", endpoint=LOOP)

    assert ex.urls["api"]["contract"]["public"] == "http://127.0.0.1:8765/api/v1/contract"


def test_caller_options_merge_over_the_venue_defaults() -> None:
    ex = make_exchange("bybit", options={"fetchMarkets": {"types": ["linear"]}})

    assert ex.options["fetchMarkets"]["types"] == ["linear"]


def test_ws_base_maps_http_to_ws_and_https_to_wss() -> None:
    assert ws_base("http://127.0.0.1:9000/x") == "ws://127.0.0.1:9000"
    assert ws_base("https://example.test") == "wss://example.test"
    assert rest_base("http://127.0.0.1:9000/") == "http://127.0.0.1:9000"


def test_endpoint_without_scheme_is_refused() -> None:
    with pytest.raises(InputError, match="endpoint must look like"):
        make_exchange("binanceusdm", endpoint="127.0.0.1:9000")


def test_rate_limit_is_off_only_for_loopback_endpoints() -> None:
    assert make_exchange("bybit", endpoint=LOOP).enableRateLimit is False
    assert make_exchange("bybit", endpoint="https://api.bybit.com").enableRateLimit is True
    assert make_exchange("bybit").enableRateLimit is True
