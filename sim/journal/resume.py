"""Which account a `replay` or `run` writes into: a new one, or the interrupted run it continues.

Rerunning the same command (same kind and the same identifying params: data, orders, balance,
strategy, ...) on a journal whose matching run was interrupted (Ctrl-C, SIGKILL, a crash, a
journal error) continues that run: same account, same session. The engine is deterministic, so
the run is played again from its start in memory; the batches the journal already holds are
checked event by event against the recomputation (``Journal.append`` skips a stored batch and
refuses a different one) and writing continues from the first batch that was never committed.
The journal ends exactly as after an uninterrupted run. ``--resume`` asks for this explicitly
and is an error when there is nothing to continue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.errors import InputError

if TYPE_CHECKING:
    from sim.journal.sessions import SessionInfo
    from sim.journal.store import Journal

# Params that describe the process or the outcome, not the run: never part of its identity.
NOT_IDENTITY = frozenset({"pid", "host", "status", "resumed"})


@dataclass(frozen=True, slots=True)
class RunPlan:
    account: str
    session_id: int | None  # the session to continue; None: the caller starts a new one
    resumed: SessionInfo | None  # the interrupted session this run continues
    committed_seq: int  # events already in the journal for the account (0 when new)
    message: str  # one line for stderr when resuming or renaming ("" otherwise)


def identity(params: dict[str, Any]) -> dict[str, Any]:
    """The params that make two runs "the same command"."""
    return {k: v for k, v in params.items() if k not in NOT_IDENTITY}


def _is_variant(account: str, base: str) -> bool:
    if account == base:
        return True
    head, _, tail = account.rpartition("-")
    return head == base and tail.isdigit()


def interrupted_run(
    journal: Journal, kind: str, base: str, params: dict[str, Any]
) -> SessionInfo | None:
    """The latest session of the same run (``kind``, params, account ``base`` or ``base-N``)
    when it was interrupted; None when there is none or the latest one completed."""
    same = [
        s
        for s in journal.sessions(kind)
        if _is_variant(s.account, base) and identity(s.params) == identity(params)
    ]
    if not same or same[-1].state != "interrupted":
        return None
    return same[-1]


def plan_run(
    journal: Journal,
    kind: str,
    base: str,
    params: dict[str, Any],
    *,
    resume: bool = False,
    empty_is_free: bool = False,
) -> RunPlan:
    """Continue the interrupted run of this command (its session is reopened), or pick a new
    account name (the caller registers it and starts its session)."""
    found = interrupted_run(journal, kind, base, params)
    if found is not None:
        committed = journal.last_seq(found.account)
        journal.reopen_session(found.id)
        message = (
            f"continuing the interrupted {kind} of account '{found.account}' (session "
            f"{found.id}, {committed} events committed): the committed part is replayed and "
            "checked, writing resumes after it"
        )
        return RunPlan(found.account, found.id, found, committed, message)
    if resume:
        raise InputError(
            f"--resume: no interrupted {kind} of account '{base}' with these same settings in "
            f"{journal.path}; `microfut journal list` shows what is there"
        )
    name = journal.free_account_name(base, empty_is_free=empty_is_free)
    message = (
        f"account '{base}' already exists in {journal.path}; this {kind} is '{name}'"
        if name != base
        else ""
    )
    return RunPlan(name, None, None, 0, message)


def how_to_continue(kind: str) -> str:
    """The hint shown wherever an interrupted run is reported."""
    if kind == "web":
        return "start `microfut web` again with the same --account: it resumes from the journal"
    command = "replay" if kind == "replay" else "run"
    return f"rerun the same `microfut {command}` command (or add --resume) to continue it"
