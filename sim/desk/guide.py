"""The desk's help panel: every command with an example a trader can type as is."""

from __future__ import annotations

PROMPT = "type a command (help, ↑ history, Tab completes, Ctrl-C quits)"

HELP_TEXT = """\
buy 0.01 BTC                      market buy of 0.01 contracts (× multiplier)
sell 0.05 ETH limit 3100 tp 2900  limit sell with a take-profit bracket
buy 0.01 BTC lev 10 isolated stop 55000 tp 66000   entry with its stop and TP
sell 0.01 BTC reduce stop 58000   stop-market exit of a long
scale buy 0.03 BTC from 59000 to 58000 in 3        a ladder of 3 limits
close BTC · close all · cancel o12 · cancel all · amend o12 price 3150
lev BTC 5 · mode BTC isolated · hedge 500 beta 1.5 (size a beta hedge)
size BTC stop 59000 [risk 0.5]    contracts so the stop loses risk % of equity
replay: pause · resume · speed 600 · step 5 (bars)
Enter sends once · ↑/↓ history · Tab completes · Esc: close help · Ctrl-C quits
Orders above [risk] confirm_notional_x_equity / confirm_leverage wait for a y\
"""
