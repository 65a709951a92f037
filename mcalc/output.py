"""Machine-readable outputs: JSON, CSV, plain text and .npy."""

from __future__ import annotations

import io

import numpy as np

from .labels import axis_labels, jacobian_sides

FORMATS = ("pretty", "json", "csv", "plain", "npy")


def _number(v: float, precision: int | None) -> str:
    return repr(float(v)) if precision is None else f"{v:.{precision}g}"


def matrix_text(M: np.ndarray, sep: str, precision: int | None) -> str:
    """Rows of numbers: shortest round-trip repr by default, so nothing is lost; --precision rounds."""
    M = np.atleast_2d(M)
    return "".join(sep.join(_number(v, precision) for v in row) + "\n" for row in M)


def jac_json(result) -> str:
    import json

    p, c = result.problem, result.comparison
    rows, cols = jacobian_sides(result)
    row_labels, _ = axis_labels(rows, p.order)
    col_labels, _ = axis_labels(cols, p.order)
    doc = {
        "expression": p.expression,
        "wrt": [v.name for v in p.wrt],
        "order": p.order,
        "layout": p.layout,
        "output_shape": list(p.out_shape),
        "input_shapes": {v.name: list(v.shape) for v in p.wrt},
        "shapes": {name: list(v.shape) for name, v in p.variables.items()},
        "values": {name: np.asarray(val).tolist() for name, val in p.values.items()},
        "defaulted": list(p.defaulted),
        "mode": result.mode,
        "row_labels": row_labels,
        "column_labels": col_labels,
        "jacobian": result.J.tolist(),
        "finite_difference": None if result.F is None else _with_nulls(result.F),
        "fd_method": None if c is None else c.method,
        "fd_checked_columns": None if c is None else c.checked_columns,
        "second_opinion": None if c is None or c.second_opinion is None else {
            "method": c.second_opinion, "rechecked_columns": c.rechecked_columns},
        "tol": None if c is None else c.tol,
        "rounding_noise": None if c is None else c.noise,
        "max_abs_error": None if c is None else c.max_abs_error,
        "max_rel_error": None if c is None else c.max_rel_error,
        "agree": None if c is None else c.agree,
        "disagreements": [] if c is None else [
            {"row": i, "column": j, "row_label": row_labels[i], "column_label": col_labels[j],
             "analytic": float(result.J[i, j]), "finite_difference": float(result.F[i, j])} for i, j in c.bad],
        "kinks": [] if c is None else [
            {"row": i, "column": j, "row_label": row_labels[i], "column_label": col_labels[j],
             "right_slope": r, "left_slope": left} for i, j, r, left in c.kinks],
    }
    return json.dumps(doc) + "\n"


def _with_nulls(M: np.ndarray) -> list:
    """Nested lists with None (JSON null) where M is nan: entries the finite-difference check did not compute."""
    if not np.isnan(M).any():
        return M.tolist()
    return np.where(np.isnan(M), None, M.astype(object)).tolist()


def npy_bytes(M: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, M)
    return buf.getvalue()
