"""Small-cell suppression (小单元格抑制) for aggregated data products. Pure: no database, no web.

A table is a set of counts keyed by (row, column); cells absent from the input count 0. The
rules, so that no subject can be singled out from a released table:

1. **Primary suppression.** Every cell with a count below ``k`` (zero included) is suppressed:
   released as ``None`` with the marker ``"<k"``.
2. **Totals.** Row, column and grand totals are computed over *all* cells (suppressed ones
   included) and published only when they reach ``k`` themselves.
3. **Secondary suppression.** Where a line's (row's or column's) total is published, a line with
   exactly one suppressed cell would give that cell away by subtraction. The smallest other
   published cell of that line is suppressed too; a line with no other published cell keeps its
   total unpublished instead. The same holds one level up: the row totals are a line whose total
   is the grand total, and so are the column totals. Suppressing a cell can leave another line
   with a single suppressed cell, so the rules are applied until nothing changes (each pass
   suppresses at least one more value, so this ends).

What this does not do (docs/operation.md): it does not solve the linear system of every published
figure (a full audit would), and it cannot see other tables: the same population released in two
differently cut tables can still be differenced. Contracts therefore restrict products and their
parameters, and every release is logged.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)


@dataclass(frozen=True)
class Suppressed(Generic[R, C]):
    """A table ready for release: published values (``None`` where suppressed) and what was hidden."""

    k: int
    rows: tuple[R, ...]
    columns: tuple[C, ...]
    cells: dict[tuple[R, C], int | None]
    row_totals: dict[R, int | None]
    column_totals: dict[C, int | None]
    total: int | None
    primary: frozenset[tuple[R, C]]  # cells below k
    secondary: frozenset[tuple[R, C]]  # cells hidden so the primary ones cannot be recovered

    @property
    def marker(self) -> str:
        return f"<{self.k}"

    @property
    def suppressed(self) -> frozenset[tuple[R, C]]:
        return self.primary | self.secondary


def suppress(
    counts: Mapping[tuple[R, C], int], k: int, *, rows: Sequence[R] | None = None, columns: Sequence[C] | None = None
) -> Suppressed[R, C]:
    """Apply primary and secondary suppression with threshold ``k`` (at least 1) to ``counts``.

    ``rows`` and ``columns`` fix the table's lines and their order (default: those present in
    ``counts``, in order of appearance); every combination is a cell.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if any(value < 0 for value in counts.values()):
        raise ValueError("counts cannot be negative")
    row_keys = tuple(rows) if rows is not None else _ordered(key[0] for key in counts)
    column_keys = tuple(columns) if columns is not None else _ordered(key[1] for key in counts)
    true = {(r, c): int(counts.get((r, c), 0)) for r in row_keys for c in column_keys}
    row_sum = {r: sum(true[(r, c)] for c in column_keys) for r in row_keys}
    column_sum = {c: sum(true[(r, c)] for r in row_keys) for c in column_keys}
    grand = sum(row_sum.values())

    primary = {cell for cell, value in true.items() if value < k}
    hidden = set(primary)
    row_open = {r for r in row_keys if row_sum[r] >= k}  # row totals published
    column_open = {c for c in column_keys if column_sum[c] >= k}
    grand_open = grand >= k

    changed = True
    while changed:
        changed = False
        lines: list[tuple[list[tuple[R, C]], bool, str, Hashable]] = []
        lines += [([(r, c) for c in column_keys], r in row_open, "row", r) for r in row_keys]
        lines += [([(r, c) for r in row_keys], c in column_open, "column", c) for c in column_keys]
        for cells, total_open, kind, key in lines:
            if not total_open:
                continue
            if sum(1 for cell in cells if cell in hidden) != 1:
                continue
            candidates = [cell for cell in cells if cell not in hidden]
            if candidates:
                hidden.add(min(candidates, key=lambda cell: true[cell]))
            elif kind == "row":
                row_open.discard(key)  # type: ignore[arg-type]
            else:
                column_open.discard(key)  # type: ignore[arg-type]
            changed = True
        # The totals of one dimension form a line whose total is the grand total.
        for keys, open_set, sums in ((row_keys, row_open, row_sum), (column_keys, column_open, column_sum)):
            closed = [key for key in keys if key not in open_set]
            if grand_open and len(closed) == 1:
                published = [key for key in keys if key in open_set]
                if published:
                    open_set.discard(min(published, key=lambda key: sums[key]))  # type: ignore[arg-type]
                else:
                    grand_open = False
                changed = True

    return Suppressed(
        k=k,
        rows=row_keys,
        columns=column_keys,
        cells={cell: (None if cell in hidden else value) for cell, value in true.items()},
        row_totals={r: (row_sum[r] if r in row_open else None) for r in row_keys},
        column_totals={c: (column_sum[c] if c in column_open else None) for c in column_keys},
        total=grand if grand_open else None,
        primary=frozenset(primary),
        secondary=frozenset(hidden - primary),
    )


def _ordered(keys: Iterable[R]) -> tuple[R, ...]:
    return tuple(dict.fromkeys(keys))
