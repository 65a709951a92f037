"""When a matrix is right: one rule for hand-derived answers (check) and for closed forms (explain).

An entry is wrong when it differs by more than tol·max|entries| + ATOL, the scale taken over both matrices, so that
exactly-zero entries are judged by the same yardstick as the rest.  The default tolerance is tight: an answer is an
exact formula, so only rounding may differ.
"""

from __future__ import annotations

import numpy as np

DEFAULT_TOL = 1e-8
ATOL = 1e-12      # below this, an entry is 0 whatever the scale (rounding of a formula's exact zeros)


def scale(E: np.ndarray, G: np.ndarray) -> float:
    return max(float(np.abs(E).max(initial=0.0)), float(np.abs(G).max(initial=0.0))) or 1.0


def wrong_entries(E: np.ndarray, G: np.ndarray, tol: float) -> np.ndarray:
    """Where G differs from E: by more than tol·max|entries| + ATOL."""
    return np.abs(E - G) > tol * scale(E, G) + ATOL


def close(E: np.ndarray, G: np.ndarray, tol: float) -> bool:
    return E.shape == G.shape and not wrong_entries(E, G, tol).any()
