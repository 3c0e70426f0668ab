"""microfut: paper trading for crypto futures on real contract specs and real prices."""

__version__ = "0.1.0"
