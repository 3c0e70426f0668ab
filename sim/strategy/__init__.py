"""Strategy scripting: write a trading rule once, run it on replayed or live paper data.

``from sim.strategy import Strategy, Context, Bar, Range`` is all a STRATEGY.py needs; see
``sim/strategy/api.py`` for the hooks and ``sim/strategy/context.py`` for what ``ctx`` offers.
"""

from sim.strategy.api import Bar, Strategy, Ticket
from sim.strategy.context import Context
from sim.strategy.params import Range

__all__ = ["Bar", "Context", "Range", "Strategy", "Ticket"]
