"""Everything that touches the outside world: ccxt specs, feeds, recordings, loopback."""
