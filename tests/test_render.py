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
    tiny = np.array([1e-300, 2e-300, 0.0])                  # all within 1e-10 of 0, and not integers for that
    assert [number_format(tiny, 4)(v) for v in tiny] == ["1.000e-300", "2.000e-300", "0"]


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


# --- styles stay on their own words ----------------------------------------------------------------------------

def ansi(renderable, width=120):
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=True, color_system="truecolor", highlight=False).print(renderable)
    return buf.getvalue()


def sgr_before(out: str, text: str) -> str:
    """The last SGR code before text's first occurrence in out: what text is printed in."""
    import re

    codes = re.findall(r"\x1b\[[0-9;]*m", out[:out.index(text)])
    return codes[-1] if codes else ""


def test_a_mark_or_key_does_not_colour_the_words_after_it():
    from mcalc.check import check_text
    from mcalc.explain import explain
    from mcalc.products import product
    from mcalc.render import check_verdict, explain_view, product_view, verdict

    plain = "\x1b[0m"                                            # (a reset: nothing bold, nothing green)
    out = ansi(verdict(compute(prepare("A@B", "A", shapes="2x2"))))
    assert "\x1b[1;32m✓" in out and sgr_before(out, "central differences agree") == plain
    p = prepare("A@B", "A", shapes="2x2")
    out = ansi(check_verdict(check_text(p, "kron(eye(2), B.T)")))
    assert sgr_before(out, "right: it is the Jacobian") == plain
    ex = explain(p.nodes, p.wrt, p.order, p.layout)
    out = ansi(explain_view(p, ex, (True, 0.0)))
    assert "\x1b[1mdifferential" in out and sgr_before(out, ex.differential) == plain
    assert sgr_before(out, "equals the analytic Jacobian") == plain
    out = ansi(product_view(product(prepare("A@B", "A", shapes="2x2"), "jvp", "ones(2, 2)", None, None)))
    assert sgr_before(out, "differences agree along u") == plain


def test_row_labels_do_not_colour_the_entries_of_their_row():
    out = ansi(BlockMatrix(np.array([[0.0, -1.0, 2.0]]), ["f[0]"], ["x[0]", "x[1]", "x[2]"]))
    row = next(line for line in out.splitlines() if "f[0]" in line)
    assert sgr_before(row, " 0") == "\x1b[2m"                   # a zero: dim alone, not the label's bold yellow
    assert sgr_before(row, "-1") == "\x1b[1;35m" and sgr_before(row, " 2") == "\x1b[1;36m"


# --- one name for an entry -------------------------------------------------------------------------------------

def test_an_entry_is_named_output_wrt_input_in_either_layout_or_as_a_gradient_entry():
    from mcalc.check import check_text, named_wrong
    from mcalc.labels import entry_name, jacobian_entry
    from mcalc.render import verdict

    assert entry_name("f[1,1]", "A[0,1]") == "f[1,1] wrt A[0,1]" and entry_name("f", "x[2]", True) == "∂f/∂x[2]"
    for layout in ("numerator", "denominator"):
        p = prepare("A@B", "A", shapes="2x2", layout=layout)
        i, j = (1, 2) if layout == "numerator" else (2, 1)
        assert jacobian_entry(p, i, j) == ("f[0,1]", "A[1,0]")
        r = check_text(p, "kron(B.T, eye(2))" if layout == "numerator" else "kron(B, eye(2))")
        assert all(label.startswith("f[") and " wrt A[" in label for label, *_ in named_wrong(r))
    result = compute(prepare("sum(sin(1000*x))", "x", {"x": [0.3, 0.4]}), "central", tol=1e-12)
    text = " ".join(verdict(result, gradient=True).plain.split())
    assert "worst at ∂f/∂x[" in text and "also at ∂f/∂x[" in text
    assert "worst at f wrt x[" in " ".join(verdict(result).plain.split())


def test_the_values_given_are_shown_as_given_not_as_rounding_noise():
    """Found by a tester: the header showed A = [[1e-170, 0], [0, 1]] as [[0, 0], [0, 1]] (entries within 1e-12 of
    the largest are rounding noise in a computed matrix, but a value given is data), so the values could not be
    redone by hand.  A computed Jacobian keeps hiding its noise."""
    from mcalc.render import array_text, number_format

    assert "1.000e-170" in array_text(np.array([[1e-170, 0], [0, 1]]), noise=False)
    assert "e-170" not in array_text(np.array([[1e-170, 0], [0, 1]]))
    assert number_format(np.array([3.0, 1e-14]), 4)(1e-14) == "0"
    assert number_format(np.array([3.0, 1e-14]), 4, noise=False)(1e-14) != "0"
