"""Machine-readable and typeset outputs: JSON, CSV, plain text, .npy, .npz, LaTeX and Markdown.  No mathematics here.

A large matrix is written as it is converted, a band of rows at a time, to the open file or stdout: no output
holds a second copy of the Jacobian (its text, its nested lists or its .npy bytes) in memory."""

from __future__ import annotations

import io

import numpy as np

from .chain import as_matrix_shape
from .labels import axis_labels, jacobian_sides, shaped, shaped_labels

FORMATS = ("pretty", "json", "csv", "plain", "npy", "npz", "latex", "markdown")
BAND = 1 << 15              # entries converted to text (or nested lists) at a time


def bands(M: np.ndarray):
    """M in slices along its first axis of about BAND entries each (M itself when it has no axis)."""
    M = np.asanyarray(M)
    if M.ndim == 0:
        yield M
        return
    per = max(1, BAND // max(1, M[:1].size))
    for a in range(0, M.shape[0], per):
        yield M[a:a + per]


def write_matrix_text(f, M: np.ndarray, sep: str, precision: int | None) -> None:
    """Rows of numbers: shortest round-trip repr by default, so nothing is lost; --precision rounds."""
    M = np.atleast_2d(M)
    if M.ndim > 2:
        raise ValueError("matrix_text takes at most 2 dimensions")
    number = repr if precision is None else f"{{:.{precision}g}}".format
    for band in bands(M):
        f.write("".join(sep.join(map(number, row)) + "\n" for row in np.asarray(band, dtype=float).tolist()))


def matrix_text(M: np.ndarray, sep: str, precision: int | None) -> str:
    buf = io.StringIO()
    write_matrix_text(buf, M, sep, precision)
    return buf.getvalue()


def write_npy(f, M: np.ndarray) -> None:
    """M in numpy's .npy format, written straight to f (a file's own buffer, or in 16 MiB pieces)."""
    np.save(f, np.asanyarray(M))


def write_npz(f, J) -> None:
    """A Jacobian in scipy.sparse's .npz format (scipy.sparse.load_npz reads it), from a sparse or dense one;
    uncompressed, like .npy: compressing a large Jacobian takes several times longer than computing it."""
    from scipy import sparse

    sparse.save_npz(f, J if sparse.issparse(J) else sparse.csr_array(np.asarray(J)), compressed=False)


# --- JSON ------------------------------------------------------------------------------------------------------------

class Nulls:
    """An array written to JSON with null where it is nan (entries the finite-difference check did not compute)."""

    def __init__(self, array):
        self.array = np.asarray(array, dtype=float)


def _listed(a: np.ndarray, nulls: bool):
    if nulls and np.isnan(a).any():
        return np.where(np.isnan(a), None, a.astype(object)).tolist()
    return a.tolist()


def write_json(doc, f) -> None:
    """doc as json.dumps writes it, plus a newline; arrays in it (numpy's, or Nulls) are written a band of rows at
    a time, as the nested lists they hold."""
    _write_json(doc, f)
    f.write("\n")


def _dumps(v) -> str:
    import json                 # (here: the json module costs 1-2 ms at a start that writes none)

    return json.dumps(v)


def _write_json(v, f) -> None:
    if isinstance(v, (np.ndarray, Nulls)):
        _write_array(*((v.array, True) if isinstance(v, Nulls) else (v, False)), f)
    elif isinstance(v, dict) and all(isinstance(key, str) for key in v):
        f.write("{")
        for k, (key, value) in enumerate(v.items()):
            f.write((", " if k else "") + _dumps(key) + ": ")
            _write_json(value, f)
        f.write("}")
    else:
        f.write(_dumps(v))


def _write_array(a: np.ndarray, nulls: bool, f) -> None:
    """An array as JSON's nested lists, a band of rows at a time (of each slice in turn, when one is larger)."""
    if a.ndim == 0:
        f.write(_dumps(_listed(a, nulls)))
        return
    f.write("[")
    if a.ndim > 2 and a[:1].size > BAND:
        for k in range(a.shape[0]):
            f.write(", " if k else "")
            _write_array(a[k], nulls, f)
    else:
        for k, band in enumerate(bands(a)):
            f.write((", " if k else "") + _dumps(_listed(band, nulls))[1:-1])
    f.write("]")


def dumps(doc: dict) -> str:
    buf = io.StringIO()
    write_json(doc, buf)
    return buf.getvalue()


def problem_doc(p) -> dict:
    """What every JSON document says about the problem."""
    return {
        "expression": p.expression,
        "wrt": [v.name for v in p.wrt],
        "order": p.order,
        "layout": p.layout,
        "output_shape": list(p.out_shape),
        "input_shapes": {v.name: list(v.shape) for v in p.wrt},
        "shapes": {name: list(v.shape) for name, v in p.variables.items()},
        "values": {name: np.asarray(val) for name, val in p.values.items()},
        "defaulted": list(p.defaulted),
    }


def check_doc(c, skipped: str = "") -> dict:
    """The finite-difference comparison of a jac or grad result (skipped: why there is none, if not asked)."""
    if c is None:
        return {"fd_method": None, "tol": None, "rounding_noise": None, "fd_checked_columns": None,
                "second_opinion": None, "max_abs_error": None, "max_rel_error": None, "agree": None,
                "fd_skipped": skipped or None, "fd_random_directions": 0}
    return {
        "fd_method": c.method, "tol": c.tol, "rounding_noise": c.noise, "fd_checked_columns": c.checked_columns,
        "second_opinion": None if c.second_opinion is None else {
            "method": c.second_opinion, "rechecked_columns": c.rechecked_columns},
        "max_abs_error": c.max_abs_error, "max_rel_error": c.max_rel_error, "agree": c.agree,
        "converged_as_the_step_shrinks": c.converged, "fd_skipped": None, "fd_random_directions": c.probes,
    }


def jac_doc(result, symbolic=None, det=None, tensor=None) -> dict:
    """jac's JSON document (write_json writes it; its arrays stay arrays until then)."""
    p, c = result.problem, result.comparison
    rows, cols = jacobian_sides(p)
    row_labels, _ = axis_labels(rows, p.order)
    col_labels, _ = axis_labels(cols, p.order)
    doc = {**problem_doc(p), "mode": result.mode, "row_labels": row_labels, "column_labels": col_labels,
           "jacobian": np.asarray(result.J),
           "finite_difference": None if result.F is None else Nulls(result.F), **check_doc(c, result.skipped)}
    doc["disagreements"] = [] if c is None else [
        {"row": i, "column": j, "row_label": row_labels[i], "column_label": col_labels[j],
         "analytic": analytic, "finite_difference": fd} for (i, j), (analytic, fd) in zip(c.bad, c.bad_values)]
    doc["kinks"] = [] if c is None else [
        {"row": i, "column": j, "row_label": row_labels[i], "column_label": col_labels[j],
         **({"kind": "kink", "right_slope": r, "left_slope": left} if kind == "kink" else
            {"kind": "jump", "jump": r + left})} for i, j, r, left, kind in c.kinks]
    if symbolic is not None:
        doc["jacobian_symbolic"] = _symbolic_texts(symbolic)
    if det is not None:
        doc.update(det)
    if tensor is not None:
        doc["tensor"] = np.asarray(tensor)
    return doc


def hess_doc(result, info, symbolic=None) -> dict:
    doc = jac_doc(result, symbolic)
    doc["hessian"] = doc.pop("jacobian")
    if symbolic is not None:
        doc["hessian_symbolic"] = doc.pop("jacobian_symbolic")
    c = info["curvature"]
    doc.update({"eigenvalues": np.asarray(c.eigenvalues), "definiteness": c.definiteness, "constant": c.constant,
                "curvature": c.statement, "asymmetry": c.asymmetry,      # (the keys explain's JSON has: mcalc
                "gradient_formula": info["gradient_mc"], "gradient_formula_pretty": info["gradient"],  # syntax, and
                "formula": info["formula_mc"], "formula_pretty": info["formula"],                   # Unicode)
                "names": dict(info.get("names", []))})
    return doc


def _symbolic_texts(M) -> list:
    """A symbolic matrix's entries as text, written once by mcalc.symbolic (polynomials without SymPy's printer)."""
    from .symbolic import texts

    return texts(M)


def grad_doc(result, gradient, F, symbolic=None) -> dict:
    doc = {**problem_doc(result.problem), "mode": result.mode, "gradient": np.asarray(gradient),
           "finite_difference": None if F is None else Nulls(F), **check_doc(result.comparison, result.skipped)}
    if symbolic is not None:
        doc["gradient_symbolic"] = np.vectorize(str, otypes=[object])(symbolic).tolist()
    return doc


def answer_doc(r) -> dict:
    """check's JSON document: the verdict on an answer, both matrices, the wrong entries and the diagnosis."""
    from .check import wrong_entries_doc

    p = r.problem
    doc = {**problem_doc(p), "kind": "hessian" if r.kind == "jacobian" and p.what == "Hessian" else r.kind, "right": r.right, "tol": r.tol,
           "expected": np.asarray(r.expected),
           "given": None if r.given is None else np.asarray(r.given),
           "max_abs_error": r.max_abs_error, "max_rel_error": r.max_rel_error, "wrong_count": r.wrong_count,
           "wrong_entries": wrong_entries_doc(r), "diagnosis": r.diagnosis,
           "size_message": r.size_message, "judged_elsewhere": r.elsewhere}
    return doc


def explain_doc(p, ex, check) -> dict:
    agree, err = check if check is not None else (None, None)
    why, err = (None, err) if isinstance(err, float) else (getattr(err, "message", None), None)
    doc = {**problem_doc(p), "differential": ex.differential, "formula": ex.mc, "formula_pretty": ex.pretty,
           "formula_latex": ex.latex, "names": dict(ex.legend("mc")),
           "steps": ex.steps, "closed_form": ex.formula is not None, "no_closed_form_for": ex.missing,
           "verified": agree, "max_abs_error": err, "not_verified_because": why,
           "gradient_formula": ex.gradient_mc(), "gradient_formula_pretty": ex.gradient_pretty(),
           "gradient_formula_latex": ex.gradient_latex(),
           "differential_mcalc": ex.differential_mc, "differential_latex": ex.differential_latex}
    if ex.symbolic is not None:
        doc["jacobian_symbolic"] = _symbolic_texts(ex.symbolic)
    return doc


def product_doc(pr) -> dict:
    kind = "hvp" if pr.problem.what == "Hessian" else pr.kind
    doc = {**problem_doc(pr.problem), "kind": kind, kind: np.asarray(pr.value),
           "direction": np.asarray(pr.direction), "fd_method": pr.method, "tol": pr.tol or None,
           "max_abs_error": pr.max_abs_error if pr.method else None,
           "max_rel_error": pr.max_rel_error if pr.method else None, "agree": pr.agree}
    return doc


# --- LaTeX and Markdown --------------------------------------------------------------------------------------------

def _text_rows(M, precision: int):
    """The entries as text, a row at a time: numbers formatted together (as in the pretty view), or symbolic
    entries."""
    if isinstance(M, np.ndarray) and M.dtype != object:
        from .render import number_format

        M = np.atleast_2d(M)
        fmt = number_format(M, precision)
        for band in bands(M):
            yield from ([fmt(v) for v in row] for row in np.asarray(band, dtype=float).tolist())
    else:
        yield from ([e for e in row] for row in (M.tolist() if hasattr(M, "tolist") else M))


def _size(M) -> tuple[int, int]:
    """(rows, columns) of numbers, a SymPy matrix or a 2-D list of entries."""
    if isinstance(M, np.ndarray):
        return np.atleast_2d(M).shape
    return tuple(M.shape) if hasattr(M, "shape") else (len(M), len(M[0]))


def _tex_cell(e) -> str:
    if isinstance(e, str):
        return e
    import sympy

    return sympy.latex(e, symbol_names=_tex_names(e))


def _tex_names(e) -> dict:
    """Its symbols whose names SymPy would leave raw (θ1: \\theta_{1}, not θ1); the others as SymPy writes them
    (theta1: \\theta_{1}, layer11: layer_{11})."""
    from .printing import Latex

    return {s: Latex().name(s.name) for s in getattr(e, "free_symbols", ()) if not s.name.isascii()}


def latex_lines(M, row_groups=None, col_groups=None, precision: int = 4, labels=None, display: bool = False):
    """A bmatrix, a line at a time; with rules between blocks (an array with | and \\hline) where the matrix has
    blocks.  display: in display math, ready to paste into a document (the comments, with the labels, outside)."""
    m, n = _size(M)
    blocks = row_groups is not None and (len(set(row_groups)) > 1 or len(set(col_groups)) > 1)
    if labels:
        yield f"% rows: {', '.join(labels[0])}"
        yield f"% columns: {', '.join(labels[1])}"
    if display:
        yield "\\["
    rows = ([_tex_cell(e) for e in row] for row in _text_rows(M, precision))
    if not blocks and n <= 10:                  # amsmath's bmatrix has 10 columns at most
        yield "\\begin{bmatrix}"
        yield from ("  " + " & ".join(row) + (" \\\\" if i < m - 1 else "") for i, row in enumerate(rows))
        yield "\\end{bmatrix}"
    else:
        row_groups = row_groups or [0] * m
        col_groups = col_groups or [0] * n
        spec = ""
        for j in range(n):
            if j and col_groups[j] != col_groups[j - 1]:
                spec += "|"
            spec += "c"
        yield f"\\left[\\begin{{array}}{{{spec}}}"
        for i, row in enumerate(rows):
            if i and row_groups[i] != row_groups[i - 1]:
                yield "  \\hline"
            yield "  " + " & ".join(row) + " \\\\"
        yield "\\end{array}\\right]"
    if display:
        yield "\\]"


def latex_matrix(M, row_groups=None, col_groups=None, precision: int = 4, labels=None) -> str:
    """A bmatrix; with rules between blocks (an array with | and \\hline) where the matrix has blocks."""
    return "".join(line + "\n" for line in latex_lines(M, row_groups, col_groups, precision, labels))


def markdown_lines(M, row_labels, col_labels, precision: int = 4):
    """A Markdown table, a line at a time: the labels, then a row per row of M."""
    code = not (isinstance(M, np.ndarray) and M.dtype != object)
    fmt = (lambda e: f"`{e}`") if code else str
    yield "| | " + " | ".join(f"`{c}`" if c else "" for c in col_labels) + " |"
    yield "|---|" + "---:|" * len(col_labels)
    yield from (f"| `{r}` | " + " | ".join(fmt(e) for e in row) + " |"
                for r, row in zip(row_labels, _text_rows(M, precision)))


def markdown_matrix(M, row_labels, col_labels, precision: int = 4) -> str:
    return "".join(line + "\n" for line in markdown_lines(M, row_labels, col_labels, precision))


def jac_typeset(result, fmt: str, precision: int, symbolic=None, det=None):
    """The Jacobian in LaTeX or Markdown, in pieces of text written one after the other (a line of the matrix at
    a time)."""
    p = result.problem
    rows, cols = jacobian_sides(p)
    rlab, rg = axis_labels(rows, p.order)
    clab, cg = axis_labels(cols, p.order)
    M = result.J if symbolic is None else symbolic
    if det is not None:
        d = det.get("determinant_symbolic")
        det_tex = _det_latex(d) if d is not None else f"{det['determinant']:.6g}"
    if fmt == "latex":
        yield from (line + "\n" for line in latex_lines(M, rg, cg, precision, (rlab, clab), display=True))
        if det is not None:
            yield f"\\[ \\det J = {det_tex} \\]\n"
        return
    yield f"{p.what} of `{p.expression}` wrt {', '.join(v.name for v in p.wrt)} ({p.order}-major, {p.layout})\n\n"
    yield from (line + "\n" for line in markdown_lines(M, rlab, clab, precision))
    if det is not None:
        yield f"\n$\\det J = {det_tex}$\n"


def _det_latex(text: str) -> str:
    import sympy

    e = sympy.sympify(text)
    return sympy.latex(e, symbol_names=_tex_names(e))


def grad_typeset(result, gradient, fmt: str, precision: int, symbolic=None) -> str:
    p = result.problem
    v = p.wrt[0]
    M = shaped(gradient, v.shape) if symbolic is None else \
        np.asarray(symbolic, dtype=object).reshape(as_matrix_shape(v.shape)).tolist()
    if fmt == "latex":
        return "".join(line + "\n" for line in latex_lines(M, precision=precision, display=True))
    rlab, clab = shaped_labels(v.name, v.shape)
    return f"Gradient of `{p.expression}` wrt {v.name}\n\n" + markdown_matrix(M, rlab, clab, precision)


def explain_typeset(p, ex, fmt: str) -> str:
    legend = [f"{name} = {text}" for name, text in ex.legend("tex")]
    if fmt == "latex":
        lines = ["\\begin{align*}", f"  {ex.differential_latex.replace(' = ', ' &= ', 1)}"]
        if ex.formula is not None:
            lines[-1] += " \\\\"
            lines.append(f"  J &= {ex.latex}")
            if ex.gradient is not None:
                lines[-1] += " \\\\"
                lines.append(f"  \\nabla f &= {ex.gradient_latex()}")
            if legend:
                lines[-1] += " \\\\"
                lines.append("  &\\text{where } " + ",\\quad ".join(legend))
        if ex.formula is None and ex.gradient is not None:
            lines[-1] += " \\"
            lines.append(f"  \\nabla f &= {ex.gradient_latex()}")
        lines.append("\\end{align*}")
        if ex.formula is None:
            lines.append(f"% no closed form known for {', '.join(ex.missing)}")
        if ex.symbolic is not None:
            lines += latex_lines(ex.symbolic, display=True)
        return "\n".join(lines) + "\n"
    out = [f"**Differential**: ${ex.differential_latex}$", "", "**Steps**", ""]
    for k, step in enumerate(ex.steps, 1):
        out.append(f"{k}. `{step['expression']}`: {step['rule']}; `d = {step['differential']}`")
    out.append("")
    if ex.formula is None:
        out.append(f"**Jacobian**: no closed form known for {', '.join(ex.missing)}")
        if ex.gradient is not None:
            out.append(f"**Gradient**: $\\nabla f = {ex.gradient_latex()}$")
    else:
        out.append(f"**Jacobian** ({p.order}-major, {p.layout} layout): $J = {ex.latex}$")
        if ex.gradient is not None:
            out.append(f"**Gradient**: $\\nabla f = {ex.gradient_latex()}$")
        for item in legend:
            out.append(f"where ${item}$")
        out.append("")
        out.append(f"In mcalc's syntax: `{ex.mc}`")
    if ex.symbolic is not None:
        rows, cols = jacobian_sides(p)
        out += ["", "**Entries**", "", markdown_matrix(ex.symbolic, axis_labels(rows, p.order)[0],
                                                        axis_labels(cols, p.order)[0]).rstrip("\n")]
    return "\n".join(out) + "\n"
