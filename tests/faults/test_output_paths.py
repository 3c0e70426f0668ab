"""`journal export` and `journal plot` write only where the user said, never through a link.

Issue 17 found `journal export --out DIR` overwriting the target of a symlink `DIR/trades.csv`
and `journal plot --out` creating folders anywhere without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _one_line(stderr: str) -> str:
    text = stderr.strip()
    assert "\n" not in text, text
    assert "Traceback" not in text
    return text


@pytest.mark.parametrize(("command", "target"), [("export", "trades.csv"), ("plot", None)])
def test_a_symlinked_target_is_refused_and_its_target_untouched(
    run_cli, real_journal: Path, tmp_path: Path, command: str, target: str | None
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if target is None:  # the plot's first file name, today's stamp
        listed = run_cli("journal", "plot", "--db", str(real_journal), "--out", str(tmp_path / "p"))
        target = Path(listed.stdout.split("wrote ")[1].split()[0]).name
    secret = tmp_path / "secret.txt"
    secret.write_text("precious", encoding="utf-8")
    (out / target).symlink_to(secret)

    result = run_cli("journal", command, "--db", str(real_journal), "--out", str(out), "--force")

    assert result.exit_code == 2
    assert _one_line(result.stderr) == (
        f"error: {out / target} is a symbolic link; microfut does not write through links "
        "(remove it or pick another --out)"
    )
    assert secret.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in out.iterdir()) == [target]  # nothing else written


def test_open_target_refuses_a_link_planted_after_the_check(tmp_path: Path) -> None:
    from sim.errors import InputError
    from sim.review.outputs import open_target

    secret = tmp_path / "secret.txt"
    secret.write_text("precious", encoding="utf-8")
    (tmp_path / "trades.csv").symlink_to(secret)

    with pytest.raises(InputError, match="is a symbolic link"):
        open_target(tmp_path / "trades.csv", "w")
    assert secret.read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize("command", ["export", "plot"])
def test_a_non_empty_folder_needs_force(
    run_cli, real_journal: Path, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep", encoding="utf-8")

    refused = run_cli("journal", command, "--db", str(real_journal), "--out", str(out))
    forced = run_cli(
        "journal", command, "--db", str(real_journal), "--out", str(out), "--force", "--json"
    )

    assert refused.exit_code == 2
    assert f"folder {out} is not empty; pass --force to write into it" in _one_line(refused.stderr)
    assert forced.exit_code == 0, forced.stderr
    files = json.loads(forced.stdout)["files"]
    paths = sorted(Path(f["path"] if isinstance(f, dict) else f).name for f in files)
    assert sorted(p.name for p in out.iterdir()) == sorted([*paths, "notes.txt"])
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep"
    if command == "export":
        assert paths == ["fills.csv", "funding.csv", "trades.csv"]
    else:
        assert [p.split("-")[1] for p in paths] == ["equity", "pnl", "r"]


@pytest.mark.parametrize("command", ["export", "plot"])
def test_only_the_named_folder_is_created_and_the_output_says_so(
    run_cli, real_journal: Path, tmp_path: Path, command: str
) -> None:
    deep = tmp_path / "a" / "b" / "out"
    named = tmp_path / "out"

    refused = run_cli("journal", command, "--db", str(real_journal), "--out", str(deep))
    made = run_cli("journal", command, "--db", str(real_journal), "--out", str(named))

    assert refused.exit_code == 2
    assert _one_line(refused.stderr) == (
        f"error: cannot create {command} folder {deep}: {deep.parent} does not exist "
        "(microfut creates only the --out folder itself; create its parent first)"
    )
    assert not (tmp_path / "a").exists()
    assert made.exit_code == 0, made.stderr
    assert made.stdout.startswith(f"created folder {named}\n")
    written = sorted(named.iterdir())
    assert len(written) == 3
    for path in written:
        assert str(path) in made.stdout  # every file named
