"""Every way in: the `rotaguard` commands from Typer's command tree and the Prefect flows of
`rotaguard.flows`, found from the code itself so that a new one cannot be missed by the tests that
hold them to the registry and to the authorization matrix."""

from __future__ import annotations

import importlib
import pkgutil


def command_paths() -> set[str]:
    import typer.main

    from rotaguard.cli.main import app

    def walk(command, prefix: tuple[str, ...]):
        # Typer vendors click: groups are recognised by shape, not by class.
        if hasattr(command, "commands"):
            # A group that runs by itself too (`rotaguard plan --year 2027`) is a command as well.
            if prefix and getattr(command, "invoke_without_command", False):
                yield " ".join(prefix)
            for name, sub in command.commands.items():
                yield from walk(sub, (*prefix, name))
        else:
            yield " ".join(prefix)

    return set(walk(typer.main.get_command(app), ()))


def flows() -> dict[str, object]:
    from prefect import Flow

    import rotaguard.flows as package

    found = {}
    for module in pkgutil.iter_modules(package.__path__):
        for value in vars(importlib.import_module(f"rotaguard.flows.{module.name}")).values():
            if isinstance(value, Flow):
                found[value.name] = value
    return found
