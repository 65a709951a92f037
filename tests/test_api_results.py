"""The Python API's explain() and check(): their numbers against closed forms worked out independently, their
verdicts, and how they display: in a terminal (rich), in Jupyter (IPython's display formatter: HTML and LaTeX) and as
text."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import mcalc

A = np.array([[1.0, 2.0], [3.0, 4.0]])
B = np.array([[5.0, 6.0], [7.0, 8.0]])
AB = {"A": A, "B": B}
NOTEBOOK = Path(__file__).parent.parent / "examples" / "notebook.ipynb"


def rendered(obj, width: int = 120) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, no_color=True, highlight=False).print(obj)
    return buf.getvalue()


# --- explain -------------------------------------------------------------------------------------------------------

def test_explain_gives_the_jacobian_its_labels_and_its_closed_form():
    e = mcalc.explain("A@B", "A", AB)
    np.testing.assert_array_equal(e.jacobian, np.kron(np.eye(2), B.T))        # row-major vec: I ⊗ Bᵀ
    assert e.closed_form == e.jacobian_form == "kron(eye(2), B.T)" and e.gradient_form is None
    assert e.verified is True and e.max_abs_error == 0 and e.not_verified_because is None
    assert e.row_labels == ["f[0,0]", "f[0,1]", "f[1,0]", "f[1,1]"]
    assert e.col_labels == ["A[0,0]", "A[0,1]", "A[1,0]", "A[1,1]"] and e.labels == (e.row_labels, e.col_labels)
    assert e.pretty == "I₂ ⊗ Bᵀ" and "I_{2} \\otimes B^\\top" in e.latex and "\\begin{align*}" in e.latex
    assert e.differential == "d(A B) = dA B" and e.steps[0]["operation"] == "matmul"
    assert e.chosen == () and set(e.values) == {"A", "B"}
    np.testing.assert_array_equal(e.values["B"], B)
    c = mcalc.explain("A@B", "A", AB, order="col")
    np.testing.assert_array_equal(c.jacobian, np.kron(B.T, np.eye(2)))        # column-major vec: Bᵀ ⊗ I
    assert c.closed_form == "kron(B.T, eye(2))" and c.col_labels == ["A[0,0]", "A[1,0]", "A[0,1]", "A[1,1]"]
    d = mcalc.explain("A@B", "A", AB, layout="denominator")
    np.testing.assert_array_equal(d.jacobian, np.kron(np.eye(2), B.T).T)
    assert d.row_labels == e.col_labels and d.col_labels == e.row_labels


def test_explain_is_the_api_jacobian_with_the_values_it_chose():
    e = mcalc.explain("tanh(W@x + b)", "W", shapes="W=3x4,x=4,b=3", seed=3)
    assert set(e.chosen) == {"W", "x", "b"} and e.values["W"].shape == (3, 4)
    np.testing.assert_array_equal(e.jacobian, mcalc.jacobian("tanh(W@x + b)", "W", e.values))
    np.testing.assert_array_equal(e.jacobian, mcalc.jacobian("tanh(W@x + b)", "W", shapes="W=3x4,x=4,b=3", seed=3))
    W, x, b = e.values["W"], e.values["x"], e.values["b"]
    s = 1 - np.tanh(W @ x + b) ** 2
    np.testing.assert_allclose(e.jacobian, np.diag(s) @ np.kron(np.eye(3), x), rtol=1e-12)   # diag(1-y²)(I ⊗ xᵀ)
    e.values["W"][0, 0] = 99.0                              # (copies: the object's numbers stay as computed)
    assert e.jacobian.shape == (3, 12) and mcalc.explain("tanh(W@x + b)", "W", shapes="W=3x4,x=4,b=3",
                                                         seed=3).values["W"][0, 0] != 99.0


def test_a_scalars_closed_form_is_its_gradient_and_checks_itself():
    e = mcalc.explain("trace(A@B)", "A", AB)
    np.testing.assert_array_equal(e.jacobian, B.T.reshape(1, -1))           # ∇ tr(AB) = Bᵀ, as one row
    assert e.closed_form == e.gradient_form == "B.T" and e.jacobian_form == "row(vec(B.T))"
    assert mcalc.check("trace(A@B)", e.closed_form, "A", AB)                # as `mcalc explain -f plain` | check


def test_explain_without_a_closed_form_still_has_the_jacobian():
    e = mcalc.explain("sort(x)", "x", {"x": [3.0, 1.0, 2.0]})
    assert e.closed_form is None and e.verified is None and "no closed form" in e.not_verified_because
    np.testing.assert_array_equal(e.jacobian, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert "no closed form known" in rendered(e) and "jacobian() computes it" in rendered(e)


def test_explain_a_hessian():
    rng = np.random.default_rng(1)
    M = rng.normal(size=(3, 3))
    h = mcalc.explain("x@A@x", "x", {"x": [1.0, 2.0, 3.0], "A": M}, hessian=True)
    np.testing.assert_allclose(h.jacobian, M + M.T, rtol=1e-12)             # ∇²(xᵀAx) = A + Aᵀ
    assert h.kind == "hessian" and h.closed_form == "A.T + A" and h.verified
    assert h.row_labels == h.col_labels == ["x[0]", "x[1]", "x[2]"]
    assert "H at the values used" in rendered(h) and "hessian=array(" in repr(h)
    with pytest.raises(mcalc.UsageError, match="scalar"):
        mcalc.explain("A@B", "A", AB, hessian=True)


# --- check ---------------------------------------------------------------------------------------------------------

def test_a_right_answer():
    v = mcalc.check("A@B", "kron(eye(2), B.T)", "A", AB)
    assert v.right and bool(v) and v.kind == "jacobian" and v.wrong == [] and v.wrong_count == 0
    np.testing.assert_array_equal(v.expected, np.kron(np.eye(2), B.T))
    np.testing.assert_array_equal(v.given, v.expected)
    assert mcalc.check("A@B", np.kron(np.eye(2), B.T), "A", AB)             # an array
    assert mcalc.check("A@B", np.kron(np.eye(2), B.T).tolist(), "A", AB)    # nested lists
    assert mcalc.check("A@B", "kron(B.T, eye(2))", "A", AB, order="col")


def test_a_wrong_answer_names_the_slip_in_the_apis_words_and_lists_the_wrong_entries():
    v = mcalc.check("A@B", "kron(B.T, eye(2))", "A", AB)                    # the column-major Jacobian
    assert not v and v.right is False and v.wrong_count == 10
    assert any('order="col" would accept it' in d for d in v.diagnosis), v.diagnosis
    assert not any("--" in d for d in v.diagnosis)
    E, G = np.kron(np.eye(2), B.T), np.kron(B.T, np.eye(2))
    assert v.wrong and len(v.wrong) <= 10
    for w in v.wrong:
        assert w.expected == E[w.row, w.column] != w.given == G[w.row, w.column]
        assert w.label == f"{v_row(w.row)} wrt {v_col(w.column)}"
    t = mcalc.check("A@B", "kron(eye(2), B)", "A", AB)                      # the transpose: the other layout
    assert any('layout="denominator" would accept it' in d for d in t.diagnosis), t.diagnosis


def v_row(i):
    return ["f[0,0]", "f[0,1]", "f[1,0]", "f[1,1]"][i]


def v_col(j):
    return ["A[0,0]", "A[0,1]", "A[1,0]", "A[1,1]"][j]


def test_one_wrong_entry_of_a_gradient_is_named():
    G = B.T.copy()
    G[0, 1] = 100.0
    v = mcalc.check("trace(A@B)", G, "A", AB)
    assert v.kind == "gradient" and not v.right and v.wrong_count == 1
    assert v.wrong == [mcalc.WrongEntry("∂f/∂A[0,1]", 7.0, 100.0, 0, 1)]
    assert isinstance(v.wrong[0], mcalc.WrongEntry)
    t = mcalc.check("trace(A@B)", "B", "A", AB)                             # the transposed gradient
    assert any("transpose of the gradient" in d for d in t.diagnosis)


def test_check_a_hessian_and_a_tolerance():
    M = np.array([[1.0, 2.0], [0.0, 3.0]])
    vals = {"x": [1.0, -1.0], "A": M}
    assert mcalc.check("x@A@x", M + M.T, "x", vals, hessian=True).kind == "hessian"
    assert mcalc.check("x@A@x", "A + A.T", "x", vals, hessian=True)
    assert not mcalc.check("x@A@x", "2*A", "x", vals, hessian=True)
    assert not mcalc.check("A@B", np.kron(np.eye(2), B.T) + 1e-6, "A", AB)
    assert mcalc.check("A@B", np.kron(np.eye(2), B.T) + 1e-6, "A", AB, tol=1e-5)


def test_a_wrong_size_says_so():
    v = mcalc.check("A@B", A, "A", AB)
    assert not v.right and "(4, 4)" in v.size_message and v.wrong == [] and v.given.shape == (2, 2)


@pytest.mark.parametrize("call", [
    lambda: mcalc.check("A@B", object(), "A", AB),
    lambda: mcalc.check("A@B", [[1, 2], [3]], "A", AB),
    lambda: mcalc.check("A@B", [[np.nan]], "A", AB),
    lambda: mcalc.check("A@B", "kron(eye(2), C)", "A", AB),
    lambda: mcalc.check("A@B", "kron(eye(2),", "A", AB),
    lambda: mcalc.check("A@B", None, "A", AB),
    lambda: mcalc.check("A@B", "B", "A", AB, tol=5),
    lambda: mcalc.check("A@B", "B", "Z", AB),
    lambda: mcalc.check("x@x", "2*x", "x", shapes="3", hessian=True, order="Z"),
    lambda: mcalc.explain("A@B", "A", {"A": A, "C": B}),
    lambda: mcalc.explain("A@", "A"),
    lambda: mcalc.explain(None),
    lambda: mcalc.explain("log(x)", "x", {"x": [-1.0]}),
])
def test_bad_input_raises_mcalc_errors_in_the_apis_words(call):
    with pytest.raises(mcalc.McalcError) as info:
        call()
    assert not isinstance(info.value, mcalc.InternalError), info.value
    assert "--" not in str(info.value), info.value


def test_explain_and_check_are_also_the_modules_of_their_names():
    import inspect

    import mcalc.check
    import mcalc.explain as module

    assert module is sys.modules["mcalc.explain"] and callable(module) and module("2*x", "x").closed_form == "2"
    assert mcalc.check("A@B", "kron(eye(2), B.T)", "A", AB) and mcalc.check.check_text
    assert str(inspect.signature(mcalc.check)).startswith("(expr, expect, wrt=None")
    assert "Verdict" in type(mcalc.check).__call__.__doc__
    fresh = ("import inspect, mcalc\n"                  # (before the module is imported: the function itself)
             "assert inspect.isfunction(mcalc.check) and inspect.isfunction(mcalc.explain)\n"
             "import mcalc.check\n"
             "assert mcalc.check('x*2', '2', 'x').right and mcalc.check.__name__ == 'mcalc.check'\n")
    out = subprocess.run([sys.executable, "-c", fresh], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_explain_and_check_patch_through_to_their_modules(monkeypatch):
    import mcalc.check

    def broken(*a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(mcalc.check, "check_text", broken)
    assert sys.modules["mcalc.check"].check_text is broken
    with pytest.raises(mcalc.InternalError, match="ZeroDivisionError"):
        mcalc.check("A@B", "B", "A", AB)
    monkeypatch.undo()
    assert sys.modules["mcalc.check"].check_text is not broken


# --- display: the terminal, text, repr -------------------------------------------------------------------------

def test_an_explanation_renders_as_the_command_line_with_its_matrix():
    e = mcalc.explain("A@B", "A", shapes="2x2")
    out = rendered(e)
    for text in ("f       A@B", "J = I₂ ⊗ Bᵀ", "kron(eye(2), B.T)",
                 "✓ equals the analytic Jacobian", "J at the values used", "│ A[0,0] A[0,1] │ A[1,0] A[1,1]",
                 "f[1,1] │"):
        assert text in out, text
    assert "chosen by mcalc" in out and "set with values=" in out and "--value" not in out
    assert str(e) == rendered(e, width=100)
    assert repr(e).startswith("Explanation(expression='A@B', wrt=('A',)") and "jacobian=array([[" in repr(e)


def test_a_verdict_renders_as_the_command_line():
    v = mcalc.check("A@B", "kron(B.T, eye(2))", "A", AB)
    out = rendered(v, width=160)
    for text in ("expected (Jacobian)", "your answer", "✗ wrong: 10 of 16 entries", 'order="col" would accept it',
                 "wrong entries: f["):
        assert text in out, text
    assert repr(v).startswith("Verdict(right=False, kind='jacobian'")
    assert "✓ right: it is the Jacobian" in str(mcalc.check("A@B", "kron(eye(2), B.T)", "A", AB))


def test_large_matrices_are_cut_on_the_terminal():
    e = mcalc.explain("x*y", "x", shapes="x=300,y=300")
    out = rendered(e)
    assert "showing" in out and ".jacobian has every entry" in out and len(out.splitlines()) < 120


# --- display: HTML and LaTeX ---------------------------------------------------------------------------------

def test_html_is_a_labelled_table_with_shaded_blocks():
    html = mcalc.explain("A@B", "A", AB)._repr_html_()
    assert html.count("<table") == 1 and html.count("<tr>") == 5                 # a header row and 4 rows
    for label in ("A[0,0]", "A[1,1]", "f[0,0]", "f[1,1]"):
        assert f">{label}</th>" in html, label
    assert "background:rgba(127,127,127,0.10)" in html                      # the off-diagonal blocks
    assert "border-left:1px solid" in html and "border-top:1px solid" in html    # rules between blocks
    assert "J at the values used" in html and "kron(eye(2), B.T)" in html
    assert 'title="f[0,1] wrt A[0,0]"' in html


def test_html_escapes_the_users_text():
    e = mcalc.explain("A@B # <script>alert(1)</script>", "A", AB)
    html = e._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_html_and_latex_cut_large_matrices_as_numpy_does():
    e = mcalc.explain("x*y", "x", shapes="x=300,y=300")
    html = e._repr_html_()
    assert html.count("<tr>") == 1 + 31 and "showing 30 of 300 rows, 20 of 300 columns" in html
    assert "⋮" in html and "…" in html and len(html) < 200_000
    tex = e._repr_latex_()
    assert "\\cdots" in tex and "\\vdots" in tex and "\\ddots" in tex and tex.count("\\\\") < 40


def test_latex_is_the_command_lines_with_the_matrix():
    e = mcalc.explain("A@B", "A", AB)
    tex = e._repr_latex_()
    assert tex.startswith(e.latex.rstrip("\n").split("\n")[0]) and "J &= I_{2} \\otimes B^\\top" in tex
    assert "\\begin{array}{cc|cc}" in tex and "\\hline" in tex and "\\text{at } A = \\begin{bmatrix}" in tex
    assert not any(line.lstrip().startswith("%") for line in tex.splitlines())     # (MathJax would print them)
    v = mcalc.check("A@B", "kron(B.T, eye(2))", "A", AB)
    tex = v._repr_latex_()
    assert tex.count("\\boxed{") == 10 and "\\text{your answer}" in tex
    assert 'order="col" would accept it)}' in tex and "\\text{your answer is the Jacobian in column-major" in tex
    assert mcalc.check("trace(A@B)", "B", "A", AB)._repr_latex_().count("\\partial") >= 1


def test_latex_text_holds_what_latex_and_mathjax_both_read():
    from mcalc.display import tex_text

    assert tex_text("a_b {c} 50% & #1 $") == \
        "\\text{a}\\_\\text{b }\\{\\text{c}\\}\\text{ 50}\\%\\text{ }\\&\\text{ }\\#\\text{1 }\\$"
    assert tex_text("∂f/∂A written as Aᵀ") == "\\partial \\text{f/}\\partial \\text{A written as A}^\\top"


def test_jupyter_renders_them_as_html_and_latex():
    formatters = pytest.importorskip("IPython.core.formatters")
    f = formatters.DisplayFormatter()
    for obj in (mcalc.explain("A@B", "A", AB), mcalc.check("A@B", "kron(B.T, eye(2))", "A", AB),
                mcalc.check("trace(A@B)", "B.T", "A", AB), mcalc.explain("x@A@x", "x", shapes="x=2,A=2x2",
                                                                         hessian=True)):
        data, _ = f.format(obj)
        assert {"text/plain", "text/html", "text/latex"} <= set(data), set(data)
        assert data["text/html"].startswith('<div class="mcalc"') and "<table" in data["text/html"]
        assert "\\begin{" in data["text/latex"]
        assert data["text/plain"] == repr(obj)


# --- the example notebook ------------------------------------------------------------------------------------

def test_the_example_notebook_shows_jacobian_explain_and_check_as_html_and_latex():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["nbformat"] == 4 and nb["metadata"]["kernelspec"]["language"] == "python"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in code]
    for name in ("mcalc.jacobian(", "mcalc.explain(", "mcalc.check("):
        assert any(name in s for s in sources), name
    shown = [o for c in code for o in c["outputs"] if o["output_type"] == "execute_result"]
    assert sum("text/html" in o["data"] and "text/latex" in o["data"] for o in shown) >= 3
    html = "".join("".join(o["data"].get("text/html", "")) for o in shown)
    assert "J at the values used" in html and "your answer" in html


def test_the_example_notebook_runs_and_its_outputs_are_current():
    """Each code cell run in order gives the results saved, as text and LaTeX (the HTML holds rich's export of
    the terminal view, which may change with rich's version).  Regenerate: python scripts/make_notebook.py."""
    formatters = pytest.importorskip("IPython.core.formatters")
    f = formatters.DisplayFormatter()
    nb = json.loads(NOTEBOOK.read_text())
    scope: dict = {}
    for cell in (c for c in nb["cells"] if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        *body, last = source.rstrip("\n").split("\n")
        exec("\n".join(body), scope)                                         # noqa: S102 - our own example
        value = eval(last, scope)                                            # noqa: S307
        saved = [o for o in cell["outputs"] if o["output_type"] == "execute_result"]
        data, _ = f.format(value)
        assert saved and set(saved[0]["data"]) == set(data), source
        for kind in ("text/plain", "text/latex"):
            assert "".join(saved[0]["data"].get(kind, "")) == data.get(kind, ""), (source, kind)


def test_explain_and_check_import_nothing_heavy():
    code = ("import sys, mcalc\n"
            "mcalc.explain('A@B', 'A', shapes='2x2'); mcalc.check('A@B', 'kron(eye(2), B.T)', 'A', shapes='2x2')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'scipy', 'IPython', 'rich'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_an_explained_hessian_is_named_hessian():
    """explain(..., hessian=True) shows hessian=array(...) in its repr: .hessian is that array (it raised
    AttributeError); a Jacobian's explanation has none."""
    import numpy as np

    import mcalc

    A = np.array([[2.0, 1.0], [0.0, 3.0]])
    e = mcalc.explain("x@A@x", "x", values={"x": [1.0, 2.0], "A": A}, hessian=True)
    assert np.allclose(e.hessian, A + A.T) and e.hessian is e.jacobian
    with pytest.raises(AttributeError):
        mcalc.explain("A@B", "A", shapes="2x2").hessian
