"""The pure account engine: no I/O, clock or randomness; Decimal money; inputs in, events out."""
