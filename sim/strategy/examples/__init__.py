"""Example strategies shipped with microfut, runnable by name: `microfut run breakout ...`."""
