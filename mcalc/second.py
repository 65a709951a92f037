"""Second derivatives.  The Hessian of a scalar f is the Jacobian of its gradient, and the gradient is a tree of the
language (explain.gradient_tree: reverse accumulation over trees, by the trace identity).  So one set of rules
gives the gradient shaped like its variable, the Hessian (that tree's Jacobian, read by the chain rule with its
structure: a Kronecker or diagonal Hessian is never built entry by entry, the logistic loss's is one Xᵀ D X
product) and H v (its JVP).  This module knows no operation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .algebra import make
from .chain import dependencies
from .derivative import rule
from .errors import NoClosedFormError, TooLargeError, UsageError
from .explain import _fits, gradient_tree, unwritable
from .linops import human_bytes, memory_budget
from .problem import Problem
from .tree import Node, Var, topo_order


@dataclass
class HessianProblem(Problem):
    """The Jacobian problem of the gradient (the root: ∇f shaped like the one wrt variable, or the wrt variables'
    gradients flattened and stacked), at the values of f's problem, which chose the defaults in f's domain."""

    f: Problem | None = None
    gradients: list | None = None       # ∇f for each wrt variable, as trees

    what = "Hessian"

    @property
    def defaulted(self) -> list[str]:
        return self.f.defaulted

    def value_origin(self, name: str) -> str:
        return self.f.value_origin(name)

    @property
    def out_shape(self) -> tuple:
        return self.f.out_shape

    def out_parts(self) -> list[tuple[str, tuple]]:
        return [(v.name, v.shape) for v in self.wrt]

    def elsewhere(self, k: int) -> HessianProblem:
        g = self.f.elsewhere(k).evaluate()
        return replace(self, given=dict(g.values), seed=g.seed, rules=None, chosen=None, f=g)


def hessian_problem(f: Problem, eigenvalues: bool = False) -> HessianProblem:
    """The Hessian of a scalar problem as the Jacobian problem of its gradient.  Refused, before anything is
    evaluated, for a non-scalar f and for a gradient whose closed form would hold an array beyond memory, and
    (eigenvalues: for `mcalc hess`, which says what they are) for eigenvalues beyond the work budget."""
    if f.root.size != 1:
        raise UsageError(lambda w: f"a Hessian needs a scalar expression; {f.expression} has shape "
                                   f"{tuple(f.root.shape)}", hint=lambda w: f"use {w.jacobian} for a Jacobian")
    grads = []
    for v in f.wrt:
        try:
            grads.append(gradient_tree(f.nodes, v))
        except NoClosedFormError as e:
            raise UsageError(f"mcalc has no Hessian of {f.expression}: {e.message}",
                             hint="its Jacobian (jac) and gradient (grad) are exact; their closed forms are not") \
                from None
    from .budget import check_work

    n = sum(v.size for v in f.wrt)
    if eigenvalues:                                  # (H v alone needs none)
        check_work(10.0 * n ** 3, f"the eigenvalues of a {n}×{n} Hessian",
                   hint="write H alone with -f npy or -f csv (no eigenvalues), or compute H v with --hvp, which "
                        "never forms H")
    root = grads[0] if len(grads) == 1 else _stacked(tuple(grads), f.order)
    nodes = list(root.remember("nodes", lambda: topo_order(root)))
    _refuse_large(nodes, f)
    f.evaluate()
    return HessianProblem(f.parsed, root, nodes, f.variables, dict(f.values), f.wrt, f.order, f.layout, f.seed,
                          f=f, gradients=grads)


def _stacked(grads: tuple, order: str) -> Node:
    """The gradients of several variables, each flattened in the flatten order, stacked: one tree per set."""
    def build():
        flat = [make("vec", g, order=order) if g.ndim == 2 else g for g in grads]
        return make("vstack", *[make("reshape", g, shape=(g.size, 1)) for g in flat])
    return grads[0].remember(("stacked", tuple(g.key for g in grads), order), build)


def _refuse_large(nodes: list[Node], f: Problem) -> None:
    budget = memory_budget()
    for n in nodes:
        if n.size * 8 > budget:
            raise TooLargeError(f"the gradient of {f.expression} holds an array of {n.size:,} entries "
                                f"({human_bytes(n.size * 8)}), more than the {human_bytes(budget)} mcalc allows "
                                "itself", hint="smaller shapes, or the gradient alone (grad)")


# --- what a Hessian says about the function ------------------------------------------------------------------------

@dataclass
class Curvature:
    """The eigenvalues of a (symmetrized) Hessian, the largest asymmetry, and what they say: definite, semidefinite
    or indefinite at this point, everywhere when the Hessian is the same at every point (a quadratic)."""

    eigenvalues: np.ndarray
    asymmetry: float
    definiteness: str
    constant: bool

    @property
    def statement(self) -> str:
        if self.definiteness == "zero":
            return ("zero everywhere: f is affine (both convex and concave)" if self.constant else
                    "zero at this point")
        if not self.constant:
            return f"{self.definiteness} at this point"
        shape = {"positive definite": "strictly convex", "positive semidefinite": "convex",
                 "negative definite": "strictly concave", "negative semidefinite": "concave"}.get(self.definiteness)
        return (f"{self.definiteness} everywhere (the Hessian does not depend on the variables): "
                + (f"{shape} everywhere" if shape else "neither convex nor concave"))


def curvature(H: np.ndarray, hp: HessianProblem) -> Curvature:
    S = (H + H.T) / 2
    w = np.linalg.eigvalsh(S) if S.size else np.zeros(0)
    scale = max(float(np.abs(w).max(initial=0.0)), np.finfo(float).tiny)
    g = np.abs(np.asarray(hp.output, dtype=float)).max(initial=0.0)       # (the gradient H is the derivative of)
    tol = max(1e-10 * scale, 1e-13 * g) * max(1, S.shape[0])      # rounding: ±4e-16 beside a gradient of 1 is 0
    pos, neg = bool(np.any(w > tol)), bool(np.any(w < -tol))
    zero = bool(np.any(np.abs(w) <= tol))
    if pos and neg:
        kind = "indefinite"
    elif pos:
        kind = "positive semidefinite" if zero else "positive definite"
    elif neg:
        kind = "negative semidefinite" if zero else "negative definite"
    else:
        kind = "zero"
    return Curvature(w, float(np.abs(H - H.T).max(initial=0.0)), kind, is_affine(hp.nodes, hp.wrt))


def is_affine(nodes: list[Node], wrt: list[Var]) -> bool:
    """Whether the root is affine in the wrt variables (its Jacobian the same everywhere): no local derivative on
    a path from them reads a value that depends on them (d(a + b) = da + db reads none, d(a ⊙ b) reads b)."""
    deps = dependencies(nodes, wrt, structural=True)
    varying = {id(n) for n in nodes if deps[id(n)]}
    for n in nodes:
        if n.op is None or id(n) not in varying:
            continue
        if n.op.kink is not None or n.op.flat:      # (floor, mod, sign, a mask: constant between jumps only)
            return False
        for i, a in enumerate(n.args):
            if id(a) in varying:
                r = rule(n, i)
                if any(id(m) in varying for m in r.order if id(m) not in r.live):
                    return False
    return True


def hessian_info(hp: HessianProblem, H: np.ndarray) -> dict:
    """What hess shows beside H: its curvature, the gradient it differentiates (checked against the gradient
    computed numerically by reverse accumulation: a Hessian built on a wrong gradient is never shown) and its
    closed form where explain finds one that evaluates to H."""
    from .closedform_check import verify_closed_form
    from .tolerance import DEFAULT_TOL, wrong_entries
    from .errors import InternalError
    from .explain import explain
    from .printing import Mcalc, Unicode

    flat = hp.f.analytic(canonical=True).ravel()                      # every variable's, side by side
    pieces = np.split(flat, np.cumsum([v.size for v in hp.wrt])[:-1])
    for v, G, piece in zip(hp.wrt, hp.gradients, pieces):
        numeric = piece.reshape(v.shape)
        value = hp.node_values[id(G)] if id(G) in hp.node_values else None
        if value is not None and wrong_entries(numeric, np.broadcast_to(value, v.shape), DEFAULT_TOL).any():
            raise InternalError(f"the gradient of {hp.expression} as a tree disagrees with its numbers",
                                hint="this is a bug in mcalc; please report it")
    one = len(hp.gradients) == 1
    info = {"curvature": curvature(H, hp), "gradient": _fits(Unicode(), hp.gradients[0]) if one else None,
            "gradient_mc": _fits(Mcalc(), hp.gradients[0]) if one and not unwritable(hp.gradients[0]) else None,
            "formula": None, "formula_mc": None,
            "names": []}
    try:
        ex = explain(hp.nodes, hp.wrt, hp.order, "numerator")
        verified = verify_closed_form(hp, ex)
        if verified is not None and verified[0]:
            info.update(formula=ex.pretty, formula_mc=ex.mc, names=ex.legend())
    except TooLargeError:                            # (a closed form too long to print: shown without one)
        pass
    return info
