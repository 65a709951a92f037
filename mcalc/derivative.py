"""One rule, read three ways.  Each operation gives its derivative once, as its differential in the language
(``Op.jvp``: d inv(X) = -Y dX Y); the differential is linear in the arguments' differentials, and built from
operations that know the matrix of their linear maps (``Op.linear``).  Following a differential forward from one
tangent composes those matrices:

    numerically    as structured maps (Kron, Diag, Gather): the local Jacobians the chain rule composes;
    symbolically   as simplified trees (I ⊗ Bᵀ, diag(1 - y²)): the local closed forms explain composes;
    and the differential itself, evaluated with values for the tangents, is the JVP.

This module knows no operation.
"""

from __future__ import annotations

import numpy as np

from .algebra import flatten_order, simplify
from .errors import InternalError
from .expr import Values
from .linops import Dense, Identity, LinOp, Zero
from .ops import maps
from .tree import Node, Var, as_matrix_shape, topo_order


def tangent(name: str, shape: tuple) -> Var:
    """The differential dX of a variable, a variable shaped like X."""
    return Var(f"d{name}", shape, tangent=True)


def differential(node: Node, tangents: list) -> Node | None:
    """The node's differential given its arguments' differentials (None where an argument has none)."""
    tangents = [t if node.op.passes_through(i) else None for i, t in enumerate(tangents)]
    if all(t is None for t in tangents):
        return None
    return node.op.jvp(node, tangents)


def local_tangent(node: Node, i: int) -> tuple[Node | None, Var]:
    """The node's differential through argument i alone, and the tangent it is linear in."""
    t = tangent(f"arg{i}", node.args[i].shape)
    tangents = [None] * len(node.args)
    tangents[i] = t
    return differential(node, tangents), t


def linearize(D: Node | None, t: Var, reader):
    """The matrix of the linear map t ↦ D(t): forward from t through D, composing the matrices of the linear
    operations applied to it, in the reader's algebra.  None when D does not depend on t."""
    if D is None:
        return None
    J: dict[int, object] = {id(t): reader.identity(t.size)}
    for m in topo_order(D, leaf=lambda n: n.primal):            # (the user's expression holds no tangent)
        if id(m) in J or not any(id(a) in J for a in m.args):
            continue
        if m.op.linear is None:
            raise InternalError(f"the differential applies {m.op.name}, which is not linear, to a differential")
        acc = None
        for j, a in enumerate(m.args):
            if id(a) in J:
                term = reader.compose(reader.matrix(m.op.linear(m, j, reader.order)), J[id(a)])
                acc = term if acc is None else reader.add(acc, term)
        J[id(m)] = acc
    return J.get(id(D))


# --- the numeric reading -----------------------------------------------------------------------------------------

class Structured:
    """Matrices of trees as structured maps, with the values of the expression (row-major: mcalc's canonical
    order; LinOp.reordered changes it at the end)."""

    order = "row"

    def __init__(self, values: Values):
        self.value = values

    def identity(self, n: int) -> LinOp:
        return Identity(n)

    def compose(self, L: LinOp, R: LinOp) -> LinOp:
        return L @ R

    def add(self, L: LinOp, R: LinOp) -> LinOp:
        return L + R

    def matrix(self, tree: Node) -> LinOp:
        return self.map(tree)

    def map(self, tree: Node) -> LinOp:
        """The structured map a matrix-valued tree stands for (its operation's reading), else its dense value (the
        user's own subexpressions are values, already computed: never rebuilt from their parts)."""
        if not tree.primal and tree.op.as_linop is not None:
            L = tree.op.as_linop(tree, self)
            if L is not None:
                return L
        v = np.asarray(self.value(tree), dtype=float)
        if not np.any(v):
            return Zero(*as_matrix_shape(tree.shape))
        return Dense(v.reshape(as_matrix_shape(tree.shape)))


def local_map(node: Node, i: int, vals: dict) -> LinOp:
    """d node / d args[i] at the given values, as a structured map (row-major, numerator layout)."""
    D, t = local_tangent(node, i)
    L = linearize(D, t, Structured(Values(vals)))
    return Zero(node.size, node.args[i].size) if L is None else L


def pullback(node: Node, i: int, vals: dict, G: np.ndarray) -> np.ndarray:
    """G (d node / d args[i]) for a dense G of k rows, the differential read backwards: each linear operation's
    map is applied once, to the cotangent that reaches it (a subexpression the differential uses twice gathers
    both cotangents first), and the local Jacobian is never formed.  Reverse accumulation's step when k is small
    (a gradient: k = 1)."""
    D, t = local_tangent(node, i)
    if D is None:
        return np.zeros((G.shape[0], node.args[i].size))
    reader = Structured(Values(vals))
    order = topo_order(D, leaf=lambda n: n.primal)
    live = {id(t)}
    for m in order:
        if m.args and any(id(a) in live for a in m.args):
            live.add(id(m))
    cot = {id(D): G}
    for m in reversed(order):
        if m is t or id(m) not in cot:
            continue
        g = cot.pop(id(m))
        for j, a in enumerate(m.args):
            if id(a) in live:
                if m.op.linear is None:
                    raise InternalError(f"the differential applies {m.op.name}, which is not linear, to a differential")
                c = reader.map(m.op.linear(m, j, "row")).rapply(g)
                cot[id(a)] = cot[id(a)] + c if id(a) in cot else c
    return cot.get(id(t), np.zeros((G.shape[0], node.args[i].size)))


def jvp(D: Node, vals: dict, tangents: dict) -> np.ndarray:
    """A differential evaluated with values for its tangents (dX by name): J u without J."""
    return Values(vals, tangents)(D)


# --- the symbolic reading ------------------------------------------------------------------------------------------

class Symbolic:
    """Matrices as simplified trees in the requested flatten order: the closed forms."""

    def __init__(self, order: str):
        self.order = order

    def identity(self, n: int) -> Node:
        return maps.eye(n)

    def compose(self, L: Node, R: Node) -> Node:
        return maps.compose(L, R)

    def add(self, L: Node, R: Node) -> Node:
        return maps.plus(L, R)

    def matrix(self, tree: Node) -> Node:
        return simplify(tree)


def local_form(node: Node, i: int, order: str) -> Node:
    """d node / d args[i] as a closed form in the given order (raises NoClosedFormError where there is none)."""
    D, t = local_tangent(node, i)
    with flatten_order(order):
        F = linearize(D, t, Symbolic(order))
    return maps.zeros(node.size, node.args[i].size) if F is None else F


