"""The whole microfut exception tree; the CLI maps each class to one line and an exit code.

    MicrofutError                 exit_code
    ├── StrategyError             1  the user's strategy raised (sim/strategy/loader.py; their
    │                                traceback is shown: it is their code)
    ├── InputError                2  user input: unknown symbol, negative size, bad order row
    ├── ConfigError               2  unknown key or bad value in a settings layer
    ├── DataError                 2  corrupt or missing data file
    │   └── SpecError             2  no usable contract spec / snapshot for a venue
    ├── FeedError                 4  connect, subscribe or stream failure (incl. no network)
    ├── JournalError              5  journal locked, read-only, full, foreign or corrupt
    └── InvariantError            70 a bug: money not conserved, illegal state transition
        └── InvalidTransition

Rejections, liquidations and guard denials are *events*, never exceptions.
Exit code 2 is shared by every error the user can fix by changing what they typed or pointed at.
"""

from __future__ import annotations


class MicrofutError(Exception):
    """Base of every error microfut reports to a user as one line."""

    exit_code: int = 1


class InputError(MicrofutError):
    exit_code = 2


class ConfigError(MicrofutError):
    exit_code = 2


class DataError(MicrofutError):
    exit_code = 2


class SpecError(DataError):
    exit_code = 2


class FeedError(MicrofutError):
    exit_code = 4


class JournalError(MicrofutError):
    exit_code = 5


class InvariantError(MicrofutError):
    exit_code = 70


class InvalidTransition(InvariantError):
    pass
