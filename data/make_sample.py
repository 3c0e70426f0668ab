"""Rebuild the bundled sample in data/sample/ from the recorded data in ../shared/data.

Maintainer tool, not shipped: ``python data/make_sample.py [SHARED_DATA]``. Every output file is a
lossless conversion or a subset of one recorded file (provenance in data/sample/README.md):
candles become Parquet with zstd (values round-trip exactly), the Binance brackets are cut down to
the bundled symbols, the websocket capture to its first 60 seconds. Nothing is generated.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "sample"
COPIED = (
    "binanceusdm/fapi_v1_exchangeInfo_2022-02-19.json",
    "bybit/v5_instruments_info_items.json",
    "ccxt_static_markets/ccxt_static_subset.json",
    "ccxt_static_markets/bingx_swap_subset.json",
)
TIERS = "leverage_tiers/binance_leverage_tiers_freqtrade-2026.9.json"
TIER_SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")
CANDLES = "ohlcv/binance_usdm"
CAPTURE = "binanceusdm/ws_raw_btcusdt_20240808.gz"
CAPTURE_SECONDS = 60


def _copy(src: Path, rel: str) -> None:
    dst = OUT / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / rel, dst)


def _tiers(src: Path) -> None:
    with (src / TIERS).open() as f:
        tiers = json.load(f)
    subset = {s: tiers[s] for s in TIER_SYMBOLS}
    dst = OUT / TIERS
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(subset, separators=(",", ":")))


def _candles(src: Path) -> None:
    (OUT / CANDLES).mkdir(parents=True, exist_ok=True)
    for feather in sorted((src / CANDLES).glob("*.feather")):
        frame = pd.read_feather(feather)
        dst = OUT / CANDLES / feather.with_suffix(".parquet").name
        frame.to_parquet(dst, compression="zstd", compression_level=19, index=False)
        if not pd.read_parquet(dst).equals(frame):
            raise SystemExit(f"{dst} does not round-trip {feather}")


def _capture(src: Path) -> None:
    dst = OUT / CAPTURE
    dst.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(src / CAPTURE, "rt") as f, gzip.open(dst, "wt", compresslevel=9) as out:
        first_ns = None
        for line in f:
            ns = int(line.split(" ", 1)[0])
            first_ns = ns if first_ns is None else first_ns
            if ns - first_ns > CAPTURE_SECONDS * 1_000_000_000:
                break
            out.write(line)


def main(src: Path) -> None:
    if not (src / "README.md").exists():
        raise SystemExit(f"no recorded data at {src}")
    for rel in COPIED:
        _copy(src, rel)
    _tiers(src)
    _candles(src)
    _capture(src)
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"sample in {OUT}: {size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
