"""grad, explain, --symbolic, --det, --tensor, --vjp/--jvp and the typeset formats, through the command line."""

import re
import shutil
import subprocess

import numpy as np
import pytest
from helpers import js, run

SEED1 = ["--value", "A=1 2 3; 4 5 6", "--value", "b=[13, 14]", "--shape", "W=3x2"]


def test_grad_of_the_seed_examples():
    assert js("grad", "2*sum(A)", "--wrt", "A", "--shape", "2x3")["gradient"] == [[2, 2, 2], [2, 2, 2]]
    assert js("grad", "sum(A@W + b)", "--wrt", "W", *SEED1)["gradient"] == [[5, 5], [7, 7], [9, 9]]


@pytest.mark.parametrize("expr,expected", [
    ("trace(A@X)", lambda X, A: A.T),                         # Matrix Cookbook (100)-(102)
    ("logdet(X)", lambda X, A: np.linalg.inv(X).T),           # (57)
    ("x@A@x", lambda x, A: (A + A.T) @ x),                    # (81)
    ("norm(x)", lambda x, A: x / np.linalg.norm(x)),
    ("sum((A@x)**2)", lambda x, A: 2 * A.T @ A @ x),
])
def test_grad_closed_forms(expr, expected):
    X = np.array([[2.0, 0.5, 0.0], [0.3, 3.0, 1.0], [1.0, -0.5, 2.5]])
    A = np.array([[1.0, 0.2, -0.3], [0.5, 2.0, 0.1], [0.0, 1.0, 1.5]])
    x = np.array([1.0, -2.0, 0.5])
    var = "X" if "X" in expr else "x"
    vals = {"X": X, "x": x, "A": A}
    args = [a for n in ("X", "x", "A") if re.search(rf"\b{n}\b", expr) for a in ("--value", f"{n}={vals[n].tolist()}")]
    doc = js("grad", expr, "--wrt", var, *args)
    assert doc["agree"] is True
    np.testing.assert_allclose(doc["gradient"], expected(vals[var], A), rtol=1e-12)


def test_grad_refuses_a_non_scalar():
    res = run("grad", "A@B", "--wrt", "A", "--shape", "2x2")
    assert res.exit_code == 2 and "use mcalc jac" in res.stderr


def test_grad_pretty_shows_the_variables_shape():
    out = run("grad", "sum(A@W + b)", "--wrt", "W", *SEED1).stdout
    assert "∂f/∂W[2,:]" in out and "[:,1]" in out and "✓" in out


def test_symbolic_output():
    doc = js("jac", "[r*cos(t), r*sin(t)]", "--wrt", "r,t", "--symbolic", "--det")
    assert doc["jacobian_symbolic"] == [["cos(t)", "-r*sin(t)"], ["sin(t)", "r*cos(t)"]]
    assert doc["determinant_symbolic"] == "r"
    assert doc["determinant"] == pytest.approx(doc["values"]["r"])
    out = run("jac", "[r*cos(t), r*sin(t)]", "--wrt", "r,t", "--symbolic", "--det").stdout
    assert "-r*sin(t)" in out and "det J" in out and "symbols count from 1" not in out   # no indices to count
    out = run("grad", "trace(X@X)", "--wrt", "X", "--shape", "2x2", "--symbolic").stdout
    assert "2*x21" in out and "symbols count from 1" in out
    doc = js("grad", "trace(X@X)", "--wrt", "X", "--shape", "2x2", "--symbolic")
    assert doc["gradient_symbolic"] == [["2*x11", "2*x21"], ["2*x12", "2*x22"]]
    res = run("jac", "A@B", "--shape", "6x6", "--wrt", "A", "--symbolic")      # skipped, with a note; numbers follow
    assert res.exit_code == 0 and "symbolic entries skipped" in res.stderr and "readable" in res.stderr
    assert "f[0,0]" in res.stdout


def test_det_needs_a_square_jacobian():
    res = run("jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "A", "--det")
    assert res.exit_code == 2 and "square" in res.stderr


def test_tensor_is_the_4d_array_of_seed_000():
    A, B = [[1, 2], [3, 4]], [[5, 6], [7, 8]]
    doc = js("jac", "A@B", "--wrt", "A", "--value", f"A={A}", "--value", f"B={B}", "--tensor")
    T = np.array(doc["tensor"])
    assert T.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(T, np.einsum("ik,lj->ijkl", np.eye(2), np.array(B)))    # δ_ik B_lj
    res = run("jac", "A@B", "--wrt", "A", "--shape", "2x2", "--tensor", "--format", "csv")
    assert res.exit_code == 2
    res = run("jac", "A@B", "--wrt", "A", "--value", f"A={A}", "--value", f"B={B}", "--tensor", "--no-color")
    assert "T[i,j,k,l] = ∂f[i,j]/∂A[k,l]" in res.stdout and "✓" in res.stdout and "A = [[1, 2]" in res.stdout
    res = run("jac", "A@B", "--wrt", "A", "--shape", "2x2", "--tensor", "--layout", "denominator", "--no-color")
    assert "T[k,l,i,j] = ∂f[i,j]/∂A[k,l]" in res.stdout
    doc = js("jac", "A@B", "--wrt", "A", "--value", f"A={A}", "--value", f"B={B}", "--tensor", "--layout",
             "denominator")
    np.testing.assert_array_equal(np.array(doc["tensor"]), np.einsum("ik,lj->klij", np.eye(2), np.array(B)))


def test_vjp_and_jvp_without_the_jacobian(monkeypatch):
    import mcalc.linops as L

    sizes = []
    real = L.check_dense
    monkeypatch.setattr(L, "check_dense", lambda m, n, *a, **k: (sizes.append(m * n), real(m, n, *a, **k)))
    doc = js("jac", "A@W + b", "--wrt", "W", *SEED1, "--vjp", "ones(2, 2)")
    assert doc["vjp"] == [[5, 5], [7, 7], [9, 9]] and doc["agree"] is True            # seed 001's dS/dW
    n = 40
    doc = js("jac", "tanh(W@x + b)", "--wrt", "W", "--shape", f"W={n}x{n},x={n},b={n}", "--vjp", f"ones({n})")
    assert np.array(doc["vjp"]).shape == (n, n) and doc["agree"] is True
    assert max(sizes, default=0) < n * n * n                  # the n × n² Jacobian was never built
    doc = js("jac", "A@x", "--wrt", "x", "--value", "A=1 2; 3 4", "--value", "x=[1, 1]", "--jvp", "[1, 0]")
    assert doc["jvp"] == [1, 3] and doc["agree"] is True                          # J u = A u
    res = run("jac", "A@x", "--wrt", "x", "--shape", "A=2x2,x=2", "--jvp", "[1, 0, 0]")
    assert res.exit_code == 2 and "shaped like x" in res.stderr


def test_explain_json_and_pretty():
    doc = js("explain", "A@B", "--wrt", "A", "--shape", "2x2")
    assert doc["differential"] == "d(A B) = dA B" and doc["differential_mcalc"] == "dA @ B"
    assert doc["formula"] == "kron(eye(2), B.T)" and doc["formula_pretty"] == "I₂ ⊗ Bᵀ"
    assert doc["verified"] is True and doc["steps"][0]["operation"] == "matmul"
    out = run("explain", "softmax(x)", "--wrt", "x", "--shape", "x=3").stdout
    assert "diag(s) - s sᵀ" in out and "s = softmax(x)" in out and "✓" in out
    doc = js("explain", "sort(x)", "--wrt", "x", "--shape", "x=3")
    assert doc["closed_form"] is False and doc["no_closed_form_for"] == ["take_along_axis"] and doc["formula"] is None
    res = run("explain", "sort(x)", "--wrt", "x", "--shape", "x=3", "--format", "plain")
    assert res.exit_code == 2 and "no closed form" in res.stderr


def _latex_structure(tex: str):
    """Environments balanced, and every row of each array/bmatrix with the same number of cells."""
    assert tex.count("\\begin{") == tex.count("\\end{")
    for body in re.findall(r"\\begin\{(?:bmatrix|array\}\{[^}]*)\}(.*?)\\end\{(?:bmatrix|array)\}", tex, re.S):
        rows = [r for r in re.split(r"\\\\", body) if r.strip() and r.strip() != "\\hline"]
        widths = {r.replace("\\hline", "").count("&") for r in rows}
        assert len(widths) == 1, rows


@pytest.mark.parametrize("args", [
    ["jac", "A@B", "--wrt", "A", "--shape", "2x2"],
    ["jac", "[r*cos(t), r*sin(t)]", "--wrt", "r,t", "--symbolic"],
    ["grad", "x@A@x", "--wrt", "x", "--shape", "x=2,A=2x2", "--symbolic"],
    ["grad", "2*sum(A)", "--wrt", "A", "--shape", "2x3"],
    ["explain", "tanh(W@x + b)", "--wrt", "x", "--shape", "W=3x4,x=4,b=3"],
    ["explain", "X^2", "--wrt", "X", "--shape", "2x2", "--order", "col"],
    ["explain", "X^3", "--wrt", "X", "--shape", "2x2"],                       # (X²)ᵀ: no double superscript
    ["explain", "exp(x * y) * softmax(x)", "--wrt", "x", "--shape", "x=3,y=3"],   # named y₂, s
    ["explain", "det(A)", "--wrt", "A", "--shape", "2x2", "--symbolic"],
    ["explain", "inv(A)", "--wrt", "A", "--shape", "2x2"],
    ["jac", "2*x", "--shape", "x=11"],                                          # wider than a bmatrix
    ["grad", "sum(A*A)", "--wrt", "A", "--shape", "2x11"],
    ["jac", "[r*cos(t), r*sin(t)]", "--wrt", "r,t", "--symbolic", "--det"],
])
def test_latex_is_well_formed_and_compiles(args, tmp_path):
    res = run(*args, "--format", "latex")
    assert res.exit_code == 0, res.stderr
    tex = res.stdout
    _latex_structure(tex)
    ruled = "\\hline" in tex or re.search(r"\\begin\{array\}\{[c|]*\|", tex)
    blocked = args[:2] in (["jac", "A@B"], ["jac", "[r*cos(t), r*sin(t)]"])   # rules exactly where blocks are
    assert bool(ruled) == blocked
    if shutil.which("pdflatex"):                              # compiled where LaTeX is installed
        doc = tmp_path / "t.tex"
        assert "align*" in tex or "\\[" in tex                 # display math: pastes into a document as it is
        body = tex
        doc.write_text("\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n" + body +
                       "\n\\end{document}\n")
        out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout[-2000:]


def test_markdown_tables():
    md = run("jac", "A@B", "--wrt", "A", "--shape", "2x2", "--format", "markdown").stdout
    lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len(lines) == 2 + 4 and all(line.count("|") == 6 for line in lines)
    md = run("explain", "A@B", "--wrt", "A", "--shape", "2x2", "--format", "markdown").stdout
    assert "I_{2} \\otimes B^\\top" in md


def test_every_command_has_help_with_examples():
    for command in ("jac", "grad", "check", "explain", "ops"):
        res = run(command, "--help")
        assert res.exit_code == 0 and "Examples" in res.stdout and "mcalc" in res.stdout
