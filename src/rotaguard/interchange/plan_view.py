"""The block schedule as a picture: people x blocks, each cell the rotation, coloured by rotation,
with each resident's curriculum count (have / need) beside the row.

One model behind every view: ``plan_cells`` (what each resident is on in each block of the year,
or that they are away for it) and ``curriculum_counts`` (blocks of each curriculum rotation over
the year against ``required_blocks``, prorated for blocks away), rendered as markdown (the
plan-year run's artifact), as terminal text (``rotaguard plan show``, ANSI background colours or
plain), as rows (csv/json) and as the XLSX Blocks sheet (``workbook``).

Colours come from ``rotation_palette``: a fixed list of distinguishable colours taken in the order
of ``program.block_rotations``, so a rotation keeps its colour in every view of a program. The
Prefect UI's markdown renderer sanitizes inline HTML and drops every ``style`` attribute
(prefect-design's ``PSanitizeHtml``), so the markdown marks colours with coloured emoji squares
and circles, one per palette colour, next to the rotation id.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from rotaguard.domain import BlockDates, Person, PlanEntry, Program, required_blocks

# A plan row this short is a half-block (14 of 28 days; 15 allows a 29- or 30-day block's half);
# the compliance engine counts curriculum blocks the same way (plan_rules.HALF_BLOCK_MAX_DAYS).
HALF_BLOCK_MAX_DAYS = 15

# (hex colour, the emoji closest to it): squares first, then circles, so up to 18 rotations get
# a marker of their own in markdown; past that the list starts again.
PALETTE: tuple[tuple[str, str], ...] = (
    ("#E57373", "🟥"),
    ("#64B5F6", "🟦"),
    ("#81C784", "🟩"),
    ("#FFF176", "🟨"),
    ("#BA68C8", "🟪"),
    ("#FFB74D", "🟧"),
    ("#A1887F", "🟫"),
    ("#616161", "⬛"),
    ("#F5F5F5", "⬜"),
    ("#C62828", "🔴"),
    ("#1565C0", "🔵"),
    ("#2E7D32", "🟢"),
    ("#F9A825", "🟡"),
    ("#6A1B9A", "🟣"),
    ("#EF6C00", "🟠"),
    ("#5D4037", "🟤"),
    ("#212121", "⚫"),
    ("#FAFAFA", "⚪"),
)
AWAY = "away"
AWAY_HEX = "#D9D9D9"
NO_ROW = "-"
PLAN_ROW_FIELDS = (
    "person_id",
    "name",
    "pgy",
    "block",
    "start",
    "end",
    "rotation_id",
    "rotation",
    "locked",
    "source",
)


class CurriculumCount(NamedTuple):
    """A resident's blocks of one curriculum rotation over the year against what they need."""

    have: float
    need_min: int
    need_max: float

    @property
    def short(self) -> bool:
        return self.have < self.need_min

    @property
    def over(self) -> bool:
        return self.have > self.need_max

    @property
    def met(self) -> bool:
        return not self.short and not self.over

    @property
    def fraction(self) -> str:
        """``4/4``, ``2.5/1-3``: have / need (a range when the minimum and maximum differ)."""
        need = f"{self.need_min}" if self.need_min == self.need_max else f"{self.need_min}-{self.need_max:g}"
        return f"{self.have:g}/{need}"

    def label(self, rotation_id: str) -> str:
        """``WARDS 4/4``, ``AMB 2/1-3``."""
        return f"{rotation_id} {self.fraction}"


@dataclass(frozen=True)
class Cell:
    """One resident in one block: the rotations of their rows there (two for half-blocks, in date
    order), or ``away`` for a block a leave covers entirely, or nothing (not planned)."""

    rotations: tuple[str, ...] = ()
    away: bool = False

    @property
    def text(self) -> str:
        if self.rotations:
            return "/".join(self.rotations)
        return AWAY if self.away else NO_ROW


# ---------------------------------------------------------------------------- the model


def _blocks(program: Program) -> tuple[BlockDates, ...]:
    return program.year_blocks()


def plan_residents(program: Program) -> list[Person]:
    """Residents in the picture's order: by PGY, then id; inactive ones only with plan rows."""
    residents = [p for p in program.people if p.is_resident and (p.active or p.id in program.plan_by_person)]
    return sorted(residents, key=lambda p: (p.pgy or 0, p.id))


def block_value(row: PlanEntry) -> float:
    """A plan row's blocks: a half-block counts a half."""
    return 0.5 if row.days <= HALF_BLOCK_MAX_DAYS else 1.0


def _year_rows(program: Program, person_id: str) -> list[PlanEntry]:
    rows = program.plan_by_person.get(person_id, ())
    blocks = _blocks(program)
    if not blocks:
        return list(rows)
    first, last = blocks[0].start, blocks[-1].end
    return [r for r in rows if first <= r.start <= last]


def plan_cells(program: Program) -> dict[str, dict[int, Cell]]:
    """Per resident (``plan_residents``), per block number of the year: the cell."""
    cells: dict[str, dict[int, Cell]] = {}
    for person in plan_residents(program):
        rows = program.plan_by_person.get(person.id, ())
        away = program.away_blocks(person.id)
        mine: dict[int, Cell] = {}
        for block in _blocks(program):
            rotations = tuple(r.rotation_id for r in rows if r.start <= block.end and r.end >= block.start)
            mine[block.number] = Cell(rotations=rotations, away=block.number in away)
        cells[person.id] = mine
    return cells


def curriculum_counts(program: Program) -> dict[str, dict[str, CurriculumCount]]:
    """Per resident, per curriculum rotation of their PGY (in curriculum order): blocks planned over
    the year (half-blocks 0.5) and the need: the minimum ``required_blocks`` over the blocks they
    are present for (a block away entirely is not present), the maximum as written, as the
    compliance engine's ``curriculum.requirements`` judges them."""
    blocks = _blocks(program)
    counts: dict[str, dict[str, CurriculumCount]] = {}
    for person in plan_residents(program):
        have: dict[str, float] = {}
        for row in _year_rows(program, person.id):
            have[row.rotation_id] = have.get(row.rotation_id, 0.0) + block_value(row)
        present = len(blocks) - len(program.away_blocks(person.id))
        mine: dict[str, CurriculumCount] = {}
        for need in (n for n in program.curriculum if n.pgy == person.pgy):
            least, _ = required_blocks(need, present, len(blocks))
            mine[need.rotation] = CurriculumCount(have.get(need.rotation, 0.0), least, need.max_blocks)
        counts[person.id] = mine
    return counts


def rotation_palette(program: Program) -> dict[str, str]:
    """``{rotation_id: "#RRGGBB"}`` in the order of ``program.block_rotations`` (fixed, deterministic)."""
    return {rotation.id: PALETTE[index % len(PALETTE)][0] for index, rotation in enumerate(program.block_rotations)}


def rotation_markers(program: Program) -> dict[str, str]:
    """``{rotation_id: emoji}``: the markdown's marker of each palette colour."""
    return {rotation.id: PALETTE[index % len(PALETTE)][1] for index, rotation in enumerate(program.block_rotations)}


def text_colour(hex_colour: str) -> str:
    """Black or white, whichever reads on ``hex_colour`` (relative luminance)."""
    red, green, blue = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else "#FFFFFF"


def counts_summary(counts: dict[str, CurriculumCount], *, flag: str = "!") -> str:
    """``WARDS 4/4 ICU 1/2! ...``: each count, ``flag`` after one short of or over its need."""
    return " ".join(count.label(rotation) + ("" if count.met else flag) for rotation, count in counts.items())


def _title(program: Program) -> str:
    label = program.year.label if program.year is not None else "no academic year"
    return f"Block schedule {label}"


# ---------------------------------------------------------------------------- markdown


def plan_grid_markdown(program: Program) -> str:
    """People x blocks as markdown tables, one per PGY class, each cell the rotation id after its
    colour's marker; a curriculum column (have/need, ⚠ where short or over); a legend."""
    blocks = _blocks(program)
    markers = rotation_markers(program)
    cells = plan_cells(program)
    counts = curriculum_counts(program)
    lines = [f"## {_title(program)}", ""]
    if not blocks:
        return "\n".join([*lines, "The program has no academic year: nothing to show."])
    residents = plan_residents(program)
    shorts = sum(1 for p in residents if not all(c.met for c in counts[p.id].values()))
    lines += [
        f"{len(residents)} residents x {len(blocks)} blocks ({blocks[0].start} .. {blocks[-1].end}); "
        f"{shorts} with a curriculum count short or over.",
        "",
    ]

    def cell(value: Cell) -> str:
        if value.rotations:
            return " ".join(f"{markers.get(r, '')}{r}" for r in value.rotations)
        return f"_{AWAY}_" if value.away else NO_ROW

    for pgy in sorted({p.pgy or 0 for p in residents}):
        lines += [f"### PGY-{pgy}", ""]
        header = ["person", *(f"B{b.number}" for b in blocks), "curriculum (have/need)"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        for person in (p for p in residents if (p.pgy or 0) == pgy):
            row = [
                person.id,
                *(cell(cells[person.id][b.number]) for b in blocks),
                counts_summary(counts[person.id], flag=" ⚠"),
            ]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines += ["**Legend**", ""]
    lines += [f"- {markers[r.id]} `{r.id}` {r.name}" for r in program.block_rotations]
    lines += [
        f"- _{AWAY}_: a leave covering the whole block (no plan row); {NO_ROW}: not planned",
        "- curriculum: blocks planned over the year / the need (prorated for blocks away); ⚠ short or over",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- terminal


def _ansi(hex_colour: str, text: str) -> str:
    red, green, blue = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    fg = "30" if text_colour(hex_colour) == "#000000" else "97"
    return f"\x1b[48;2;{red};{green};{blue}m\x1b[{fg}m{text}\x1b[0m"


def plan_grid_text(program: Program, *, colour: bool) -> str:
    """People x blocks aligned for a terminal, grouped by PGY, the curriculum count after each row
    (``!`` short or over) and a legend; ``colour`` paints each cell its rotation's background
    (24-bit ANSI), else plain text."""
    blocks = _blocks(program)
    if not blocks:
        return f"{_title(program)}\nThe program has no academic year: nothing to show."
    palette = rotation_palette(program)
    cells = plan_cells(program)
    counts = curriculum_counts(program)
    residents = plan_residents(program)
    width = max([len(c.text) for mine in cells.values() for c in mine.values()] + [len(f"B{len(blocks)}"), 4])
    id_width = max([len(p.id) for p in residents] + [len("person")])

    def paint(value: Cell) -> str:
        text = f"{value.text:<{width}}"
        if not colour:
            return text
        if value.rotations:
            return _ansi(palette.get(value.rotations[0], AWAY_HEX), text)
        return _ansi(AWAY_HEX, text) if value.away else text

    header = " ".join(f"{'B' + str(b.number):<{width}}" for b in blocks)
    lines = [
        f"{_title(program)}  ({blocks[0].start} .. {blocks[-1].end})",
        f"{'person':<{id_width}}  {header}  have/need",
    ]
    for pgy in sorted({p.pgy or 0 for p in residents}):
        lines.append(f"PGY-{pgy}")
        for person in (p for p in residents if (p.pgy or 0) == pgy):
            row = " ".join(paint(cells[person.id][b.number]) for b in blocks)
            lines.append(f"{person.id:<{id_width}}  {row}  {counts_summary(counts[person.id])}")
    # The same characters with or without colour: the key is padded as a painted cell is.
    legend = [
        (_ansi(palette[r.id], f" {r.id} ") if colour else f" {r.id} ") + f" {r.name}" for r in program.block_rotations
    ]
    lines.append("Legend: " + "  ".join(legend))
    lines.append(
        f"{AWAY}: a leave covering the whole block  {NO_ROW}: not planned  have/need: blocks over the year, ! short or over"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- rows


def _block_number(program: Program, day: date) -> int | None:
    return next((b.number for b in _blocks(program) if b.start <= day <= b.end), None)


def plan_rows(program: Program) -> list[dict[str, Any]]:
    """The plan's rows (``PLAN_ROW_FIELDS``) in the picture's order (PGY, person, start): ``start``
    and ``end`` dates, ``block`` the number of the year's block the row starts in (None outside the
    year), ``rotation`` the rotation's name, ``source`` its string."""
    people = program.people_by_id
    order = {p.id: index for index, p in enumerate(plan_residents(program))}
    names = {r.id: r.name for r in program.block_rotations}
    rows = sorted(program.plan, key=lambda e: (order.get(e.person_id, len(order)), e.person_id, e.start))
    records = []
    for entry in rows:
        person = people.get(entry.person_id)
        records.append(
            {
                "person_id": entry.person_id,
                "name": person.name if person else None,
                "pgy": person.pgy if person else None,
                "block": _block_number(program, entry.start),
                "start": entry.start,
                "end": entry.end,
                "rotation_id": entry.rotation_id,
                "rotation": names.get(entry.rotation_id),
                "locked": entry.locked,
                "source": entry.source.value,
            }
        )
    return records


def plan_json(program: Program) -> dict[str, Any]:
    """``plan export --format json``: the year, the rows (ISO dates) and the curriculum counts."""
    counts = curriculum_counts(program)
    return {
        "year": program.year.label if program.year is not None else None,
        "blocks": [
            {"number": b.number, "start": b.start.isoformat(), "end": b.end.isoformat()} for b in _blocks(program)
        ],
        "rows": [
            {**row, "start": row["start"].isoformat(), "end": row["end"].isoformat()} for row in plan_rows(program)
        ],
        "curriculum": {
            person_id: {
                rotation: {"have": count.have, "need_min": count.need_min, "need_max": count.need_max}
                for rotation, count in mine.items()
            }
            for person_id, mine in counts.items()
        },
    }


def plan_csv(program: Program) -> str:
    """``plan export --format csv``: ``PLAN_ROW_FIELDS`` with ISO dates, a header row first."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PLAN_ROW_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in plan_rows(program):
        writer.writerow({**row, "start": row["start"].isoformat(), "end": row["end"].isoformat()})
    return buffer.getvalue()


__all__ = [
    "PALETTE",
    "PLAN_ROW_FIELDS",
    "Cell",
    "CurriculumCount",
    "counts_summary",
    "curriculum_counts",
    "plan_cells",
    "plan_csv",
    "plan_grid_markdown",
    "plan_grid_text",
    "plan_json",
    "plan_residents",
    "plan_rows",
    "rotation_markers",
    "rotation_palette",
    "text_colour",
]
