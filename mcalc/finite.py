"""Finite differences: independent of the derivative rules, they only evaluate the expression.

All perturbations of a chunk of input entries are evaluated at once (the forward functions accept a leading batch
axis).  Steps are chosen per entry, h_j = c·max(1, |x_j|), and rounded so that x_j + h_j - x_j == h_j exactly:

    forward     (f(x + h e_j) - f(x)) / h                   c = eps^(1/2)   error O(h)
    central     (f(x + h e_j) - f(x - h e_j)) / 2h          c = eps^(1/3)   error O(h²)
    richardson  (4 D(h/2) - D(h)) / 3 with D central        c = eps^(1/5)   error O(h⁴)
    complex     Im f(x + i h e_j) / h                       h = 1e-20·max(1, |x_j|), exact up to rounding
                                                                (1e-20·|x_j| for 0 < |x_j| < 1: no cancellation
                                                                to fear, and log at 1e-20 needs h ≪ x)

The central and Richardson methods also compare the one-sided slopes (f(x+h)-f(x))/h and (f(x)-f(x-h))/h: where
they differ by more than the curvature can explain, the function has a kink there (abs or relu at 0) and the entry
is reported as not differentiable.

A column costs one or more evaluations of the expression, so a check of every column can cost far more than the
Jacobian itself (a gradient of 40 000 entries needs 80 000 evaluations); `sample_columns` picks a subset that fits
a work budget, which the caller reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DomainError, StepOutOfDomain, UsageError
from .expr import Node, Var, evaluate
from .chain import dependencies
from .linops import check_dense

METHODS = ("central", "forward", "complex", "richardson")
DEFAULT_TOL = {"central": 1e-6, "forward": 1e-4, "richardson": 1e-8, "complex": 1e-10}
EVALUATIONS = {"forward": 1, "central": 2, "complex": 1, "richardson": 4}
EPS = np.finfo(float).eps
_STEP = {"forward": EPS ** 0.5, "central": EPS ** (1 / 3), "richardson": EPS ** 0.2, "complex": 1e-20}
CHUNK_BYTES = 128 << 20
AUTO_SHARE = 0.1           # of the work mcalc allows itself (budget.max_work), the most a default check may spend
WORK_BUDGET = 2e9          # floating-point operations a default check may spend (about a second)


@dataclass(eq=False)
class FiniteResult:
    values: np.ndarray        # (m, k): the columns computed, row-major, numerator layout
    cols: np.ndarray          # (k,) their indices among the n columns (wrt blocks side by side), increasing
    n: int                    # the number of columns of the whole Jacobian
    kinks: dict = field(default_factory=dict)   # {(i, j): (right, left, "kink" | "jump")}: one-sided slopes that
                                                # disagree, or the changes of a jump on either side
    evaluations: int = 0      # function evaluations, counting each batch entry
    noise: float = 0.0        # bound on the rounding error of an entry: c·eps·max|f| / min h

    @property
    def J(self) -> np.ndarray:
        """The whole (m, n) Jacobian, nan in the columns not computed."""
        if self.cols.size == self.n:
            return self.values
        out = np.full((self.values.shape[0], self.n), np.nan)
        out[:, self.cols] = self.values
        return out


def _try_complex(w) -> str:
    return f"try {w.eg('fd', 'complex')}, or values further from the edge of the domain"


def _step_hint(method: str):
    """What to try when a step of this method left the domain: the complex step (which moves no real entry),
    unless that is the one that failed."""
    if method != "complex":
        return _try_complex
    return lambda w: f"values further from the edge of the domain, or skip the check with {w.eg('fd', 'none')}"


_ROUNDING = {"forward": 2.0, "central": 1.0, "richardson": 3.0, "complex": 0.0}   # c above, per method


def distinct(a) -> np.ndarray:
    """The distinct values of a, sorted: numpy.unique's answer without its first call importing numpy.ma (10 ms of
    every checked command's start)."""
    a = np.sort(np.ravel(a))
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if a.size else a


def step_scale(x: np.ndarray, method: str) -> np.ndarray:
    """What a step is a fraction of: max(1, |x|), or for the complex step |x| itself where 0 < |x| < 1 (at least
    1e-100): it suffers no cancellation, and a step as large as x (log(x), 1/x at x = 1e-20) is far from the
    derivative."""
    a = np.abs(x)
    if method == "complex":
        return np.where((a > 0) & (a < 1), np.maximum(a, 1e-100), np.maximum(1.0, a))
    return np.maximum(1.0, a)


def _complex_shrink(x: np.ndarray, u: np.ndarray) -> float:
    """How much smaller than 1e-20 the complex step along u is: so that no moved entry moves by more than 1e-20 of
    itself (step_scale's rule for a column, for a direction: log(x) at 1e-20 along u = 1)."""
    on = (u != 0) & (x != 0)
    ratio = float((np.abs(x[on]) / np.abs(u[on])).min(initial=1.0))
    return min(1.0, max(ratio, 1e-100))


def steps(x: np.ndarray, method: str) -> np.ndarray:
    h = _STEP[method] * step_scale(x, method)
    return h if method == "complex" else (x + h) - x


def evaluation_work(nodes: list[Node], var: Var, deps, overhead: bool = True) -> float:
    """Rough floating-point operations of one evaluation of what depends on var (matrix products and
    factorisations by their cubes, everything else by its size, and, with overhead, each operation's cost in
    Python)."""
    from .budget import node_work

    return sum(node_work(node, overhead) for node in nodes if node.op is not None and var.name in deps[id(node)])


def sample_columns(nodes, wrt: list[Var], method: str, budget: float = WORK_BUDGET, seed: int = 0):
    """The wrt columns (row-major, concatenated) to check: all of them when that fits the work budget, else an
    evenly spread random subset that does (at least 16, always the first and last of each variable); fewer where
    even 16 exceed its share of the work mcalc allows itself (AUTO_SHARE of budget.max_work), and none (an empty
    array) where one does."""
    from .budget import max_work

    deps = dependencies(nodes, wrt, structural=True)
    per_column = [EVALUATIONS[method] * max(evaluation_work(nodes, v, deps), 1.0) for v in wrt]
    total = sum(c * v.size for c, v in zip(per_column, wrt))
    most = AUTO_SHARE * max_work()
    budget = min(budget, most)
    if total <= budget:
        return None
    rng = np.random.default_rng(seed)
    n = sum(v.size for v in wrt)
    if sum(c * min(v.size, 18) for c, v in zip(per_column, wrt)) > most:    # as many as its share of the work
        k = int(min(n, most // (total / n)))                                 # allowed fits, at random, or none
        return np.sort(rng.choice(n, size=k, replace=False)).astype(np.intp)
    picked, offset = [], 0
    for cost, v in zip(per_column, wrt):
        k = int(min(v.size, max(16, budget * (cost * v.size / total) // cost)))
        chosen = rng.choice(v.size, size=k, replace=False) if k < v.size else np.arange(v.size)
        picked.append(offset + distinct(np.concatenate([chosen, [0, v.size - 1]])))
        offset += v.size
    return np.concatenate(picked).astype(np.intp)


def _largest(nodes, values, deps) -> float:
    """The largest magnitude among the values the root is computed from (that depend on a wrt variable)."""
    out = 0.0
    with np.errstate(all="ignore"):
        for n in nodes:
            if n.op is not None and deps[id(n)] and id(n) in values:
                v = np.asarray(values[id(n)])
                if v.dtype.kind in "fc" and v.size:
                    m = float(np.nanmax(np.abs(v)))
                    if np.isfinite(m):
                        out = max(out, m)
    return out


def finite_jacobian(nodes: list[Node], env: dict, wrt: list[Var], method: str = "central",
                    columns: np.ndarray | None = None, shrink: float = 1.0) -> FiniteResult:
    """The finite-difference Jacobian of the root (nodes[-1]) with respect to wrt, in the columns given (all by
    default): only those are computed and stored.  shrink: steps this many times smaller than the method's."""
    if method not in METHODS:
        raise UsageError(f"unknown finite-difference method '{method}'", hint="choose " + ", ".join(METHODS))
    root = nodes[-1]
    deps = dependencies(nodes, wrt, structural=True)
    if method == "complex":
        for node in nodes:
            if node.op is not None and not node.op.analytic and deps[id(node)]:
                text = node.text or node.op.name
                raise UsageError(lambda w: f"{w.eg('fd', 'complex')} needs complex-analytic operations, and {text} "
                                 "is not", hint=lambda w: f"use {w.eg('fd', 'central')} or {w.eg('fd', 'richardson')}")
    base = evaluate(nodes, env)
    f0 = np.asarray(base[id(root)], dtype=float).reshape(-1)
    n = sum(v.size for v in wrt)
    cols = np.arange(n) if columns is None else distinct(np.asarray(columns, dtype=np.intp))
    check_dense(root.size, cols.size, "the finite-difference Jacobian",
                hint=lambda w: f"check fewer columns with {w.fd_columns}, or skip the check with {w.eg('fd', 'none')}")
    result = FiniteResult(np.full((root.size, cols.size), np.nan), cols, n)
    columns = cols
    f_max, h_min = _largest(nodes, base, deps), np.inf       # (rounding follows the largest value on the way:
    #                                                          a sum of softmax is 1 - 1 with errors of eps)
    offset = 0
    for v in wrt:
        mine = columns[(columns >= offset) & (columns < offset + v.size)] - offset
        sub = [node for node in nodes if v.name in deps[id(node)]]
        per_entry = 16 * 4 * sum(node.size for node in sub) + 16 * v.size
        check_dense(1, per_entry // 8, "one column of the finite-difference check",
                    hint=lambda w: f"{w.eg('fd', 'none')} skips the check")
        chunk = int(max(1, min(v.size, CHUNK_BYTES // per_entry)))
        x = np.asarray(env[v.name], dtype=float).reshape(-1)
        h = steps(x, method) / shrink
        if len(mine):
            h_min = min(h_min, float(h[mine].min()))
        for k in range(0, len(mine), chunk):
            js = mine[k:k + chunk]
            _columns(nodes, env, v, x, h, js, f0, method, result, offset)
        offset += v.size
    if np.isfinite(h_min):
        result.noise = 10 * _ROUNDING[method] * EPS * f_max / h_min
    return result


def _columns(nodes, env, v: Var, x, h, js, f0, method, result: FiniteResult, offset: int) -> None:
    """Fill columns offset + js of result with d root / d v[js], and note kinks."""
    root = nodes[-1]

    def f(step, js, dtype=float):
        k = len(js)
        X = np.repeat(x[None, :].astype(dtype), k, axis=0)
        X[np.arange(k), js] += step
        e = dict(env)
        e[v.name] = X.reshape((k,) + v.shape)
        try:
            out = evaluate(nodes, e)[id(root)]
        except DomainError as err:
            raise StepOutOfDomain(f"a finite-difference step ({method}) left the domain: {err.message}",
                              hint=_step_hint(method)) from None
        result.evaluations += k
        return np.broadcast_to(out, (k,) + root.shape).reshape(k, -1).T

    hj = h[js]
    cols = offset + js
    at = np.searchsorted(result.cols, cols)           # where these columns are kept
    if method == "complex":
        result.values[:, at] = f(1j * hj, js, complex).imag / hj
        return
    if method == "forward":
        result.values[:, at] = (f(hj, js) - f0[:, None]) / hj
        return
    plus, minus = f(hj, js), f(-hj, js)
    central = (plus - minus) / (2 * hj)
    half = None
    if method == "richardson":
        half = (f(hj / 2, js) - f(-hj / 2, js)) / hj
        result.values[:, at] = (4 * half - central) / 3
    else:
        result.values[:, at] = central
    _kinks(f, f0, js, hj, plus, minus, central, result, cols, half)


def _kinks(f, f0, js, hj, plus, minus, central, result: FiniteResult, cols, half=None) -> None:
    """Entries whose one-sided slopes differ by more than curvature explains (kinks), or whose change across the
    point does not shrink with the step (jumps).  At a kink the gap between the slopes stays the same as the step
    shrinks, at a jump the change stays; on a smooth function both shrink with the step, so suspects are
    re-measured with a step 16 times smaller and kept only if theirs stays (a change that stays nearly whole: a
    transition a little narrower than the step, tanh(1e6 x), shrinks by more).  half: the central slopes at
    half the step, when measured (Richardson), which rule out most smooth suspects for free."""
    right, left = (plus - f0[:, None]) / hj, (f0[:, None] - minus) / hj
    gap, change = np.abs(right - left), np.abs(plus - minus)
    floor = 1e-3 * max(1.0, float(np.max(np.abs(central), initial=0.0)))
    kinky = gap > 0.1 * np.maximum(np.abs(right), np.abs(left)) + floor
    steep = change > 1e-2 * np.maximum(1.0, np.abs(f0))[:, None]          # sign(x) at 0: 2 at any step
    if half is not None:
        steep &= np.abs(half) * hj > 0.9 * change                          # smooth: the change halves
    suspect = kinky | steep
    if not suspect.any():
        return
    c = np.nonzero(suspect.any(axis=0))[0]
    small = hj[c] / 16
    plus2, minus2 = f(small, js[c]), f(-small, js[c])
    right2, left2 = (plus2 - f0[:, None]) / small, (f0[:, None] - minus2) / small
    jump = steep[:, c] & (np.abs(plus2 - minus2) > 0.9 * change[:, c])
    kink = kinky[:, c] & ~jump & (np.abs(right2 - left2) > 0.5 * gap[:, c])
    for i, k in zip(*np.nonzero(jump)):
        result.kinks[(int(i), int(cols[c[k]]))] = (float(plus2[i, k] - f0[i]), float(f0[i] - minus2[i, k]), "jump")
    for i, k in zip(*np.nonzero(kink)):
        result.kinks[(int(i), int(cols[c[k]]))] = (float(right2[i, k]), float(left2[i, k]), "kink")


@dataclass(eq=False)
class Probes:
    values: np.ndarray        # (m, k): the derivative along each direction, by finite differences
    noise: float              # bound on their rounding error
    kinky: bool               # one-sided slopes that differ, or a change that does not shrink: a kink or a jump
    f0_max: float = 0.0       # max |f| at the point itself


def probes(nodes: list[Node], env: dict, wrt: list[Var], U: np.ndarray, method: str) -> Probes:
    """J u by finite differences along each column u of U (n×k, the wrt variables side by side, row-major), all
    variables moved at once: every column of J checked together, for two evaluations a direction (central).  The
    step is the method's own along u, so entries of u should be about max(1, |x_j|), as a column's step is."""
    root = nodes[-1]
    deps = dependencies(nodes, wrt, structural=True)
    base = evaluate(nodes, env)
    f0 = np.asarray(base[id(root)], dtype=float).reshape(-1)
    xs = [np.asarray(env[v.name], dtype=float) for v in wrt]
    out, kinky, h = np.empty((root.size, U.shape[1])), False, _STEP[method]

    def f(t, u):
        e, offset = dict(env), 0
        for v, x in zip(wrt, xs):
            e[v.name] = x + t * u[offset:offset + v.size].reshape(v.shape)
            offset += v.size
        try:
            return np.asarray(evaluate(nodes, e)[id(root)]).reshape(-1)
        except DomainError as err:
            raise StepOutOfDomain(f"a finite-difference step ({method}) left the domain: {err.message}",
                                  hint=_step_hint(method)) from None

    x_all = np.concatenate([x.reshape(-1) for x in xs]) if xs else np.zeros(0)
    for k in range(U.shape[1]):
        u = U[:, k]
        if method == "complex":
            hk = h * _complex_shrink(x_all, u)
            out[:, k] = f(1j * hk, u).imag / hk
            continue
        plus = f(h, u)
        if method == "forward":
            out[:, k] = (plus - f0) / h
            continue
        minus = f(-h, u)
        central = (plus - minus) / (2 * h)
        out[:, k] = central if method == "central" else (4 * (f(h / 2, u) - f(-h / 2, u)) / h - central) / 3
        right, left = (plus - f0) / h, (f0 - minus) / h
        floor = 1e-3 * max(1.0, float(np.max(np.abs(central), initial=0.0)))
        kinky |= bool(np.any(np.abs(right - left) > 0.1 * np.maximum(np.abs(right), np.abs(left)) + floor) or
                      np.any(np.abs(plus - minus) > 1e-2 * np.maximum(1.0, np.abs(f0))))
    return Probes(out, 10 * _ROUNDING[method] * EPS * _largest(nodes, base, deps) / h, kinky,
                  float(np.abs(f0).max(initial=0.0)))


def directional(nodes: list[Node], env: dict, v: Var, u: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    """(the derivative of the root along u in the variable v, its rounding bound): J u without J, as probes
    measures it, along u scaled so that its largest entry is max(1, max|x|)."""
    root = nodes[-1]
    x = np.asarray(env[v.name], dtype=float)
    u = np.asarray(u, dtype=float).reshape(-1)
    umax = float(np.abs(u).max(initial=0.0))
    if umax == 0:
        return np.zeros(root.shape), 0.0
    factor = max(1.0, float(np.abs(x).max(initial=0.0))) / umax
    pr = probes(nodes, env, [v], (u * factor)[:, None], method)
    noise = 10 * _ROUNDING[method] * EPS * pr.f0_max / (_STEP[method] * factor)
    return (pr.values[:, 0] / factor).reshape(root.shape), noise
