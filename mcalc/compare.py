"""The analytic Jacobian against finite differences: compute() gives both and their comparison, entry by entry,
with a second opinion on the entries where central differences disagree, and the kinks and jumps found."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .chain import check_jacobian_size, dependencies
from .errors import McalcError, StepOutOfDomain, UsageError
from .finite import AUTO_SHARE, DEFAULT_TOL, METHODS, distinct, finite_jacobian, sample_columns
from .linops import memory_budget
from .problem import Problem, located, prefixed
from .values import refuse_subnormal

SPARSE_CHECK_BYTES = 256 << 20    # finite differences of a sparse Jacobian: a sample of columns within this


@dataclass(eq=False)
class Comparison:
    """The analytic Jacobian against finite differences, entry by entry where both exist.  Positions are in the
    problem's arrangement (order and layout)."""

    method: str
    tol: float
    max_abs_error: float
    max_rel_error: float
    scale: float
    bad: list = field(default_factory=list)      # [(i, j), ...] entries beyond the tolerance, worst first
    bad_count: int = 0
    kinks: list = field(default_factory=list)    # [(i, j, right, left, "kink" | "jump"), ...] (see FiniteResult)
    checked_columns: int = 0                     # wrt entries checked
    total_columns: int = 0
    second_opinion: str | None = None            # the method that re-checked the columns the first got wrong
    rechecked_columns: int = 0
    noise: float = 0.0                           # the finite differences' rounding bound, added to tol·scale
    converged: int = 0                           # entries whose differences approach J only as the step shrinks
    probes: int = 0                              # random directions along which J u was checked (all columns)
    bad_values: list = field(default_factory=list)   # [(analytic, finite difference), ...] at those in bad (a
    #                                                  sparse result keeps no dense array of either)

    @property
    def agree(self) -> bool:
        return not self.bad and not self.kinks


def compare(J: np.ndarray, F: np.ndarray, tol: float, noise: float) -> tuple[float, float, float, np.ndarray]:
    """(max abs error, max rel error, scale, mask of entries beyond the tolerance) where F is not nan.

    Errors are relative to the Jacobian's magnitude, scale = max(max|J|, max|F|), so that exactly-zero entries are
    judged by the same yardstick as the rest; an entry is beyond the tolerance when |J - F| > tol·scale + noise,
    noise being the finite differences' own rounding error (which an exactly zero Jacobian of a large function,
    like that of sin(x)² + cos(x)², shows)."""
    checked = ~np.isnan(F)
    diff = np.where(checked, np.abs(J - np.where(checked, F, 0.0)), 0.0)
    max_abs = float(diff.max(initial=0.0))
    scale = max(float(np.abs(J).max(initial=0.0)), float(np.nanmax(np.abs(F), initial=0.0)))
    return max_abs, (max_abs / scale if scale else 0.0), scale, diff > tol * scale + noise


@dataclass(eq=False)
class Result:
    problem: Problem
    J: np.ndarray                       # analytic, in the problem's order and layout
    F: np.ndarray | None                # finite differences, same arrangement, nan where not checked
    comparison: Comparison | None
    mode: str
    skipped: str = ""                   # why the finite-difference check was skipped, when it was not asked to be


SHRINK = 16         # how much smaller the steps of the convergence test are


def _converging(problem: Problem, Jc: np.ndarray, F: np.ndarray, bad: np.ndarray, cols: np.ndarray,
                tol: float, noise: float) -> np.ndarray:
    """The disagreeing entries whose central differences converge to the analytic value at first order, as at a
    point where the second derivative jumps (elu or x·|x| at 0: C¹ but not C²): central differences at steps 4
    and 16 times smaller, extrapolated to a zero step as a first-order error (E = C₁₆ + (C₁₆ - C₄)/3), must equal
    the analytic value within the tolerance.  A wrong derivative is off by the same amount at every step, and
    stays wrong.  Their finite differences become the extrapolated ones."""
    redo = np.nonzero(bad.any(axis=0))[0]
    with located(problem.expression):
        try:
            c4, c16 = (finite_jacobian(problem.nodes, problem.values, problem.wrt, "central", cols[redo], k).values
                       for k in (SHRINK / 4, SHRINK))
        except McalcError:
            return np.zeros_like(bad)
    E = c16 + (c16 - c4) / 3
    J = Jc[:, redo]
    ok = np.zeros_like(bad)
    ok[:, redo] = bad[:, redo] & (np.abs(J - E) <= tol * np.maximum(1.0, np.abs(J)) + SHRINK * noise) & \
        (np.abs(c16 - J) < np.abs(c4 - J))                 # (and getting closer as the step shrinks)
    F[:, redo] = np.where(ok[:, redo], E, F[:, redo])
    return ok


CLOSER = 1e4       # how much smaller the steps are that look again at a kink (x = 1e-8 is not abs's kink)


def _closer_look(problem: Problem, Jc: np.ndarray, F: np.ndarray, kinks: dict, cols: np.ndarray, tol: float,
                 method: str) -> dict:
    """The kinks and jumps that are not there: a point near, but not at, a kink (abs at 1e-8) or a pole (tan at
    1.5707963) looks like one to steps larger than its distance from it.  Their columns are differentiated again by
    the complex step where every operation is analytic (it stays on the point), else with steps CLOSER times
    smaller; an entry whose one-sided slopes then agree, and whose value agrees with the analytic one, is no kink
    (its finite difference becomes the new one).  A true kink (abs at 0) stays one at every step."""
    redo = sorted({j for (_, j) in kinks})
    second = second_method(problem)
    x = np.concatenate([np.ravel(problem.values[v.name]) for v in problem.wrt])[redo]
    tiny = np.abs(x[x != 0]).min(initial=1.0)                  # (steps relative to a point near 0: 1e-200)
    with located(problem.expression):
        try:
            again = finite_jacobian(problem.nodes, problem.values, problem.wrt,
                                    "complex" if second == "complex" else method, np.array(redo, dtype=np.intp),
                                    1.0 if second == "complex" else CLOSER / min(tiny, 1.0))
        except McalcError:
            return kinks
    kept = {}
    for (i, j), slopes in kinks.items():
        k = redo.index(j)
        c = int(np.searchsorted(cols, j))
        value = again.values[i, k]
        if (i, j) in again.kinks or not np.isfinite(value) or \
                abs(value - Jc[i, c]) > 10 * tol * max(1.0, abs(Jc[i, c])) + again.noise:
            kept[(i, j)] = slopes
        else:
            F[i, c] = value
    return kept


def second_method(problem: Problem) -> str:
    """The more accurate method to re-check with: the complex step when every operation on the way is analytic."""
    deps = dependencies(problem.nodes, problem.wrt, structural=True)
    analytic = all(n.op is None or n.op.analytic or not deps[id(n)] for n in problem.nodes)
    return "complex" if analytic else "richardson"


def fd_method(fd: str | None, tol: float | None, default: str) -> str:
    """The finite-difference method asked for (default when None), refusing a bad method or tolerance."""
    method = default if fd is None else prefixed(METHODS + ("none",), fd) or str(fd).lower()   # (--fd cent)
    if method not in METHODS + ("none",):
        raise UsageError(f"unknown finite-difference method '{fd}'", hint="choose " + ", ".join(METHODS + ("none",)))
    if tol is not None and not (np.isfinite(tol) and tol > 0):
        raise UsageError(lambda w: f"{w.tol} must be a positive number, got {tol}")
    if tol is not None and method == "none":
        raise UsageError(lambda w: f"{w.tol} sets the tolerance of the finite-difference check, which "
                                   f"{w.eg('fd', 'none')} skips")
    return method


def compute(problem: Problem, fd: str | None = None, tol: float | None = None, columns="auto",
            limit: int = 10, sparse: bool = False) -> Result:
    """The analytic Jacobian and its finite-difference cross-check.

    fd: a method, 'none', or None for central differences with a second opinion: columns where they disagree
    are re-checked with the complex step (or Richardson), and judged again.  columns: 'auto' (every column when
    that costs under about a second, else a sample), 'all', or a number of columns to sample.  sparse: the
    Jacobian as a scipy.sparse array built from its structure, never dense (the check then samples columns
    within SPARSE_CHECK_BYTES, and Result.F is None)."""
    method = fd_method(fd, tol, "central")
    m, n = problem.root.size, sum(v.size for v in problem.wrt)
    if method == "none":
        return Result(problem, problem.analytic_sparse() if sparse else problem.analytic(), None, None,
                      problem.mode)
    if not sparse:
        check_jacobian_size(m, n, copies=3, what=problem.what)
    room = min(SPARSE_CHECK_BYTES, memory_budget() // 4)      # the sampled columns, twice, with room to spare
    cols = _columns_to_check(problem, method, columns, room // (16 * m) if sparse else None)   # (refused first)
    if cols is not None and cols.size == 0:
        from .budget import max_work

        return Result(problem, problem.analytic_sparse() if sparse else problem.analytic(), None, None, problem.mode,
                      skipped=f"one column would take more than {AUTO_SHARE:.0%} of the {max_work():.1e} "
                              "floating-point operations mcalc allows itself, MCALC_MAX_WORK or --max-work; "
                              "--fd-columns 1 checks one anyway")
    refuse_subnormal(problem.evaluate().values, nodes=problem.nodes)    # (judged by finite differences: first)
    J = problem.analytic_sparse(canonical=True) if sparse else problem.analytic(canonical=True)
    if columns in ("auto", None) and n >= PROBE_FROM:
        probed = _probe(problem, J, method, tol)
        if isinstance(probed, Comparison):
            return Result(problem, problem.arrange_sparse(J) if sparse else problem.arrange(J), None, probed,
                          problem.mode)
        if probed is not None and cols is not None:            # (the columns the probes point at, checked too)
            cols = distinct(np.concatenate([cols, probed])).astype(np.intp)
    with located(problem.expression):
        try:
            fr = finite_jacobian(problem.nodes, problem.values, problem.wrt, method, cols)
        except StepOutOfDomain:            # log(x) at x = 1e-9: the complex step stays on the real point
            if fd is not None or second_method(problem) != "complex":
                raise
            method = "complex"
            fr = finite_jacobian(problem.nodes, problem.values, problem.wrt, method, cols)
    Jc = J[:, fr.cols]
    Jc = Jc.toarray() if sparse else Jc
    tol = DEFAULT_TOL[method] if tol is None else float(tol)
    F, noise = fr.values, fr.noise
    max_abs, max_rel, scale, bad = compare(Jc, F, tol, noise)
    second, rechecked, kinks = None, 0, dict(fr.kinks)
    if fd is None and bad.any() and method != second_method(problem):   # (not complex again)
        redo = np.nonzero(bad.any(axis=0))[0]
        second = second_method(problem)
        with located(problem.expression):
            again = finite_jacobian(problem.nodes, problem.values, problem.wrt, second, fr.cols[redo])
        F[:, redo] = again.values
        rechecked, noise = len(redo), max(noise if len(redo) < F.shape[1] else 0.0, again.noise)
        max_abs, max_rel, scale, bad = compare(Jc, F, tol, noise)
        kinks = {(i, j): k for (i, j), k in kinks.items()      # a "jump" the complex step sees through:
                 if k[2] != "jump" or bad[i, np.searchsorted(fr.cols, j)]}          # a steep smooth function
    if fd is None and kinks:
        kinks = _closer_look(problem, Jc, F, kinks, fr.cols, tol, method)
        max_abs, max_rel, scale, bad = compare(Jc, F, tol, noise)
    at = [(i, np.searchsorted(fr.cols, j)) for i, j in kinks]
    bad[tuple(np.array(at, dtype=np.intp).reshape(-1, 2).T)] = False     # reported as kinks, not disagreements
    converged = 0
    if fd is None and bad.any() and method != "complex":          # (the default check: as its second opinion)
        converging = _converging(problem, Jc, F, bad, fr.cols, tol, noise)
        converged = int(converging.sum())
        bad &= ~converging
        if converged:                                  # (the errors shown: against the extrapolated values)
            max_abs, max_rel, scale, _ = compare(Jc, F, tol, noise)
    worst = np.argsort(-np.where(bad, np.abs(Jc - np.nan_to_num(F)), -1.0), axis=None)[: min(limit, int(bad.sum()))]
    at_worst = [np.unravel_index(k, Jc.shape) for k in worst]
    positions = [problem.position(i, fr.cols[j]) for i, j in at_worst]
    kinks = [problem.position(i, j) + slopes for (i, j), slopes in sorted(kinks.items())[:limit]]
    cmp = Comparison(method, tol, max_abs, max_rel, scale, positions, int(bad.sum()), kinks, fr.cols.size, n,
                     second, rechecked, noise, converged, bad_values=[(float(Jc[i, j]), float(F[i, j]))
                                                                      for i, j in at_worst])
    if sparse:
        return Result(problem, problem.arrange_sparse(J), None, cmp, problem.mode)
    return Result(problem, problem.arrange(J), problem.arrange(fr.J), cmp, problem.mode)


PROBES = 3           # random directions of the default check
PROBE_FROM = 32      # wrt entries from which directions are checked first (below, every column costs little)
LEAF = 4             # columns a disagreement is narrowed down to before they are differentiated one by one
NARROWING = 48       # the most directions spent narrowing disagreements down to columns
MAX_GROUPS = 8       # decades of input size checked apart, at most (beyond: column by column)


def _probe(problem: Problem, J, method: str, tol: float | None):
    """The default check of a Jacobian with many columns: J u against finite differences along PROBES random
    directions u, each of which checks every column at once (a wrong entry is missed only if it cancels exactly,
    with probability 0), for the columns of each decade of input size apart (steps follow the size, and a column of
    x = 1e6 would hide an error of one of y = 1 within the tolerance of their sum).  Returns the Comparison when they agree; else the columns the disagreement narrows down
    to (halving the columns, a direction on each half), to be differentiated one by one with the sampled ones; or
    None (a kink or jump along a direction, a step out of the domain: the columns tell better)."""
    from .finite import probes

    tol = DEFAULT_TOL[method] if tol is None else float(tol)
    x = np.concatenate([np.ravel(problem.values[v.name]) for v in problem.wrt]).astype(float)
    size = np.maximum(1.0, np.abs(x))
    rng = np.random.default_rng(problem.seed)
    n = x.size

    def along(U):
        with located(problem.expression):
            pr = probes(problem.nodes, problem.values, problem.wrt, U, method)
        E = np.asarray(J @ U)                                    # (one pass over J for all the directions)
        scale = max(float(np.max(np.abs(E), initial=0.0)), float(np.max(np.abs(pr.values), initial=0.0)))
        diff = np.abs(E - pr.values)
        return pr, diff, scale, diff > tol * scale + pr.noise

    def directions(cols, k):
        r = rng.uniform(-1.0, 1.0, (cols.size, k))
        U = np.zeros((n, k))
        U[cols] = size[cols, None] * (r + np.copysign(0.5, r)) / 1.5        # (|entries| in [1/3, 1] of the size)
        return U

    decade = np.floor(np.log10(size)).astype(int)             # (columns of like size, each group on its own:
    groups = [np.nonzero(decade == d)[0] for d in distinct(decade)]   # x = 1e6 beside y = 1 would swamp y's)
    if len(groups) > MAX_GROUPS:
        return None
    try:
        worst, disagree = (0.0, 0.0, 0.0, 0.0), []
        for cols in groups:
            pr, diff, scale, bad = along(directions(cols, PROBES))
            if pr.kinky:
                return None
            if bad.any():
                disagree.append(cols)
            rel = float(diff.max(initial=0.0)) / scale if scale else 0.0
            if rel >= worst[1]:
                worst = (float(diff.max(initial=0.0)), rel, scale, pr.noise)
        if not disagree:
            return Comparison(method, tol, worst[0], worst[1], worst[2], checked_columns=n, total_columns=n,
                              noise=worst[3], probes=PROBES)
        suspects, queue, spent = [], disagree, 0
        while queue and spent < NARROWING:
            cols = queue.pop()
            if cols.size <= LEAF:
                suspects.extend(cols.tolist())
                continue
            for half in (cols[: cols.size // 2], cols[cols.size // 2:]):
                spent += 1
                if along(directions(half, 1))[3].any():
                    queue.append(half)
        return np.array(sorted(suspects), dtype=np.intp)
    except McalcError:
        return None


def _columns_to_check(problem: Problem, method: str, columns, most: int | None = None):
    """The wrt columns to check (None: all of them), at most `most` of them when given."""
    n = sum(v.size for v in problem.wrt)
    columns = prefixed(("auto", "all"), columns) or columns if isinstance(columns, str) else columns   # (al: all)
    if columns in ("auto", None):
        cols = sample_columns(problem.nodes, problem.wrt, method)
        if most is not None and (n if cols is None else len(cols)) > most:
            cols = _sample(n if cols is None else cols, max(16, most))
        return cols
    if columns == "all":
        _affordable(problem, method, n)
        return None
    try:
        k = int(columns)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(lambda w: f"{w.fd_columns} must be auto, all or a number, got '{columns}'") from None
    if k < 1:
        raise UsageError(lambda w: f"{w.fd_columns} must be at least 1, got {k}")
    _affordable(problem, method, min(k, n))
    return None if k >= n else _sample(n, k)


def _affordable(problem: Problem, method: str, count: int) -> None:
    """Refuse, before it starts, a check of this many columns beyond the work budget."""
    from .budget import check_work
    from .finite import EVALUATIONS, evaluation_work

    deps = dependencies(problem.nodes, problem.wrt, structural=True)
    n = sum(v.size for v in problem.wrt)
    per = sum(evaluation_work(problem.nodes, v, deps) * v.size for v in problem.wrt) / max(n, 1)
    check_work(EVALUATIONS[method] * per * count, f"checking {count:,} columns by finite differences",
               hint=lambda w: f"{w.eg('fd_columns', 'auto')} checks a sample that fits")


def _sample(population, k: int) -> np.ndarray:
    """k of the columns (a number of them, or an array of indices), at random but reproducibly, in order."""
    return np.sort(np.random.default_rng(0).choice(population, size=k, replace=False))
