"""The benchmark scripts' result tables: Markdown, in the columns BENCHMARKS.md quotes.

Every script prints one (after its progress lines); tests/test_bench_*.py read it back with
``parse_table`` to check its shape and figures in each script's ``--smoke`` run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [str(cell) for cell in row]
        if len(cells) != len(headers):
            raise ValueError(f"a row of {len(cells)} cells under {len(headers)} headers: {cells}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_table(text: str, first_header: str) -> tuple[list[str], list[dict[str, str]]]:
    """The table in ``text`` whose first column is ``first_header``: (headers, rows by header)."""
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("| ") and _cells(line)[0] == first_header), None)
    if start is None:
        raise ValueError(f"no table headed {first_header!r} in the output")
    headers = _cells(lines[start])
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = _cells(line)
        if len(cells) != len(headers):
            raise ValueError(f"a row of {len(cells)} cells under {len(headers)} headers: {line}")
        rows.append(dict(zip(headers, cells, strict=True)))
    return headers, rows


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"
