"""The ``rotaguard`` command line (typer): one-line errors, ``--json`` everywhere."""
