"""Small-cell suppression: properties over random tables, and worked examples."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.operation.suppression import suppress

tables = st.integers(1, 6).flatmap(
    lambda rows: st.integers(1, 6).flatmap(
        lambda columns: st.tuples(
            st.just(rows),
            st.just(columns),
            st.lists(st.integers(0, 30), min_size=rows * columns, max_size=rows * columns),
        )
    )
)


def _counts(rows: int, columns: int, values: list[int]) -> dict[tuple[int, int], int]:
    return {(r, c): values[r * columns + c] for r in range(rows) for c in range(columns)}


@given(tables, st.integers(1, 12))
def test_no_published_cell_or_total_below_k(table: tuple[int, int, list[int]], k: int) -> None:
    result = suppress(_counts(*table), k)
    published = [v for v in result.cells.values() if v is not None]
    published += [
        v for v in (*result.row_totals.values(), *result.column_totals.values(), result.total) if v is not None
    ]
    assert all(v >= k for v in published)


@given(tables, st.integers(1, 12))
def test_no_line_with_a_single_suppressed_cell_when_its_total_is_published(
    table: tuple[int, int, list[int]], k: int
) -> None:
    result = suppress(_counts(*table), k)
    for r in result.rows:
        hidden = [c for c in result.columns if result.cells[(r, c)] is None]
        assert not (len(hidden) == 1 and result.row_totals[r] is not None), (r, result)
    for c in result.columns:
        hidden = [r for r in result.rows if result.cells[(r, c)] is None]
        assert not (len(hidden) == 1 and result.column_totals[c] is not None), (c, result)
    if result.total is not None:  # the totals of each dimension against the grand total
        assert sum(1 for v in result.row_totals.values() if v is None) != 1
        assert sum(1 for v in result.column_totals.values() if v is None) != 1


@given(tables, st.integers(1, 12))
def test_published_values_are_the_true_counts(table: tuple[int, int, list[int]], k: int) -> None:
    counts = _counts(*table)
    result = suppress(counts, k)
    for cell, value in result.cells.items():
        assert value is None or value == counts[cell]
        assert (cell in result.suppressed) == (value is None)
    for r, value in result.row_totals.items():
        assert value is None or value == sum(v for (row, _c), v in counts.items() if row == r)
    for c, value in result.column_totals.items():
        assert value is None or value == sum(v for (_r, col), v in counts.items() if col == c)
    assert result.total is None or result.total == sum(counts.values())
    assert result.primary == {cell for cell, v in counts.items() if v < k}


def test_a_single_small_cell_takes_the_next_smallest_of_its_row_and_column() -> None:
    counts = {("A", "x"): 3, ("A", "y"): 10, ("A", "z"): 20, ("B", "x"): 12, ("B", "y"): 15, ("B", "z"): 30}
    result = suppress(counts, 5)
    assert result.primary == {("A", "x")}
    # row A: y (10) is smaller than z (20); column x: B·x (12) is the only other one
    assert result.secondary == {("A", "y"), ("B", "x"), ("B", "y")}
    assert result.cells[("A", "z")] == 20 and result.cells[("B", "z")] == 30
    assert result.row_totals == {"A": 33, "B": 57} and result.total == 90
    assert result.marker == "<5"


def test_absent_cells_count_zero_and_are_suppressed() -> None:
    result = suppress({("A", "x"): 9, ("B", "y"): 9}, 5)
    assert result.cells[("A", "y")] is None and result.cells[("B", "x")] is None
    assert ("A", "y") in result.primary


def test_a_line_without_another_published_cell_keeps_its_total_unpublished() -> None:
    result = suppress({("A", "x"): 2, ("A", "y"): 6}, 5, columns=["x", "y"])
    assert result.cells == {("A", "x"): None, ("A", "y"): None}
    assert result.row_totals["A"] == 8  # both hidden: the total does not give either away
    assert result.column_totals == {"x": None, "y": None}  # y would be recoverable from the row otherwise
    assert result.total is None or result.total == 8


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        suppress({("A", "x"): 1}, 0)
