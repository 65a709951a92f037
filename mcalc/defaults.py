"""Default values: readable values for the variables the user gave none, drawn until the expression and its
derivative are defined there (values.default_value draws one variable's)."""

from __future__ import annotations

import numpy as np

from . import values as V
from .chain import LocalRules
from .errors import DomainError, McalcError
from .expr import Var, evaluate


def choose_defaults(nodes, given, missing, shape_of, seed, parsed, wrt) -> tuple[dict, LocalRules]:
    """The given values plus readable defaults for the missing ones, drawn until the expression evaluates in its
    domain, its derivative is finite (no sqrt at 0) and every matrix that is inverted (or whose determinant is
    taken) is well conditioned.  Returns the values and the node values (with the local rules computed to check
    the defaults)."""
    if not missing:
        try:
            return dict(given), LocalRules(evaluate(nodes, given, exact=True))
        except DomainError as e:
            e.source = parsed.source
            raise
    last: McalcError | None = None
    kinked = [n for n in nodes if n.op is not None and n.op.kink is not None]
    style = "small" if kinked or any(n.op is not None and n.op.saturates for n in nodes) else "integers"
    domains = _domains(nodes)
    for attempt in range(V.DEFAULT_ATTEMPTS):
        env = dict(given)
        env.update({name: _inside(V.default_value(name, shape_of[name], seed, attempt, style, rank, len(missing)),
                                  domains.get(name, ()))
                    for rank, name in enumerate(missing)})
        try:
            rules = LocalRules(evaluate(nodes, env, exact=True))
            check_defaults(nodes, rules.vals, [n for n in kinked if n.op.sided] if attempt < V.DRAWS else [])
            rules.check(nodes, wrt)
        except DomainError as e:
            last = e
            continue
        return env, rules
    _refuse_given(nodes, given, parsed)
    mixed = f" for {', '.join(missing)} (the values given may be the cause)" if given else ""
    last.hint = lambda w: f"mcalc tried {V.DEFAULT_ATTEMPTS} sets of default values{mixed}; give values {w.with_value}"
    last.source = parsed.source
    raise last


def _refuse_given(nodes, given: dict, parsed) -> None:
    """Where no default values would do, the part of the expression that depends only on the values given, on
    its own: if it is out of its domain (solve(A, b) with a singular A given), that is the error, and not the
    defaults mcalc drew for the others."""
    if not given:
        return
    from .chain import dependencies

    names = dependencies(nodes, [n for n in nodes if isinstance(n, Var)], structural=True)   # (tangents: not given)
    mine = [n for n in nodes if names[id(n)] <= given.keys()]
    try:
        evaluate(mine, given, exact=True)
    except DomainError as e:
        e.source = parsed.source
        raise


def _domains(nodes) -> dict:
    """For each variable, the domains of the functions applied to it directly (arccosh(x): x > 1; cholesky(X):
    symmetric positive definite)."""
    out: dict = {}
    for n in nodes:
        if n.op is not None and n.op.interval is not None and isinstance(n.args[0], Var):
            out.setdefault(n.args[0].name, []).append(n.op.interval)
    return out


def _inside(v: np.ndarray, domains) -> np.ndarray:
    """Readable values moved inside the domains of the functions applied to them (each domain knows how)."""
    for d in domains:
        v = d.move_inside(v)
    return v


def check_defaults(nodes, vals, both_sides=()) -> None:
    """Default values must also keep inverted matrices well conditioned and stay off kinks (abs, relu at 0); and
    the arguments of the element-wise kinked operations in both_sides should have entries on both sides of the
    kink, so that both of its branches are exercised (relu(x) with x all positive hides a wrong derivative)."""
    for node in both_sides:
        d = _distance(node, vals)
        if np.size(d) > 1 and not (np.any(d > 0) and np.any(d < 0)):
            raise DomainError(f"default values put every entry of {node.text} on one side of its kink")
    for node in nodes:
        if node.op is None:
            continue
        a = vals[id(node.args[0])] if node.args else None
        if node.op.needs_invertible and np.linalg.cond(a) > 1e4:
            raise DomainError(f"no default values found that keep the matrix in {node.text} well conditioned")
        if node.op.kink is not None and _on_kink(node, vals):
            raise DomainError(f"no default values found that keep {node.text} away from its kink")


def _on_kink(node, vals) -> bool:
    """An entry at its kink, or within rounding of it (x @ [1, 2, 3] at [-0.4, 0.5, -0.2] is 1e-16, not 0)."""
    d = np.abs(np.real(_distance(node, vals)))
    size = max([1.0] + [float(np.max(np.abs(np.real(vals[id(a)])), initial=0.0)) for a in node.args
                        if np.size(vals[id(a)])])
    return bool(np.any(d <= 1e-9 * size))


def _distance(node, vals) -> np.ndarray:
    """How far each entry of a kinked operation is from its kink (signed)."""
    with np.errstate(all="ignore"):
        return np.asarray(node.op.kink(node, *(vals[id(a)] for a in node.args)))
