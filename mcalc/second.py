"""Second derivatives.  The Hessian of a scalar f is the Jacobian of its gradient, and the gradient is a tree of the
language, built by reverse accumulation over trees: the cotangent C of each node, shaped like the node, is pulled
back through each local closed form L by the trace identity,

    df = tr(Cᵀ d node) = vec(C)ᵀ L vec(d arg) = vec(G)ᵀ vec(d arg)   so the argument's cotangent is G,

where the algebra's rewrite rules turn vec(C)ᵀ L into vec(G)ᵀ (vec(C)ᵀ (A ⊗ B) = vec(Aᵀ C B)ᵀ, ...).  So one set of
rules gives the gradient shaped like its variable (a ⊗-free closed form: a bᵀ, 2 Aᵀ (A X B + C) Bᵀ), the Hessian
(that tree's Jacobian, read by the chain rule with its structure: a Kronecker or diagonal Hessian is never built
entry by entry, the logistic loss's is one Xᵀ D X product) and H v (its JVP).  This module knows no operation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .algebra import flatten_order, is_op, make, simplify
from .chain import dependencies
from .derivative import local_form
from .errors import NoClosedFormError, TooLargeError, UsageError
from .linops import human_bytes, memory_budget
from .ops import maps
from .problem import Problem
from .tree import Const, Node, Var, topo_order


def _as_row(C: Node) -> Node:
    """The cotangent C as the row vec(C)ᵀ (row-major)."""
    return make("row", make("vec", C, order="row") if C.ndim == 2 else C)


def _shaped(J: Node, shape: tuple) -> Node:
    """G with vec(G)ᵀ = J, for J a 1×n closed form: read off by the algebra where it can, else J itself
    reshaped (a correct tree, if not a textbook's)."""
    G = maps.gradient(J, shape, "row")
    if G is not None:
        return G
    if is_op(J, "ones", "eye") and (is_op(J, "ones") or J.shape == (1, 1)):   # a row of ones: a sum's adjoint
        return make("ones", **dict(zip("mn", shape))) if shape else Const(1.0)
    flat = make("transpose", J)
    return make("reshape", flat, shape=tuple(shape)) if shape else make("sum", flat)


def gradient_tree(nodes: list[Node], v: Var) -> Node:
    """∇f shaped like v, for the scalar root f of nodes (topological order), as a simplified tree of the
    language.  Raises NoClosedFormError when an operation on the way has no closed form (kron, sort)."""
    root = nodes[-1]
    with flatten_order("row"):
        deps = dependencies(nodes, [v])
        if v.name not in deps[id(root)]:
            return _zeros_like(v)
        cot: dict[int, Node] = {id(root): Const(np.ones(root.shape))}
        for node in reversed(nodes):
            if isinstance(node, Var) or id(node) not in cot:
                continue
            C = cot.pop(id(node))
            for i, a in enumerate(node.args):
                if v.name in deps[id(a)]:
                    G = _shaped(maps.compose(_as_row(C), local_form(node, i, "row")), a.shape)
                    cot[id(a)] = G if id(a) not in cot else make("add", cot[id(a)], G)
        return simplify(cot.get(id(v), _zeros_like(v)))


def _zeros_like(v: Var) -> Node:
    return maps.zeros_like(v) if v.shape else Const(0.0)


@dataclass
class HessianProblem(Problem):
    """The Jacobian problem of the gradient (the root: ∇f shaped like the one wrt variable, or the wrt variables'
    gradients flattened and stacked), at the values of f's problem, which chose the defaults in f's domain."""

    f: Problem | None = None
    gradients: list | None = None       # ∇f for each wrt variable, as trees

    @property
    def defaulted(self) -> list[str]:
        return self.f.defaulted

    def elsewhere(self, k: int) -> HessianProblem:
        g = self.f.elsewhere(k).evaluate()
        return replace(self, given=dict(g.values), seed=g.seed, rules=None, chosen=None, f=g)


def hessian_problem(f: Problem) -> HessianProblem:
    """The Hessian of a scalar problem as the Jacobian problem of its gradient.  Refused, before anything is
    evaluated, for a non-scalar f and for a gradient whose closed form would hold an array beyond memory."""
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
    root = grads[0] if len(grads) == 1 else make("vstack", *[make("reshape", g, shape=(g.size, 1)) for g in grads])
    nodes = topo_order(root)
    _refuse_large(nodes, f)
    f.evaluate()
    return HessianProblem(f.parsed, root, nodes, f.variables, dict(f.values), f.wrt, f.order, f.layout, f.seed,
                          f=f, gradients=grads)


def _refuse_large(nodes: list[Node], f: Problem) -> None:
    budget = memory_budget()
    for n in nodes:
        if n.size * 8 > budget:
            raise TooLargeError(f"the gradient of {f.expression} holds an array of {n.size:,} entries "
                                f"({human_bytes(n.size * 8)}), more than the {human_bytes(budget)} mcalc allows "
                                "itself", hint="smaller shapes, or the gradient alone (grad)")
