"""The terminal progress bar: one line redrawn in place, erased at the end."""

from __future__ import annotations

import io

from uploader.observe.progress import Progress


def test_the_bar_shows_the_share_of_bytes_and_the_rows() -> None:
    """With a known size the line carries a bar, a percentage and the row count."""
    out = io.StringIO()
    progress = Progress(out, total_bytes=1000, label="in.csv")
    progress.update(4500, 450, force=True)
    line = out.getvalue()
    assert line.startswith("\rin.csv  [##############................]  45%  4,500 rows")
    progress.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_without_a_size_only_rows_are_shown_and_redraws_are_throttled() -> None:
    """stdin has no size: the line counts rows; a redraw within 0.1 s is skipped."""
    out = io.StringIO()
    progress = Progress(out)
    progress.update(10, force=True)
    progress.update(20)
    assert out.getvalue().count("\r") == 1
    assert "10 rows" in out.getvalue()


def test_closing_an_undrawn_bar_writes_nothing() -> None:
    """A fast run that never drew leaves the terminal untouched."""
    out = io.StringIO()
    Progress(out, 10).close()
    assert out.getvalue() == ""
