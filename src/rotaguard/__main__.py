"""``python -m rotaguard``: the same CLI as the ``rotaguard`` script."""

from rotaguard.cli.main import run

run()
