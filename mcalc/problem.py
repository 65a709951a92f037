"""A problem: an expression with its variables' shapes and values, what to differentiate and how to lay it out;
and its result: the analytic Jacobian, its finite-difference check and the comparison of the two."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from . import values as V
from .errors import DomainError, McalcError, StepOutOfDomain, TooLargeError, UsageError
from .linops import Dense, memory_budget
from .ops import fmt_shape
from .expr import Node, Var, build, evaluate, topo_order
from .finite import DEFAULT_TOL, METHODS, directional, finite_jacobian, sample_columns
from .chain import (LocalRules, assemble, assemble_sparse, check_jacobian_size, choose_mode, dependencies,
                    flatten_perm, linear_maps)
from .parse import Parsed, parse
from .tolerance import DEFAULT_TOL as ANSWER_TOL, wrong_entries

ORDERS = {"row": "row", "c": "row", "col": "col", "column": "col", "f": "col"}
LAYOUTS = {"numerator": "numerator", "num": "numerator", "denominator": "denominator", "den": "denominator"}


def normalize_order(order: str) -> str:
    o = ORDERS.get(str(order).strip().lower())
    if o is None:
        raise UsageError(f"unknown order '{order}'", hint="use row (alias C) or col (alias F)")
    return o


def normalize_layout(layout: str) -> str:
    lay = LAYOUTS.get(str(layout).strip().lower())
    if lay is None:
        raise UsageError(f"unknown layout '{layout}'", hint="use numerator or denominator")
    return lay


def normalize_wrt(wrt, variables: list[str]) -> list[str]:
    if not variables:
        raise UsageError("the expression has no variables: there is nothing to differentiate")
    if wrt is None or wrt == [] or wrt == "":
        return list(variables)
    if not isinstance(wrt, (str, list, tuple)):
        raise UsageError(f"wrt must be a variable name or a list of names, got {type(wrt).__name__}")
    items = [wrt] if isinstance(wrt, str) else list(wrt)
    names = []
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"wrt must name variables, got {item!r}")
        for name in (p.strip() for p in item.split(",")):
            if not name:
                continue
            if name not in variables:
                listed = ", ".join(variables) or "none"
                raise UsageError(f"wrt variable '{name}' is not in the expression (its variables: {listed})")
            if name in names:
                raise UsageError(f"wrt variable '{name}' is listed twice")
            names.append(name)
    if not names:
        raise UsageError("no wrt variable given", hint="name one with --wrt")
    return names


@dataclass
class Problem:
    parsed: Parsed
    root: Node
    nodes: list[Node]
    variables: dict[str, Var]          # in order of first appearance
    given: dict[str, np.ndarray]       # the values the user gave
    wrt: list[Var]
    order: str = "row"
    layout: str = "numerator"
    seed: int = 0
    rules: LocalRules | None = None    # the values of the nodes and their local linear maps, once evaluated
    chosen: dict | None = None         # every variable's value, once defaults are drawn

    @property
    def expression(self) -> str:
        return self.parsed.source

    @property
    def out_shape(self) -> tuple:
        return self.root.shape

    @property
    def mode(self) -> str:
        return choose_mode(self.root, self.wrt)

    @property
    def defaulted(self) -> list[str]:
        """The variables whose values mcalc chose."""
        return [name for name in self.variables if name not in self.given]

    def elsewhere(self, k: int) -> Problem:
        """The same problem at another point: the differentiated variables and those without a given value are
        drawn anew (seed k away); given constants stay, since an answer may rightly rely on them (t summing to 1
        in the gradient softmax(z) - t of a cross-entropy)."""
        wrt = {v.name for v in self.wrt}
        kept = {name: value for name, value in self.given.items() if name not in wrt}
        return replace(self, given=kept, seed=self.seed + 7919 * k, rules=None, chosen=None)

    def evaluate(self) -> Problem:
        """Draw default values where needed and evaluate the expression (once)."""
        if self.rules is None:
            shape_of = {name: v.shape for name, v in self.variables.items()}
            self.chosen, self.rules = _choose_defaults(self.nodes, self.given, self.defaulted, shape_of, self.seed,
                                                       self.parsed, self.wrt)
        return self

    @property
    def values(self) -> dict[str, np.ndarray]:
        return self.evaluate().chosen

    @property
    def node_values(self) -> dict:
        return self.evaluate().rules.vals

    @property
    def output(self) -> np.ndarray:
        return self.node_values[id(self.root)]

    def analytic(self, canonical: bool = False) -> np.ndarray:
        """The Jacobian in this problem's order and layout (canonical: row-major, numerator layout)."""
        check_jacobian_size(self.root.size, sum(v.size for v in self.wrt))
        self.evaluate()
        with located(self.expression):
            maps = linear_maps(self.nodes, self.rules, self.wrt)
        if canonical:
            return assemble(maps, self.root, self.wrt)
        return assemble(maps, self.root, self.wrt, self.order, self.layout)

    def analytic_sparse(self, canonical: bool = False):
        """The Jacobian as a scipy.sparse CSR array, built from the structure of the maps, never dense."""
        self.evaluate()
        with located(self.expression):
            maps = linear_maps(self.nodes, self.rules, self.wrt)
        J = assemble_sparse(maps, self.root, self.wrt)
        return J if canonical else self.arrange_sparse(J)

    def arrange_sparse(self, J_row):
        """A sparse row-major numerator-layout Jacobian in this problem's order and layout (CSR; CSC in the
        denominator layout, which is the transpose of a CSR array and costs nothing to make)."""
        from scipy import sparse

        if self.order == "col":
            perm_out, perm_in = self.perms()
            rows = sparse.csr_array(J_row[perm_out])
            column = np.empty_like(perm_in)                   # row-major wrt index → its column-major column
            column[perm_in] = np.arange(perm_in.size)
            J_row = sparse.csr_array((rows.data, column[rows.indices], rows.indptr), shape=J_row.shape)
            J_row.sort_indices()
        return J_row.T if self.layout == "denominator" else sparse.csr_array(J_row)   # (the transpose: CSC)

    def perms(self, order: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(perm_out, perm_in): the row-major index of each output and wrt entry in this problem's order (or the
        order given): the rows and columns of the row-major Jacobian, rearranged."""
        order = order or self.order
        perm_out = flatten_perm(self.root.shape, order)
        offsets = np.cumsum([0] + [v.size for v in self.wrt[:-1]])
        perm_in = np.concatenate([flatten_perm(v.shape, order) + off for v, off in zip(self.wrt, offsets)])
        return perm_out, perm_in

    def arrange(self, J_row: np.ndarray, order: str | None = None) -> np.ndarray:
        """A dense row-major numerator-layout Jacobian in this problem's order (or the order given) and layout
        (the same mechanism as the analytic one's, on dense blocks)."""
        blocks = np.split(J_row, np.cumsum([v.size for v in self.wrt])[:-1], axis=1)
        return assemble([Dense(b) for b in blocks], self.root, self.wrt, order or self.order, self.layout,
                        allow_nan=True)

    def position(self, i: int, j: int) -> tuple[int, int]:
        """Where entry (i, j) of the row-major numerator-layout Jacobian is in this problem's arrangement."""
        i, j = int(i), int(j)
        if self.order == "col":
            perm_out, perm_in = self.perms()
            i, j = int(np.argsort(perm_out)[i]), int(np.argsort(perm_in)[j])
        return (j, i) if self.layout == "denominator" else (i, j)


@contextmanager
def located(source: str):
    """Errors about a place in the expression carry the expression, so that they can show a caret."""
    try:
        yield
    except McalcError as e:
        if e.col is not None and e.source is None:
            e.source = source
        raise


def prepare(expr: str, wrt=None, values=None, shapes=None, order: str = "row", layout: str = "numerator",
            seed: int = 0, evaluate: bool = True) -> Problem:
    """Parse and type an expression and (unless evaluate is False, for a caller that has more checks to make
    first) choose default values for variables without one and evaluate it.  Whether the Jacobian fits in memory
    is checked where it is formed: a product with a vector, or a sparse Jacobian, may not need it to.

    shapes: a dict name → shape (tuple, int or '2x3'), or --shape items ('2x2', 'A=2x3', ...), where a bare shape is
    the default for every variable without its own.  values: a dict name → array-like or value text."""
    parsed = parse(expr)
    order, layout = normalize_order(order), normalize_layout(layout)
    names = parsed.variables()
    vals = _values(values)
    default, named = _shapes(shapes)
    for name in vals:               # (a --shape for a name the expression lacks is harmless, as in a script
        if name not in names:       # that loops over expressions with one set of shapes; a value is a typo)
            raise UsageError(f"--value names '{name}', which is not a variable of the expression "
                             f"(its variables: {', '.join(names) or 'none'})")
    wrt_names = normalize_wrt(wrt, names) if names else []    # (with no variables, errors in building come first)
    shape_of = V.resolve_shapes(names, vals, named, default)
    unshaped = [] if default is not None else [n for n in names if n not in vals and n not in named]
    root = build(parsed, shape_of, order, unshaped)
    if not names:
        normalize_wrt(wrt, names)
    nodes = topo_order(root)
    by_name = {n.name: n for n in nodes if isinstance(n, Var)}
    variables = {name: by_name[name] for name in names}
    wrt_vars = [variables[n] for n in wrt_names]
    problem = Problem(parsed, root, nodes, variables, vals, wrt_vars, order, layout, seed)
    return problem.evaluate() if evaluate else problem


def evaluate_text(text: str, problem: Problem, what: str = "the answer") -> np.ndarray:
    """Another expression (a hand-derived answer, a closed form) evaluated with the problem's variables, at the
    problem's values and in its flatten order."""
    parsed = parse(text)
    names = parsed.variables()
    unknown = [n for n in names if n not in problem.variables]
    if unknown:
        hint = "the identity is eye(n), a column of ones ones(n, 1)" if set(unknown) & {"I", "Id", "E", "J"} else \
            None
        raise UsageError(f"{what} uses {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} not a "
                         f"variable of the expression (its variables: {', '.join(problem.variables)})", hint=hint)
    root = build(parsed, {n: problem.variables[n].shape for n in names}, problem.order)
    nodes = topo_order(root)
    with located(text):
        return np.asarray(evaluate(nodes, {n: problem.values[n] for n in names})[id(root)], dtype=float)


def _values(values) -> dict[str, np.ndarray]:
    if values is None:
        return {}
    if isinstance(values, (str, list, tuple)):
        return V.parse_value_specs(values)
    if not isinstance(values, dict):
        raise UsageError(f"values must be a dict of name → array, got {type(values).__name__}")
    return {str(k): V.parse_value(v, str(k)) for k, v in values.items()}


def _shapes(shapes):
    if shapes is None:
        return None, {}
    if isinstance(shapes, (str, list, tuple)) and not (isinstance(shapes, tuple) and all(
            isinstance(d, int) for d in shapes)):
        return V.parse_shape_specs(shapes)
    if isinstance(shapes, tuple):
        return _as_shape(shapes, "shape"), {}
    if not isinstance(shapes, dict):
        raise UsageError(f"shapes must be a dict of name → shape, got {type(shapes).__name__}")
    return None, {str(k): _as_shape(s, str(k)) for k, s in shapes.items()}


def _as_shape(s, name) -> tuple:
    if isinstance(s, str):
        return V.parse_shape(s, f"the shape of {name}")
    if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
        s = (int(s),)
    if not isinstance(s, (tuple, list)) or len(s) > 2 or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1 for d in s):
        raise UsageError(f"the shape of {name} must be a tuple of at most 2 positive integers, got {s!r}")
    return tuple(int(d) for d in s)


def _choose_defaults(nodes, given, missing, shape_of, seed, parsed, wrt) -> tuple[dict, LocalRules]:
    """The given values plus readable defaults for the missing ones, drawn until the expression evaluates in its
    domain, its derivative is finite (no sqrt at 0) and every matrix that is inverted (or whose determinant is
    taken) is well conditioned.  Returns the values and the node values (with the local rules computed to check
    the defaults)."""
    if not missing:
        try:
            return dict(given), LocalRules(evaluate(nodes, given))
        except DomainError as e:
            e.source = parsed.source
            raise
    last: McalcError | None = None
    kinked = [n for n in nodes if n.op is not None and n.op.kink_at_zero and n.shape == n.args[0].shape]
    style = "small" if kinked or any(n.op is not None and n.op.saturates for n in nodes) else "integers"
    for attempt in range(V.DEFAULT_ATTEMPTS):
        env = dict(given)
        env.update({name: V.default_value(name, shape_of[name], seed, attempt, style, rank, len(missing))
                    for rank, name in enumerate(missing)})
        try:
            rules = LocalRules(evaluate(nodes, env))
            _check_defaults(nodes, rules.vals, kinked if attempt < V.DRAWS else [])
            rules.check(nodes, wrt)
        except DomainError as e:
            last = e
            continue
        return env, rules
    last.hint = f"mcalc tried {V.DEFAULT_ATTEMPTS} sets of default values; give values with --value"
    last.source = parsed.source
    raise last


def _check_defaults(nodes, vals, both_sides=()) -> None:
    """Default values must also keep inverted matrices well conditioned and stay off kinks (abs, relu at 0); and
    the arguments of the element-wise kinked operations in both_sides should have entries on both sides of the
    kink, so that both of its branches are exercised (relu(x) with x all positive hides a wrong derivative)."""
    for node in both_sides:
        a = vals[id(node.args[0])]
        if np.size(a) > 1 and not (np.any(a > 0) and np.any(a < 0)):
            raise DomainError(f"default values put every entry of {node.args[0].text} on one side of 0")
    for node in nodes:
        if node.op is None:
            continue
        a = vals[id(node.args[0])] if node.args else None
        if node.op.needs_invertible and np.linalg.cond(a) > 1e4:
            raise DomainError(f"no default values found that keep the matrix in {node.text} well conditioned")
        if node.op.kink_at_zero and np.any(a == 0):
            raise DomainError(f"no default values found that keep {node.text} away from its kink at 0")


# --- the result of a jac computation --------------------------------------------------------------------------

SPARSE_CHECK_BYTES = 256 << 20    # finite differences of a sparse Jacobian: a sample of columns within this


@dataclass
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


@dataclass
class Result:
    problem: Problem
    J: np.ndarray                       # analytic, in the problem's order and layout
    F: np.ndarray | None                # finite differences, same arrangement, nan where not checked
    comparison: Comparison | None
    mode: str


def _second_method(problem: Problem) -> str:
    """The more accurate method to re-check with: the complex step when every operation on the way is analytic."""
    deps = dependencies(problem.nodes, problem.wrt, structural=True)
    analytic = all(n.op is None or n.op.analytic or not deps[id(n)] for n in problem.nodes)
    return "complex" if analytic else "richardson"


def _method(fd: str | None, tol: float | None, default: str) -> str:
    """The finite-difference method asked for (default when None), refusing a bad method or tolerance."""
    method = default if fd is None else str(fd).lower()
    if method not in METHODS + ("none",):
        raise UsageError(f"unknown finite-difference method '{fd}'", hint="choose " + ", ".join(METHODS + ("none",)))
    if tol is not None and not (np.isfinite(tol) and tol > 0):
        raise UsageError(f"--tol must be a positive number, got {tol}")
    if tol is not None and method == "none":
        raise UsageError("--tol sets the tolerance of the finite-difference check, which --fd none skips")
    return method


def compute(problem: Problem, fd: str | None = None, tol: float | None = None, columns="auto",
            limit: int = 10, sparse: bool = False) -> Result:
    """The analytic Jacobian and its finite-difference cross-check.

    fd: a method, 'none', or None for central differences with a second opinion: columns where they disagree
    are re-checked with the complex step (or Richardson), and judged again.  columns: 'auto' (every column when
    that costs under about a second, else a sample), 'all', or a number of columns to sample.  sparse: the
    Jacobian as a scipy.sparse array built from its structure, never dense (the check then samples columns
    within SPARSE_CHECK_BYTES, and Result.F is None)."""
    method = _method(fd, tol, "central")
    m, n = problem.root.size, sum(v.size for v in problem.wrt)
    if method == "none":
        return Result(problem, problem.analytic_sparse() if sparse else problem.analytic(), None, None,
                      problem.mode)
    if not sparse:
        check_jacobian_size(m, n, copies=3)
    problem.evaluate()
    J = problem.analytic_sparse(canonical=True) if sparse else problem.analytic(canonical=True)
    room = min(SPARSE_CHECK_BYTES, memory_budget() // 4)      # the sampled columns, twice, with room to spare
    cols = _columns_to_check(problem, method, columns, room // (16 * m) if sparse else None)
    with located(problem.expression):
        try:
            fr = finite_jacobian(problem.nodes, problem.values, problem.wrt, method, cols)
        except StepOutOfDomain:            # log(x) at x = 1e-9: the complex step stays on the real point
            if fd is not None or _second_method(problem) != "complex":
                raise
            method = "complex"
            fr = finite_jacobian(problem.nodes, problem.values, problem.wrt, method, cols)
    Jc = J[:, fr.cols]
    Jc = Jc.toarray() if sparse else Jc
    tol = DEFAULT_TOL[method] if tol is None else float(tol)
    F, noise = fr.values, fr.noise
    max_abs, max_rel, scale, bad = compare(Jc, F, tol, noise)
    second, rechecked, kinks = None, 0, dict(fr.kinks)
    if fd is None and bad.any():
        redo = np.nonzero(bad.any(axis=0))[0]
        second = _second_method(problem)
        with located(problem.expression):
            again = finite_jacobian(problem.nodes, problem.values, problem.wrt, second, fr.cols[redo])
        F[:, redo] = again.values
        rechecked, noise = len(redo), max(noise if len(redo) < F.shape[1] else 0.0, again.noise)
        max_abs, max_rel, scale, bad = compare(Jc, F, tol, noise)
        kinks = {(i, j): k for (i, j), k in kinks.items()      # a "jump" the complex step sees through:
                 if k[2] != "jump" or bad[i, np.searchsorted(fr.cols, j)]}          # a steep smooth function
    at = [(i, np.searchsorted(fr.cols, j)) for i, j in kinks]
    bad[tuple(np.array(at, dtype=np.intp).reshape(-1, 2).T)] = False     # reported as kinks, not disagreements
    worst = np.argsort(-np.where(bad, np.abs(Jc - np.nan_to_num(F)), -1.0), axis=None)[: min(limit, int(bad.sum()))]
    positions = [problem.position(i, fr.cols[j]) for i, j in (np.unravel_index(k, Jc.shape) for k in worst)]
    kinks = [problem.position(i, j) + slopes for (i, j), slopes in sorted(kinks.items())[:limit]]
    cmp = Comparison(method, tol, max_abs, max_rel, scale, positions, int(bad.sum()), kinks, fr.cols.size, n,
                     second, rechecked, noise)
    if sparse:
        return Result(problem, problem.arrange_sparse(J), None, cmp, problem.mode)
    return Result(problem, problem.arrange(J), problem.arrange(fr.J), cmp, problem.mode)


def _columns_to_check(problem: Problem, method: str, columns, most: int | None = None):
    """The wrt columns to check (None: all of them), at most `most` of them when given."""
    n = sum(v.size for v in problem.wrt)
    if columns in ("auto", None):
        cols = sample_columns(problem.nodes, problem.wrt, method)
        if most is not None and (n if cols is None else len(cols)) > most:
            cols = _sample(n if cols is None else cols, max(16, most))
        return cols
    if columns == "all":
        return None
    try:
        k = int(columns)
    except (TypeError, ValueError):
        raise UsageError(f"--fd-columns must be auto, all or a number, got '{columns}'") from None
    if k < 1:
        raise UsageError(f"--fd-columns must be at least 1, got {k}")
    return None if k >= n else _sample(n, k)


def _sample(population, k: int) -> np.ndarray:
    """k of the columns (a number of them, or an array of indices), at random but reproducibly, in order."""
    return np.sort(np.random.default_rng(0).choice(population, size=k, replace=False))


# --- gradients and products with a vector ------------------------------------------------------------------------

def gradient_of(result: Result) -> tuple[np.ndarray, np.ndarray | None]:
    """(gradient, its finite-difference counterpart) shaped like the one wrt variable, from a jac result."""
    p = result.problem
    v = p.wrt[0]
    order = "F" if p.order == "col" else "C"
    F = None if result.F is None else result.F.reshape(v.shape, order=order)
    return result.J.reshape(v.shape, order=order), F


def require_gradient(problem: Problem) -> None:
    if problem.root.size != 1:                       # a scalar, or a 1×1 matrix such as x.T@A@x
        raise UsageError(f"grad needs a scalar expression; {problem.expression} has shape "
                         f"{fmt_shape(problem.root.shape)}", hint="use mcalc jac for a Jacobian")
    if len(problem.wrt) != 1:
        names = [v.name for v in problem.wrt]
        raise UsageError(f"grad takes one --wrt variable, and there are {len(names)} ({', '.join(names)})",
                         hint=f"pick one, e.g. --wrt {names[0]}, and ask once per variable (mcalc jac gives "
                              "all of them as one row)")


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


def product(problem: Problem, kind: str, direction, fd: str | None = None, tol: float | None = None,
            checks: int = 3) -> Product:
    if len(problem.wrt) != 1:
        raise UsageError(f"--{kind} takes one --wrt variable")
    v = problem.wrt[0]
    shape = problem.root.shape if kind == "vjp" else v.shape
    d = V.parse_value(direction, f"--{kind}") if isinstance(direction, str) else V.as_value(direction, f"--{kind}")
    if d.shape != shape:
        what = "the output" if kind == "vjp" else v.name
        raise UsageError(f"--{kind} needs an array shaped like {what}, {fmt_shape(shape)}, got {fmt_shape(d.shape)}")
    problem.evaluate()
    seed = Dense(d.reshape(1, -1)) if kind == "vjp" else Dense(d.reshape(-1, 1))
    with located(problem.expression):
        maps = linear_maps(problem.nodes, problem.rules, [v], "reverse" if kind == "vjp" else "forward", seed)
    value = np.asarray(maps[0].to_dense()).reshape(v.shape if kind == "vjp" else problem.root.shape)
    if not np.all(np.isfinite(value)):
        raise DomainError(f"the {kind} overflows at these values")
    result = Product(problem, kind, d, value)
    method = _method(fd, tol, _second_method(problem))
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


def determinant(result: Result, symbolic=None) -> dict:
    """det J of a square Jacobian (a change of coordinates): the number, and the simplified symbolic form."""
    m, n = result.J.shape
    if m != n:
        raise UsageError(f"--det needs a square Jacobian; this one is {m}×{n}")
    doc = {"determinant": float(np.linalg.det(result.J))}
    if symbolic is not None:
        import sympy

        doc["determinant_symbolic"] = str(sympy.simplify(symbolic.det()))
    return doc


def tensor(result: Result) -> np.ndarray:
    """The Jacobian as the array of seed 000: ∂f[i...]/∂X[k...], shape output + input (input + output in the
    denominator layout).  The flatten order does not enter."""
    p = result.problem
    if len(p.wrt) != 1:
        raise UsageError("--tensor takes one --wrt variable")
    v = p.wrt[0]
    J = result.J if p.layout == "numerator" else result.J.T
    f = "F" if p.order == "col" else "C"
    T = J.reshape(p.root.shape + v.shape, order="C") if f == "C" else _unflatten_col(J, p.root.shape, v.shape)
    if p.layout == "denominator":
        T = np.moveaxis(T, list(range(len(p.root.shape))), list(range(len(v.shape), T.ndim)))
    return T


def _unflatten_col(J, out_shape, in_shape):
    rows = np.argsort(flatten_perm(out_shape, "col"))
    cols = np.argsort(flatten_perm(in_shape, "col"))
    return J[np.ix_(rows, cols)].reshape(out_shape + in_shape)


def verify_closed_form(problem: Problem, ex) -> tuple[bool | None, float | str] | None:
    """Evaluate the closed form at the problem's values and compare it with the analytic Jacobian:
    (True, max error); (None, the DomainError) where the closed form is undefined at these values (det(A)·inv(A)ᵀ
    at a singular A), (None, the TooLargeError) where the Jacobian is too large to form; or None when there is no
    closed form.  One that evaluates to something else is withdrawn (the explanation then says there is none): a
    wrong closed form is never printed."""
    if ex.formula is None:
        return None
    try:
        J = problem.analytic()                       # not differentiable here: that error is the user's to see
    except TooLargeError as e:
        return None, e
    try:
        V = evaluate_text(ex.mc, problem, "the closed form")
    except (DomainError, TooLargeError) as e:
        return None, e
    except McalcError:                               # not even a valid expression: a bug, withdrawn below
        V = None
    if V is not None and V.shape == J.shape and not wrong_entries(J, V, ANSWER_TOL).any():
        if ex.gradient is not None:                  # the gradient form too, or it is not shown
            want = problem.analytic(canonical=True).reshape(problem.wrt[0].shape)
            try:
                G = evaluate_text(ex.gradient.mc(), problem, "the gradient")
                if G.shape != want.shape or wrong_entries(want, G, ANSWER_TOL).any():
                    ex.gradient = None
            except McalcError:
                ex.gradient = None
        return True, float(np.abs(V - J).max(initial=0.0))
    ex.missing, ex.formula = ["(a closed form that failed mcalc's own check; please report it)"], None
    return None
