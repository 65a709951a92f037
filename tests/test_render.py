"""The renderables, rendered into a string console: blocks, labels, truncation, highlighting, numbers."""

import io

import numpy as np
from rich.console import Console

from mcalc.labels import axis_labels, entry_groups, entry_labels
from mcalc.compare import compute
from mcalc.problem import prepare
from mcalc.render import BlockMatrix, jac_view, number_format


def render(renderable, width=100, color=False):
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None,
            highlight=False).print(renderable)
    return buf.getvalue()


def test_labels_follow_the_flatten_order():
    assert entry_labels("A", (2, 2), "row") == ["A[0,0]", "A[0,1]", "A[1,0]", "A[1,1]"]
    assert entry_labels("A", (2, 2), "col") == ["A[0,0]", "A[1,0]", "A[0,1]", "A[1,1]"]
    assert entry_labels("x", (3,), "col") == ["x[0]", "x[1]", "x[2]"]
    assert entry_labels("s", (), "row") == ["s"]
    assert list(entry_groups((2, 3), "row")) == [0, 0, 0, 1, 1, 1]
    assert list(entry_groups((2, 3), "col")) == [0, 0, 1, 1, 2, 2]
    labels, groups = axis_labels([("r", ()), ("t", ())], "row")
    assert labels == ["r", "t"] and groups == [(0, 0), (1, 0)]


def test_number_formats():
    assert number_format(np.array([1.0, -2.0, 0.0]), 4)(-2.0) == "-2"
    fmt = number_format(np.array([0.5, 0.25]), 4)
    assert fmt(0.5) == "0.50" and fmt(0.25) == "0.25"               # common decimals, trailing zeros trimmed
    assert number_format(np.array([1e-9, 1.0]), 4)(1e-9) == "1.000e-09"
    assert number_format(np.array([0.0]), 4)(0.0) == "0"


def test_blocks_are_separated_by_rules():
    labels = [f"f[{i},{j}]" for i in range(2) for j in range(2)]
    cols = [f"A[{i},{j}]" for i in range(2) for j in range(2)]
    groups = [(0, i) for i in range(2) for _ in range(2)]
    out = render(BlockMatrix(np.arange(16.0).reshape(4, 4), labels, cols, groups, groups))
    lines = out.splitlines()
    assert lines[0].split() == ["│", "A[0,0]", "A[0,1]", "│", "A[1,0]", "A[1,1]"]
    assert sum("┼" in line for line in lines) == 2                  # under the header, between the row blocks
    assert lines[2].split() == ["f[0,0]", "│", "0", "1", "│", "2", "3"]


def test_wide_and_tall_matrices_are_truncated_and_say_so():
    n = 60
    labels = [f"y[{i}]" for i in range(n)]
    out = render(BlockMatrix(np.ones((n, n)), labels, labels, [(0, 0)] * n, [(0, 0)] * n, max_rows=10), width=80)
    assert "…" in out and "⋮" in out
    assert "showing 10 of 60 rows" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_disagreements_are_highlighted():
    result = compute(prepare("sin(1000*x)", "x", {"x": [0.3, 0.4]}), "central", tol=1e-12)
    out = render(jac_view(result), color=True)
    assert "\x1b[1;37;41m" in out                                    # bold white on red
    assert "disagree" in out


def test_view_has_header_matrix_and_verdict():
    result = compute(prepare("A@x", "A", values={"x": [1.0, 2.0]}, shapes="A=2x2"))
    out = render(jac_view(result))
    for fragment in ("f       A@x", "wrt     A (2, 2)", "row-major", "x = [1, 2]", "(chosen by mcalc",
                     "J       2×4", "✓ central differences agree"):
        assert fragment in out, fragment
