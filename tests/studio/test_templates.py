"""The template authoring helpers that need no store: line endings normalized, and the side-by-side
diff (checked against every pair of texts hypothesis finds)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.studio.templates import DiffRow, normalized, side_by_side

LINES = st.lists(st.sampled_from(["a", "b", "c", "{{ x }}", "", "<p>"]), max_size=30)


def text(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def test_crlf_and_cr_become_lf() -> None:
    assert normalized("a\r\nb\rc\n") == "a\nb\nc\n"


def test_a_one_line_edit_saved_with_crlf_is_one_changed_line() -> None:
    before = "\n".join(f"line {n}" for n in range(1, 21)) + "\n"
    after = normalized(before.replace("line 10", "line ten").replace("\n", "\r\n"))
    rows = side_by_side(before, after)
    assert [row for row in rows if row.kind not in ("same", "skipped")] == [
        DiffRow("changed", 10, "line 10", 10, "line ten")
    ]
    assert rows[0] == DiffRow("skipped", skipped=6) and rows[-1] == DiffRow("skipped", skipped=7)


@given(LINES, LINES)
def test_without_folding_both_versions_read_back_whole(old: list[str], new: list[str]) -> None:
    rows = side_by_side(text(old), text(new), context=10_000)
    if old == new:
        assert rows == []  # the page says there are no differences
        return
    assert all(row.kind != "skipped" for row in rows)
    assert [row.old_text for row in rows if row.old_text is not None] == old
    assert [row.new_text for row in rows if row.new_text is not None] == new
    assert [row.old_line for row in rows if row.old_line is not None] == list(range(1, len(old) + 1))
    assert [row.new_line for row in rows if row.new_line is not None] == list(range(1, len(new) + 1))
    assert all(row.old_text == row.new_text for row in rows if row.kind == "same")
    assert all(row.new_line is None for row in rows if row.kind == "removed")
    assert all(row.old_line is None for row in rows if row.kind == "added")


@given(LINES, LINES)
def test_folding_hides_only_unchanged_lines_and_counts_them(old: list[str], new: list[str]) -> None:
    whole = side_by_side(text(old), text(new), context=10_000)
    folded = side_by_side(text(old), text(new), context=1)
    assert [r for r in folded if r.kind not in ("same", "skipped")] == [r for r in whole if r.kind != "same"]
    shown_old = sum(1 for r in folded if r.old_line is not None)
    assert shown_old + sum(r.skipped for r in folded) == (len(old) if old != new else 0)
    assert all(r.skipped > 0 for r in folded if r.kind == "skipped")
