"""Machine-readable and typeset outputs: JSON, CSV, plain text, .npy, LaTeX and Markdown.  No mathematics here."""

from __future__ import annotations

import io

import numpy as np

from .chain import as_matrix_shape
from .labels import axis_labels, jacobian_sides, shaped, shaped_labels

FORMATS = ("pretty", "json", "csv", "plain", "npy", "npz", "latex", "markdown")


def _number(v: float, precision: int | None) -> str:
    return repr(float(v)) if precision is None else f"{v:.{precision}g}"


def matrix_text(M: np.ndarray, sep: str, precision: int | None) -> str:
    """Rows of numbers: shortest round-trip repr by default, so nothing is lost; --precision rounds."""
    M = np.atleast_2d(M)
    if M.ndim > 2:
        raise ValueError("matrix_text takes at most 2 dimensions")
    return "".join(sep.join(_number(v, precision) for v in row) + "\n" for row in M)


def npy_bytes(M: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, M)
    return buf.getvalue()


def npz_bytes(J) -> bytes:
    """A Jacobian in scipy.sparse's .npz format (scipy.sparse.load_npz reads it), from a sparse or dense one;
    uncompressed, like .npy: compressing a large Jacobian takes several times longer than computing it."""
    from scipy import sparse

    buf = io.BytesIO()
    sparse.save_npz(buf, J if sparse.issparse(J) else sparse.csr_array(np.asarray(J)), compressed=False)
    return buf.getvalue()


def _with_nulls(M: np.ndarray) -> list:
    """Nested lists with None (JSON null) where M is nan: entries the finite-difference check did not compute."""
    M = np.asarray(M, dtype=float)
    if not np.isnan(M).any():
        return M.tolist()
    return np.where(np.isnan(M), None, M.astype(object)).tolist()


def dumps(doc: dict) -> str:
    import json

    return json.dumps(doc) + "\n"


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
        "values": {name: np.asarray(val).tolist() for name, val in p.values.items()},
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


def jac_json(result, symbolic=None, det=None, tensor=None) -> str:
    return dumps(jac_doc(result, symbolic, det, tensor))


def jac_doc(result, symbolic=None, det=None, tensor=None) -> dict:
    p, c = result.problem, result.comparison
    rows, cols = jacobian_sides(p)
    row_labels, _ = axis_labels(rows, p.order)
    col_labels, _ = axis_labels(cols, p.order)
    doc = {**problem_doc(p), "mode": result.mode, "row_labels": row_labels, "column_labels": col_labels,
           "jacobian": result.J.tolist(),
           "finite_difference": None if result.F is None else _with_nulls(result.F), **check_doc(c, result.skipped)}
    doc["disagreements"] = [] if c is None else [
        {"row": i, "column": j, "row_label": row_labels[i], "column_label": col_labels[j],
         "analytic": float(result.J[i, j]), "finite_difference": float(result.F[i, j])} for i, j in c.bad]
    doc["kinks"] = [] if c is None else [
        {"row": i, "column": j, "row_label": row_labels[i], "column_label": col_labels[j],
         **({"kind": "kink", "right_slope": r, "left_slope": left} if kind == "kink" else
            {"kind": "jump", "jump": r + left})} for i, j, r, left, kind in c.kinks]
    if symbolic is not None:
        doc["jacobian_symbolic"] = _symbolic_texts(symbolic)
    if det is not None:
        doc.update(det)
    if tensor is not None:
        doc["tensor"] = tensor.tolist()
    return doc


def hess_json(result, info, symbolic=None) -> str:
    doc = jac_doc(result, symbolic)
    doc["hessian"] = doc.pop("jacobian")
    if symbolic is not None:
        doc["hessian_symbolic"] = doc.pop("jacobian_symbolic")
    c = info["curvature"]
    doc.update({"eigenvalues": c.eigenvalues.tolist(), "definiteness": c.definiteness, "constant": c.constant,
                "curvature": c.statement, "asymmetry": c.asymmetry, "gradient_formula": info["gradient"],
                "gradient_formula_mcalc": info["gradient_mc"], "formula": info["formula"],
                "formula_mcalc": info["formula_mc"], "names": dict(info.get("names", []))})
    return dumps(doc)


def _symbolic_texts(M) -> list:
    """A symbolic matrix's entries as text, written once by mcalc.symbolic (polynomials without SymPy's printer)."""
    from .symbolic import texts

    return texts(M)


def grad_json(result, gradient, F, symbolic=None) -> str:
    doc = {**problem_doc(result.problem), "mode": result.mode, "gradient": np.asarray(gradient).tolist(),
           "finite_difference": None if F is None else _with_nulls(F), **check_doc(result.comparison, result.skipped)}
    if symbolic is not None:
        doc["gradient_symbolic"] = np.vectorize(str, otypes=[object])(symbolic).tolist()
    return dumps(doc)


def check_json(r) -> str:
    p = r.problem
    doc = {**problem_doc(p), "kind": "hessian" if r.kind == "jacobian" and p.what == "Hessian" else r.kind, "right": r.right, "tol": r.tol,
           "expected": np.asarray(r.expected).tolist(),
           "given": None if r.given is None else np.asarray(r.given).tolist(),
           "max_abs_error": r.max_abs_error, "max_rel_error": r.max_rel_error, "wrong_count": r.wrong_count,
           "wrong_entries": [{"row": i, "column": j} for i, j in r.wrong], "diagnosis": r.diagnosis,
           "size_message": r.size_message, "judged_elsewhere": r.elsewhere}
    return dumps(doc)


def explain_json(p, ex, check) -> str:
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
    return dumps(doc)


def product_json(pr) -> str:
    kind = "hvp" if pr.problem.what == "Hessian" else pr.kind
    doc = {**problem_doc(pr.problem), "kind": kind, kind: np.asarray(pr.value).tolist(),
           "direction": np.asarray(pr.direction).tolist(), "fd_method": pr.method, "tol": pr.tol or None,
           "max_abs_error": pr.max_abs_error if pr.method else None,
           "max_rel_error": pr.max_rel_error if pr.method else None, "agree": pr.agree}
    return dumps(doc)


# --- LaTeX and Markdown --------------------------------------------------------------------------------------------

def _cells(M, precision: int):
    """The entries as text: numbers formatted together (as in the pretty view), or symbolic entries."""
    if isinstance(M, np.ndarray) and M.dtype != object:
        from .render import number_format

        M = np.atleast_2d(M)
        fmt = number_format(M, precision)
        return [[fmt(v) for v in row] for row in M]
    return [[e for e in row] for row in (M.tolist() if hasattr(M, "tolist") else M)]


def _tex_cell(e) -> str:
    if isinstance(e, str):
        return e
    import sympy

    return sympy.latex(e)


def latex_matrix(M, row_groups=None, col_groups=None, precision: int = 4, labels=None) -> str:
    """A bmatrix; with rules between blocks (an array with | and \\hline) where the matrix has blocks."""
    cells = [[_tex_cell(e) for e in row] for row in _cells(M, precision)]
    n = len(cells[0])
    blocks = row_groups is not None and (len(set(row_groups)) > 1 or len(set(col_groups)) > 1)
    lines = []
    if labels:
        lines.append(f"% rows: {', '.join(labels[0])}")
        lines.append(f"% columns: {', '.join(labels[1])}")
    if not blocks and n <= 10:                  # amsmath's bmatrix has 10 columns at most
        body = " \\\\\n".join("  " + " & ".join(row) for row in cells)
        return "\n".join(lines + ["\\begin{bmatrix}", body, "\\end{bmatrix}"]) + "\n"
    row_groups = row_groups or [0] * len(cells)
    col_groups = col_groups or [0] * n
    spec = ""
    for j in range(n):
        if j and col_groups[j] != col_groups[j - 1]:
            spec += "|"
        spec += "c"
    rows = []
    for i, row in enumerate(cells):
        if i and row_groups[i] != row_groups[i - 1]:
            rows.append("  \\hline")
        rows.append("  " + " & ".join(row) + " \\\\")
    return "\n".join(lines + [f"\\left[\\begin{{array}}{{{spec}}}", *rows, "\\end{array}\\right]"]) + "\n"


def markdown_matrix(M, row_labels, col_labels, precision: int = 4) -> str:
    cells = _cells(M, precision)
    code = not (isinstance(M, np.ndarray) and M.dtype != object)
    fmt = (lambda e: f"`{e}`") if code else str
    out = ["| | " + " | ".join(f"`{c}`" if c else "" for c in col_labels) + " |",
           "|---|" + "---:|" * len(col_labels)]
    out += [f"| `{r}` | " + " | ".join(fmt(e) for e in row) + " |" for r, row in zip(row_labels, cells)]
    return "\n".join(out) + "\n"


def jac_typeset(result, fmt: str, precision: int, symbolic=None, det=None) -> str:
    p = result.problem
    rows, cols = jacobian_sides(p)
    rlab, rg = axis_labels(rows, p.order)
    clab, cg = axis_labels(cols, p.order)
    M = result.J if symbolic is None else symbolic
    if det is not None:
        d = det.get("determinant_symbolic")
        det_tex = _det_latex(d) if d is not None else f"{det['determinant']:.6g}"
    if fmt == "latex":
        tex = _display(latex_matrix(M, rg, cg, precision, (rlab, clab)))
        return tex + (f"\\[ \\det J = {det_tex} \\]\n" if det is not None else "")
    title = f"{p.what} of `{p.expression}` wrt {', '.join(v.name for v in p.wrt)} ({p.order}-major, {p.layout})"
    text = f"{title}\n\n" + markdown_matrix(M, rlab, clab, precision)
    return text + (f"\n$\\det J = {det_tex}$\n" if det is not None else "")


def _det_latex(text: str) -> str:
    import sympy

    return sympy.latex(sympy.sympify(text))


def grad_typeset(result, gradient, fmt: str, precision: int, symbolic=None) -> str:
    p = result.problem
    v = p.wrt[0]
    M = shaped(gradient, v.shape) if symbolic is None else \
        np.asarray(symbolic, dtype=object).reshape(as_matrix_shape(v.shape)).tolist()
    if fmt == "latex":
        return _display(latex_matrix(M, precision=precision))
    rlab, clab = shaped_labels(v.name, v.shape)
    return f"Gradient of `{p.expression}` wrt {v.name}\n\n" + markdown_matrix(M, rlab, clab, precision)


def _display(tex: str) -> str:
    """A matrix in display math, ready to paste into a document (comments, with the labels, stay outside)."""
    lines = tex.rstrip("\n").split("\n")
    comments = [line for line in lines if line.startswith("%")]
    body = [line for line in lines if not line.startswith("%")]
    return "\n".join(comments + ["\\[", *body, "\\]"]) + "\n"


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
            lines.append(_display(latex_matrix(ex.symbolic)).rstrip("\n"))
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
