"""Products with a vector, without forming the Jacobian: J u is the expression's differential evaluated at the
tangent (dX = u), vᵀJ one reverse pass through the structured maps (the transposed linear map); both checked by
finite differences along directions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import values as V
from .chain import differentials, linear_maps
from .compare import fd_method, second_method
from .derivative import jvp
from .errors import DomainError, UsageError, setting
from .finite import DEFAULT_TOL, directional
from .linops import Dense, all_entries_finite
from .ops import fmt_shape
from .problem import Problem, located


@dataclass
class Product:
    """vᵀJ (kind 'vjp', shaped like the wrt variable) or J u ('jvp', shaped like the output), computed without
    the Jacobian, and checked by finite differences along directions."""

    problem: Problem
    kind: str
    direction: np.ndarray
    value: np.ndarray
    method: str | None = None
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    tol: float = 0.0
    agree: bool | None = None


def _jvp(problem: Problem, v, u: np.ndarray) -> np.ndarray | None:
    """J u as the expression's differential evaluated at dX = u (no linear map built at all); None where it is
    not finite, so that the structured maps say where the derivative is infinite."""
    Ds = differentials(problem.nodes, [v])
    D = Ds.get(id(problem.root))
    if D is None:
        return np.zeros(problem.root.shape)
    value = np.asarray(jvp(D, problem.node_values, {Ds[id(v)].name: u}), dtype=float)   # (dX, or d_X beside a dX)
    value = np.broadcast_to(value, problem.root.shape).copy()
    return value if all_entries_finite(value) else None


def product(problem: Problem, kind: str, direction, fd: str | None = None, tol: float | None = None,
            checks: int = 3) -> Product:
    hessian = problem.what == "Hessian"                                   # (H v: the gradient's J u)
    if len(problem.wrt) != 1:
        raise UsageError(lambda w: f"{getattr(w, 'hvp' if hessian else kind)} takes one {w.wrt} variable")
    v = problem.wrt[0]
    shape = problem.root.shape if kind == "vjp" else v.shape
    named = setting("cotangent" if kind == "vjp" else "direction" if hessian else "tangent")   # --vjp, the cotangent
    d = V.parse_value(direction, named) if isinstance(direction, str) else V.as_value(direction, named)
    if d.shape != shape:
        what, want, got = "the output" if kind == "vjp" else v.name, fmt_shape(shape), fmt_shape(d.shape)
        raise UsageError(lambda w: f"{named(w)} needs an array shaped like {what}, {want}, got {got}")
    problem.evaluate()
    method = fd_method(fd, tol, second_method(problem))
    if method != "none":                              # (to be judged by finite differences: a subnormal value or
        V.refuse_subnormal({**problem.values, named: d})     # direction has lost digits already; refused first)
    value = _jvp(problem, v, d) if kind == "jvp" else None
    finite = value is not None                        # (each array is scanned once: _jvp's has been)
    if value is None:          # vᵀJ: the structured maps, transposed (reverse); J u where the differential fails
        seed = Dense(d.reshape(1, -1)) if kind == "vjp" else Dense(d.reshape(-1, 1))
        with located(problem.expression):
            maps = linear_maps(problem.nodes, problem.rules, [v], "reverse" if kind == "vjp" else "forward", seed)
        finite = getattr(maps[0], "finite", False)    # (one cotangent, pulled back and scanned, unsummed)
        value = np.asarray(maps[0].to_dense()).reshape(v.shape if kind == "vjp" else problem.root.shape)
        if not value.flags.writeable:                 # (a map's own array, kept between calls: the caller's copy)
            value = value.copy()
    if not finite and not all_entries_finite(value):
        what = "Hessian-vector product H v" if hessian else \
            "vector-Jacobian product vᵀJ" if kind == "vjp" else "Jacobian-vector product J u"
        raise DomainError(f"the {what} overflows at these values",
                          hint="the derivative is too large to represent at these values; choose other values")
    result = Product(problem, kind, d, value)
    if method == "none":
        return result
    result.method, result.tol = method, DEFAULT_TOL[method] if tol is None else float(tol)
    rng = np.random.default_rng(problem.seed)
    directions = [d] if kind == "jvp" else [rng.normal(size=v.shape) for _ in range(checks)]
    worst_abs, worst_rel, agree = 0.0, 0.0, True
    with located(problem.expression):
        for u in directions:
            Ju, noise = directional(problem.nodes, problem.values, v, u, method)
            mine, theirs = (value, Ju) if kind == "jvp" else (np.sum(value * u), np.sum(d * Ju))
            err = float(np.abs(np.asarray(mine) - theirs).max(initial=0.0))
            scale = max(float(np.abs(mine).max(initial=0.0)), float(np.abs(theirs).max(initial=0.0))) or 1.0
            noise = noise * (1.0 if kind == "jvp" else float(np.abs(d).sum()))
            worst_abs, worst_rel = max(worst_abs, err), max(worst_rel, err / scale)
            agree &= err <= result.tol * scale + noise
    result.max_abs_error, result.max_rel_error, result.agree = worst_abs, worst_rel, bool(agree)
    return result
