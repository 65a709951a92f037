"""When a matrix is right: one rule for hand-derived answers (check) and for closed forms (explain).

An entry is wrong when it differs by more than tol·max|entries| + ATOL, the scale taken over both matrices, so that
exactly-zero entries are judged by the same yardstick as the rest.  The default tolerance is tight: an answer is an
exact formula, so only rounding may differ.  A hand-derived answer is judged per column (the derivatives with
respect to one input entry; per entry for a gradient), so that a wrong small column is not hidden by a large one
(∂(1e9 x + y)/∂y = 1 answered 0); rounding of the whole matrix is allowed for by FLOOR (1e-14) times its largest entry.
"""

from __future__ import annotations

import numpy as np

DEFAULT_TOL = 1e-8
ATOL = 1e-12      # below this, an entry is 0 whatever the scale (rounding of a formula's exact zeros)


def scale(E: np.ndarray, G: np.ndarray) -> float:
    return max(float(np.abs(E).max(initial=0.0)), float(np.abs(G).max(initial=0.0))) or 1.0


FLOOR = 1e-14    # times the largest entry: what rounding may leave in a small column of a large matrix


def wrong_entries(E: np.ndarray, G: np.ndarray, tol: float, per: str | int | None = None) -> np.ndarray:
    """Where G differs from E: by more than tol·max|entries| + ATOL, the scale over both matrices (per None), over
    each column (per 0: along axis 0) or row (per 1), or of each entry (per "entry"), plus FLOOR·max|entries|."""
    if per is None:
        return np.abs(E - G) > tol * scale(E, G) + ATOL
    return np.abs(E - G) > tol * _local(E, G, per) + FLOOR * scale(E, G) + ATOL


def _local(E, G, per):
    both = np.maximum(np.abs(E), np.abs(G))
    return both if per == "entry" or both.ndim < 2 else both.max(axis=per, keepdims=True)


def max_relative_error(E: np.ndarray, G: np.ndarray, per: str | int | None = None) -> float:
    """The largest difference relative to the scale the entry is judged by (wrong_entries)."""
    if per is None:
        return float(np.abs(E - G).max(initial=0.0)) / scale(E, G)
    floor = FLOOR * scale(E, G) + ATOL
    return float((np.abs(E - G) / np.maximum(_local(E, G, per), floor)).max(initial=0.0))


def close(E: np.ndarray, G: np.ndarray, tol: float, per: str | int | None = None) -> bool:
    return E.shape == G.shape and not wrong_entries(E, G, tol, per).any()
