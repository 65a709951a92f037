"""A problem: an expression with its variables' shapes and values, what to differentiate and how to lay it out;
and its result: the analytic Jacobian, its finite-difference check and the comparison of the two."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import values as V
from .errors import DomainError, McalcError, UsageError
from .expr import Node, Var, build, evaluate, topo_order
from .finite import DEFAULT_TOL, METHODS, finite_jacobian
from .chain import LocalRules, assemble, check_jacobian_size, choose_mode, flatten_perm, linear_maps
from .parse import Parsed, parse

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
    values: dict[str, np.ndarray]
    defaulted: list[str]               # variables whose values mcalc chose
    wrt: list[Var]
    order: str = "row"
    layout: str = "numerator"

    @property
    def expression(self) -> str:
        return self.parsed.source

    @property
    def out_shape(self) -> tuple:
        return self.root.shape

    @property
    def mode(self) -> str:
        return choose_mode(self.root, self.wrt)

    rules: LocalRules | None = None    # the values of the nodes and their local linear maps, once computed

    @property
    def node_values(self) -> dict:
        return self.rules.vals

    @property
    def output(self) -> np.ndarray:
        return self.node_values[id(self.root)]

    def analytic(self) -> np.ndarray:
        check_jacobian_size(self.root.size, sum(v.size for v in self.wrt))
        maps = linear_maps(self.nodes, self.rules, self.wrt)
        return assemble(maps, self.root, self.wrt, self.order, self.layout)

    def arrange(self, J_row: np.ndarray) -> np.ndarray:
        """A dense row-major numerator-layout Jacobian in this problem's order and layout."""
        if self.order == "col":
            perm_in = np.concatenate([flatten_perm(v.shape, "col") + off for v, off in
                                      zip(self.wrt, np.cumsum([0] + [v.size for v in self.wrt[:-1]]))])
            J_row = J_row[np.ix_(flatten_perm(self.root.shape, "col"), perm_in)]
        return J_row.T if self.layout == "denominator" else J_row


def prepare(expr: str, wrt=None, values=None, shapes=None, order: str = "row", layout: str = "numerator",
            seed: int = 0) -> Problem:
    """Parse, type and evaluate an expression; choose default values for variables without one.

    shapes: a dict name → shape (tuple, int or '2x3'), or --shape items ('2x2', 'A=2x3', ...), where a bare shape is
    the default for every variable without its own.  values: a dict name → array-like or value text."""
    parsed = parse(expr)
    order, layout = normalize_order(order), normalize_layout(layout)
    names = parsed.variables()
    vals = _values(values)
    default, named = _shapes(shapes)
    for label, given in (("--value", vals), ("--shape", named)):
        for name in given:
            if name not in names:
                raise UsageError(f"{label} names '{name}', which is not a variable of the expression "
                                 f"(its variables: {', '.join(names) or 'none'})")
    wrt_names = normalize_wrt(wrt, names)
    shape_of = V.resolve_shapes(names, vals, named, default)
    root = build(parsed, shape_of, order)
    nodes = topo_order(root)
    variables = {n.name: n for n in nodes if isinstance(n, Var)}
    variables = {name: variables[name] for name in names}
    missing = [n for n in names if n not in vals]
    wrt_vars = [variables[n] for n in wrt_names]
    chosen, rules = _choose_defaults(nodes, vals, missing, shape_of, seed, parsed, wrt_vars)
    return Problem(parsed, root, nodes, variables, chosen, missing, wrt_vars, order, layout, rules)


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
    style = "small" if any(n.op is not None and n.op.saturates for n in nodes) else "integers"
    for attempt in range(V.DEFAULT_ATTEMPTS):
        env = dict(given)
        env.update({name: V.default_value(name, shape_of[name], seed, attempt, style, rank, len(missing))
                    for rank, name in enumerate(missing)})
        try:
            rules = LocalRules(evaluate(nodes, env))
            if not _well_conditioned(nodes, rules.vals):
                raise DomainError("no default values found that keep the inverted matrices well conditioned")
            rules.check(nodes, wrt)
        except DomainError as e:
            last = e
            continue
        return env, rules
    last.hint = f"mcalc tried {V.DEFAULT_ATTEMPTS} sets of default values; give values with --value"
    last.source = parsed.source
    raise last


def _well_conditioned(nodes, vals) -> bool:
    for node in nodes:
        if node.op is not None and node.op.needs_invertible:
            a = vals[id(node.args[0])]
            if np.linalg.cond(a) > 1e4:
                return False
    return True


# --- the result of a jac computation --------------------------------------------------------------------------

@dataclass
class Comparison:
    method: str
    tol: float
    max_abs_error: float
    max_rel_error: float
    scale: float
    bad: list = field(default_factory=list)      # [(i, j), ...] entries beyond the tolerance, worst first
    kinks: list = field(default_factory=list)    # [(i, j, right slope, left slope), ...]

    @property
    def agree(self) -> bool:
        return not self.bad and not self.kinks


def compare(J: np.ndarray, F: np.ndarray, method: str, tol: float | None, f_scale: float,
            kinks=None, right=None, left=None, limit: int = 10) -> Comparison:
    """Errors are relative to the Jacobian's magnitude: max|J - F| / max(max|J|, max|F|, |f|/max(1,|x|)), so that
    exactly-zero entries are judged by the same yardstick as the rest."""
    tol = DEFAULT_TOL[method] if tol is None else float(tol)
    diff = np.abs(J - F)
    max_abs = float(diff.max(initial=0.0))
    scale = max(float(np.abs(J).max(initial=0.0)), float(np.abs(F).max(initial=0.0)), f_scale) or 1.0
    bad_mask = diff > tol * scale
    flat = np.argsort(-diff, axis=None)[: limit] if bad_mask.any() else []
    bad = [tuple(int(k) for k in np.unravel_index(f, J.shape)) for f in flat if bad_mask.flat[f]]
    kink_list = []
    if kinks is not None and kinks.any():
        for i, j in zip(*np.nonzero(kinks)):
            kink_list.append((int(i), int(j), float(right[i, j]), float(left[i, j])))
            if len(kink_list) >= limit:
                break
    return Comparison(method, tol, max_abs, max_abs / scale, scale, bad, kink_list)


@dataclass
class Result:
    problem: Problem
    J: np.ndarray                       # analytic, in the problem's order and layout
    F: np.ndarray | None                # finite differences, same arrangement (None with --fd none)
    comparison: Comparison | None
    mode: str


def compute(problem: Problem, fd: str = "central", tol: float | None = None) -> Result:
    """The analytic Jacobian and, unless fd is 'none', its finite-difference cross-check."""
    fd = str(fd).lower()
    if fd not in METHODS + ("none",):
        raise UsageError(f"unknown finite-difference method '{fd}'", hint="choose " + ", ".join(METHODS + ("none",)))
    if tol is not None and not (np.isfinite(tol) and tol > 0):
        raise UsageError(f"--tol must be a positive number, got {tol}")
    m, n = problem.root.size, sum(v.size for v in problem.wrt)
    check_jacobian_size(m, n, copies=1 if fd == "none" else 3)
    J = problem.analytic()
    if fd == "none":
        return Result(problem, J, None, None, problem.mode)
    fr = finite_jacobian(problem.nodes, problem.values, problem.wrt, fd)
    F = problem.arrange(fr.J)
    arrange = problem.arrange
    kinks = right = left = None
    if fr.kinks is not None:
        kinks, right, left = arrange(fr.kinks), arrange(fr.right), arrange(fr.left)
    root_val = np.abs(problem.output).max()
    x_max = max(float(np.abs(problem.values[v.name]).max()) for v in problem.wrt)
    cmp = compare(J, F, fd, tol, float(root_val) / max(1.0, x_max), kinks, right, left)
    return Result(problem, J, F, cmp, problem.mode)
