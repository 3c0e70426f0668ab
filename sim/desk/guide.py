"""The desk's help panel: every command with an example a trader can type as is."""

from __future__ import annotations

PROMPT = "type a command (help, ↑ history, Tab completes, Ctrl-C quits)"

HELP_TEXT = """\
orders  buy 0.01 BTC                         market buy 0.01 contracts (×multiplier)
        sell 0.05 ETH limit 3100 tp 2900     limit sell with a take-profit bracket
        buy 0.01 BTC lev 10 isolated stop 55000 tp 66000
        sell 0.01 BTC reduce stop 58000      stop-market exit for a long
        scale buy 0.03 BTC from 59000 to 58000 in 3      a ladder of 3 limit orders
manage  close BTC · close all · cancel o12 · cancel all · amend o12 price 3150
        lev BTC 5 · mode BTC isolated
plan    size BTC stop 59000 [risk 0.5]      contracts so the stop loses risk% of equity
        hedge 500 beta 1.5 [BTC]            size a beta hedge of 500 notional
replay  pause · resume · speed 600 · step 5 (bars)
keys    Enter sends once · ↑/↓ history · Tab completes · Esc closes help · Ctrl-C quits
Large orders (notional or leverage above [risk] confirm_*) wait for a `y`."""
