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
from .errors import InternalError, NoClosedFormError
from .expr import FIXED_ENTRIES, Values, fixed
from .linops import Dense, Identity, LinOp, Zero, frozen, stored
from .ops import maps
from .tree import Const, Node, Var, as_matrix_shape, topo_order


def tangent(name: str, shape: tuple, taken=()) -> Var:
    """The differential dX of a variable, a variable shaped like X, named dX unless the expression has a variable
    of that name (taken: its variables' names), then d_X (d__X, ...): dX ⊙ X differentiated in X is d_X ⊙ X + dX ⊙
    d_X, never dX ⊙ dX."""
    name = "d" + name
    while name in taken:
        name = "d_" + name[1:]
    return Var(name, shape, tangent=True)


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


class Rule:
    """A node's differential through one argument, as trees: D, linear in the tangent t; the nodes of D in
    topological order; those that depend on t (live); and the matrices of the linear operations applied to t, per
    flatten order.  Trees depend on no value, so each is built once per node (kept in node.memo: a repeated call
    on a cached expression builds no tree)."""

    __slots__ = ("D", "t", "order", "live", "_linear", "adjoints")

    def __init__(self, node: Node, i: int):
        self.D, self.t = local_tangent(node, i)
        self.order = [] if self.D is None else topo_order(self.D, leaf=lambda n: n.primal)
        self.live = {id(self.t)}                                   # (the user's expression holds no tangent)
        for m in self.order:
            if m.args and any(id(a) in self.live for a in m.args):
                self.live.add(id(m))
        self._linear: dict = {}
        self.adjoints = any(m.op is not None and m.op.adjoint is not None for m in self.order if id(m) in self.live)

    def linear(self, m: Node, j: int, order: str) -> Node:
        """The matrix of m's linear map in its argument j, as a tree."""
        key = (id(m), j, order)
        L = self._linear.get(key)
        if L is None:
            if m.op.linear is None:
                raise InternalError(f"the differential applies {m.op.name}, which is not linear, to a differential")
            L = self._linear[key] = m.op.linear(m, j, order)
        return L


def rule(node: Node, i: int) -> Rule:
    return node.remember(("rule", i), lambda: Rule(node, i))


def linearize(r: Rule, reader):
    """The matrix of the linear map t ↦ D(t): forward from t through D, composing the matrices of the linear
    operations applied to it, in the reader's algebra.  None when D does not depend on t."""
    if r.D is None:
        return None
    J: dict[int, object] = {id(r.t): reader.identity(r.t.size)}
    for m in r.order:
        if m is r.t or id(m) not in r.live:
            continue
        acc = None
        for j, a in enumerate(m.args):
            if id(a) in J:
                term = reader.compose(reader.matrix(r.linear(m, j, reader.order)), J[id(a)])
                acc = term if acc is None else reader.add(acc, term)
        J[id(m)] = acc
    return J.get(id(r.D))


# --- the numeric reading -----------------------------------------------------------------------------------------

class Structured:
    """Matrices of trees as structured maps, with the values of the expression (row-major: mcalc's canonical
    order; LinOp.reordered changes it at the end)."""

    order = "row"

    def __init__(self, values: Values):
        self.value, self.maps = values, {}

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
        user's own subexpressions are values, already computed: never rebuilt from their parts).  Read once per
        tree: X⁻¹ used twice (in X⁻¹ dX X⁻ᵀ) is one map, inverted once."""
        L = self.maps.get(tree.key)
        if L is None:
            if tree.op is not None and fixed(tree):              # the same map at every call: kept with the tree
                L = tree.memo.get("map")
                if L is None:
                    L = self._map(tree)
                    if stored(L) <= FIXED_ENTRIES:
                        tree.memo["map"] = frozen(L)
            else:
                L = self._map(tree)
            self.maps[tree.key] = L
        return L

    def _map(self, tree: Node) -> LinOp:
        if not tree.primal and tree.op.as_linop is not None and not (
                tree.op.family == "arithmetic" and self.value.known(tree)):    # (A + Aᵀ, computed: not again)
            L = tree.op.as_linop(tree, self)
            if L is not None:
                return L
        v = np.asarray(self.value(tree), dtype=float)
        if not (v.size and v.flat[0]) and not np.any(v):         # (a first entry that is not 0 says enough)
            return Zero(*as_matrix_shape(tree.shape))
        return Dense(v.reshape(as_matrix_shape(tree.shape)))


def local_map(node: Node, i: int, vals: dict) -> LinOp:
    """d node / d args[i] at the given values, as a structured map (row-major, numerator layout)."""
    L = linearize(rule(node, i), Structured(Values(vals)))
    return Zero(node.size, node.args[i].size) if L is None else L


def pullback(node: Node, i: int, vals: dict, G: np.ndarray) -> np.ndarray:
    """G (d node / d args[i]) for a dense G of k rows, the differential read backwards: each linear operation's
    map is applied once, to the cotangent that reaches it (a subexpression the differential uses twice gathers
    both cotangents first), and the local Jacobian is never formed.  Reverse accumulation's step when k is small
    (a gradient: k = 1)."""
    r = rule(node, i)
    reader = Structured(Values(vals))

    def transpose(m, j, g):
        if m.op.adjoint is not None and g.shape[0] == 1:        # (its own adjoint: expm's map is never formed)
            out = _adjoint_value(m, j, vals, g)
            if out is not None:
                return out
        return reader.map(r.linear(m, j, "row")).rapply(g)

    out = _backwards(r, G, transpose, lambda a, b: a + b)
    return np.zeros((G.shape[0], node.args[i].size)) if out is None else out


def _adjoint_value(m: Node, j: int, vals: dict, g: np.ndarray) -> np.ndarray | None:
    """g pulled back through m's argument j by the adjoint its registry entry gives, evaluated with g as the
    cotangent (one row); None where it gives none."""
    cot = Var("cotangent", m.shape, tangent=True)
    tree = m.remember(("adjoint", j), lambda: _own_adjoint(m, j, cot))
    if tree is None:
        return None
    out = Values(vals, {cot.name: g.reshape(m.shape)})(tree)
    return np.asarray(out, dtype=float).reshape(1, -1)


def _backwards(r: Rule, C, transpose, add):
    """The cotangent of the tangent t, C given for the differential D: each linear operation of D transposed once
    (transpose(m, j, c): the cotangent of m's argument j), cotangents reaching one subexpression twice added first.
    None where D does not depend on t.  Read with numbers (pullback) or as trees (pullback_tree)."""
    if r.D is None:
        return None
    cot = {id(r.D): C}
    for m in reversed(r.order):
        if m is r.t or id(m) not in cot:
            continue
        c = cot.pop(id(m))
        for j, a in enumerate(m.args):
            if id(a) in r.live:
                g = transpose(m, j, c)
                cot[id(a)] = g if id(a) not in cot else add(cot[id(a)], g)
    return cot.get(id(r.t))


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


def adjoint(node: Node, i: int, C: Node) -> Node:
    """The cotangent of args[i] as a tree, given the node's cotangent C: by the trace identity, df = tr(Cᵀ d node)
    = vec(C)ᵀ L vec(d arg) = vec(G)ᵀ vec(d arg), where the algebra's rules turn vec(C)ᵀ L into vec(G)ᵀ
    (vec(C)ᵀ (A ⊗ B) = vec(Aᵀ C B)ᵀ); or the operation's own adjoint where it has one.  Raises NoClosedFormError
    where neither exists."""
    G = _own_adjoint(node, i, C)
    if G is not None:
        return G
    try:
        L = local_form(node, i, "row")
    except NoClosedFormError:
        return pullback_tree(node, i, C)
    J = maps.compose(maps.row_of(C), L)
    G = maps.read_cotangent(J, node.args[i].shape)
    if G is None:                                    # (not read off as a whole: one operation at a time, U diag(c) Vᵀ)
        try:
            return pullback_tree(node, i, C)
        except NoClosedFormError:
            return maps.cotangent(J, node.args[i].shape)
    return G


def pullback_tree(node: Node, i: int, C: Node) -> Node:
    """The cotangent of args[i] as a tree, the differential read backwards one linear operation at a time (as
    pullback does with numbers): for differentials whose matrix has no closed form as a whole (sort's selection by
    argsort, expm's Fréchet derivative), whose operations each have an adjoint."""
    from .algebra import make

    r = rule(node, i)
    G = _backwards(r, C, lambda m, j, c: _linear_adjoint(r, m, j, c), lambda a, b: make("add", a, b))
    return zero_like(r.t) if G is None else G


def zero_like(node: Node) -> Node:
    """The zero of a cotangent shaped like node: 0 for a scalar."""
    return maps.zeros_like(node) if node.shape else Const(0.0)


def _own_adjoint(node: Node, i: int, C: Node) -> Node | None:
    """The adjoint the operation's registry entry gives, where it gives one."""
    return node.op.adjoint(node, i, C) if node.op.adjoint is not None else None


def _linear_adjoint(r: Rule, m: Node, j: int, C: Node) -> Node:
    G = _own_adjoint(m, j, C)
    if G is not None:
        return G
    with flatten_order("row"):
        L = simplify(r.linear(m, j, "row"))
    return maps.cotangent(maps.compose(maps.row_of(C), L), m.args[j].shape)


def local_form(node: Node, i: int, order: str) -> Node:
    """d node / d args[i] as a closed form in the given order (raises NoClosedFormError where there is none)."""
    with flatten_order(order):
        F = linearize(rule(node, i), Symbolic(order))
    return maps.zeros(node.size, node.args[i].size) if F is None else F


