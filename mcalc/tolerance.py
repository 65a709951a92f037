"""When a matrix is right: one rule for hand-derived answers (check) and for closed forms (explain).

An entry is wrong when it differs by more than tol·max|entries| + ATOL, the scale taken over both matrices, so that
exactly-zero entries are judged by the same yardstick as the rest.  The default tolerance is tight: an answer is an
exact formula, so only rounding may differ.  A hand-derived answer is judged per column (the derivatives with
respect to one input entry; per entry for a gradient), so that a wrong small column is not hidden by a large one
(∂(1e15 x + y)/∂y = 1 answered 0); rounding of the whole matrix is allowed for by FLOOR (1e-14) times the largest
entry of the same variable's derivatives (rounding does not cross from ∂/∂x to ∂/∂y), and the absolute ATOL shrinks
with a matrix whose entries are all tiny (1e-13 answered 0 is wrong).
"""

from __future__ import annotations

import numpy as np

DEFAULT_TOL = 1e-8
ATOL = 1e-12      # below this, an entry is 0 whatever the scale (rounding of a formula's exact zeros)


def scale(E: np.ndarray, G: np.ndarray) -> float:
    return max(float(np.abs(E).max(initial=0.0)), float(np.abs(G).max(initial=0.0))) or 1.0


FLOOR = 1e-14    # times the largest entry: what rounding may leave in a small column of a large matrix


def wrong_entries(E: np.ndarray, G: np.ndarray, tol: float, per: str | int | None = None,
                  groups: list[int] | None = None) -> np.ndarray:
    """Where G differs from E: by more than tol·max|entries| + ATOL, the scale over both matrices (per None), over
    each column (per 0: along axis 0) or row (per 1), or of each entry (per "entry"), plus FLOOR·max|entries| of
    its group (the columns, or rows, of one variable: groups gives their counts along that axis)."""
    if per is None:
        return np.abs(E - G) > tol * scale(E, G) + ATOL
    big = _group_scale(E, G, per, groups)
    return np.abs(E - G) > tol * _local(E, G, per) + FLOOR * big + ATOL * np.minimum(1.0, big)


def _group_scale(E, G, per, groups):
    """The largest entry of each entry's group (the whole pair without groups), broadcastable against E."""
    if groups is None or per == "entry" or E.ndim < 2 or len(groups) < 2:
        return scale(E, G)
    both = np.maximum(np.abs(E), np.abs(G))
    axis = 1 - per                    # (columns are grouped along axis 1, rows along axis 0)
    parts = np.split(both, np.cumsum(groups)[:-1], axis=axis)
    sizes = [max(float(p.max(initial=0.0)), 0.0) or 1.0 for p in parts]
    out = np.repeat(np.asarray(sizes), groups)
    return out.reshape((1, -1) if axis == 1 else (-1, 1))


def _local(E, G, per):
    both = np.maximum(np.abs(E), np.abs(G))
    return both if per == "entry" or both.ndim < 2 else both.max(axis=per, keepdims=True)


def max_relative_error(E: np.ndarray, G: np.ndarray, per: str | int | None = None,
                       groups: list[int] | None = None) -> float:
    """The largest difference relative to the scale the entry is judged by (wrong_entries)."""
    if per is None:
        return float(np.abs(E - G).max(initial=0.0)) / scale(E, G)
    big = _group_scale(E, G, per, groups)
    floor = FLOOR * big + ATOL * np.minimum(1.0, big)
    return float((np.abs(E - G) / np.maximum(_local(E, G, per), floor)).max(initial=0.0))


def close(E: np.ndarray, G: np.ndarray, tol: float, per: str | int | None = None) -> bool:
    return E.shape == G.shape and not wrong_entries(E, G, tol, per).any()
