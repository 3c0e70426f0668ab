"""Journal sessions: how a run ended, told apart from one still going (stdlib only).

Shared by the full journal (``store.py``) and the quick sqlite3 reader (``reader.py``), so
`journal list` says "interrupted" for a killed run on either road.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Runs that mark their end ("completed" / "interrupted"); a terminal desk session is left open
# by design; a web desk marks it when its server stops (sim/web/kernel.py).
MARKED_KINDS = ("replay", "strategy", "web")


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: int
    account: str
    kind: str
    params: dict[str, Any]
    started_ms: int
    state: str  # session_state: completed, interrupted, running or ""


def run_marker() -> dict[str, Any]:
    """Stored in a session's params at its start: which process runs it (to tell, later,
    a run still going from one killed before it could mark its end)."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:  # a killed child not yet reaped is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def session_state(kind: str, params: dict[str, Any]) -> str:
    """ "completed" / "interrupted" as marked; for an unmarked replay or strategy run,
    "running" while its process lives and "interrupted" once it is gone (SIGKILL, a crash, a
    lost journal mid-run); "" when nothing can be said (desk sessions, older journals)."""
    status = str(params.get("status") or "")
    if status or kind not in MARKED_KINDS or not isinstance(params.get("pid"), int):
        return status
    if params.get("host") == socket.gethostname() and _alive(params["pid"]):
        return "running"
    return "interrupted"


def session_infos(
    rows: Iterable[tuple[Any, str, str, str | None, Any]], kind: str | None = None
) -> list[SessionInfo]:
    """(id, account, kind, params JSON, started_ms) rows, oldest first → SessionInfo."""
    out = []
    for sid, account, sess_kind, params, started in rows:
        if kind is not None and sess_kind != kind:
            continue
        try:
            data = json.loads(params) if params else {}
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        out.append(
            SessionInfo(
                int(sid), account, sess_kind, data, int(started), session_state(sess_kind, data)
            )
        )
    return out
