"""What the command line offers before any command runs: --version, -h and --help everywhere, shell
completion (choices included), and the closed sets of choices, refused in one line with exit 2."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest

from entrypoints import command_paths
from rotaguard.cli.main import main
from rotaguard.cli.schedule import Algorithm


def _run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_prints_the_installed_version(capsys):
    assert _run(capsys, "--version") == (0, f"rotaguard {version('rotaguard')}\n", "")


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_and_group_answers_h_and_help(capsys, flag):
    commands = sorted(command_paths())
    groups = sorted({" ".join(c.split()[:n]) for c in commands for n in range(1, len(c.split()))})
    assert len(commands) >= 30 and {"backup", "backup offsite", "swap"} <= set(groups)
    for path in ["", *groups, *commands]:
        code, out, err = _run(capsys, *path.split(), flag)
        assert code == 0 and "Usage:" in out and err == "", (path, code, err)


def test_help_shows_the_choices(capsys):
    shown = {
        ("export",): ("json", "csv", "ics", "xlsx"),
        ("solve",): tuple(Algorithm),
        ("generate",): tuple(Algorithm),
        ("backup", "restore"): ("full", "assignments"),
        ("backup", "create"): ("regular", "sacred", "pre-op:"),
        ("swap", "request"): ("absorb", "one-to-one"),
        ("swap", "list"): ("pending", "needs_approval", "rolled_back"),
    }
    for words, choices in shown.items():
        _, out, _ = _run(capsys, *words, "--help")
        assert all(choice in out for choice in choices), (words, out)


def test_the_algorithms_are_the_solvers():
    from rotaguard.solver import ALGORITHMS

    assert [a.value for a in Algorithm] == list(ALGORITHMS)


def test_show_completion_prints_a_bash_script(capsys):
    code, out, err = _run(capsys, "--show-completion", "bash")
    assert code == 0 and "_rotaguard_completion" in out and "complete " in out, (code, out, err)


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("rotaguard backup cr", {"create"}),
        ("rotaguard export --format ", {"json", "csv", "ics", "xlsx"}),
        ("rotaguard backup restore ID --scope ", {"full", "assignments"}),
        ("rotaguard backup create --label ", {"regular", "sacred", "pre-op:"}),
        ("rotaguard swap list --status needs", {"needs_approval"}),
    ],
)
def test_the_shell_completes_commands_and_choices(capsys, monkeypatch, words, offered):
    monkeypatch.setenv("_ROTAGUARD_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split()) - (0 if words.endswith(" ") else 1)))
    code, out, _ = _run(capsys)
    assert code == 0 and offered <= set(out.split()), out


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--start", "2026-03-01", "--end", "2026-03-02", "--format", "pdf"),
        ("solve", "--start", "2026-03-01", "--end", "2026-03-02", "--algorithm", "simplex"),
        ("generate", "--start", "2026-03-01", "--end", "2026-03-02", "--algorithm", "x"),
        ("backup", "restore", "rotaguard_20260301_020000", "--scope", "all"),
        ("backup", "create", "--label", "pre-op:Not Allowed"),
        ("swap", "request", "--person", "R2-01", "--start", "2026-03-01", "--end", "2026-03-01", "--kind", "trade"),
        ("swap", "list", "--status", "PENDING"),
    ],
)
def test_a_value_outside_the_choices_is_one_line_and_exit_2(capsys, args):
    option = next(a for a in args if a in ("--format", "--algorithm", "--scope", "--label", "--kind", "--status"))
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("rotaguard: error: ") and option in err and "Value error" not in err, err
    code, out, _ = _run(capsys, *args, "--json")
    assert code == 2 and json.loads(out)["ok"] is False and json.loads(out)["problems"][0]["path"] == option
