"""The algebra of closed forms: one set of rewrite rules, applied as nodes are built (make) and to whole trees
(simplify).

The rules belong to the operations they rewrite (``Op.rewrite``: the mixed product is matmul's, (Aᵀ)ᵀ = A is
transpose's), so this module knows no operation: it applies each node's rules until none applies.  Nodes of the
user's own expression are leaves: their values are what a closed form is written in (y = tanh(W x + b)).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from .tree import Const, Node, call, rebuild, topo_order

if TYPE_CHECKING:
    from fractions import Fraction

_ORDER: ContextVar[str] = ContextVar("order", default="row")


@contextmanager
def flatten_order(order: str):
    """The flatten order of the closed forms being built: rules that turn a row of a vector into vec(X)ᵀ need it
    (vec_r(X)ᵀ (A ⊗ B) = vec_r(Aᵀ X B)ᵀ, but vec_c(X)ᵀ (A ⊗ B) = vec_c(Bᵀ X A)ᵀ)."""
    token = _ORDER.set(order)
    try:
        yield
    finally:
        _ORDER.reset(token)


def current_order() -> str:
    return _ORDER.get()


_WHOLE: ContextVar[bool] = ContextVar("whole", default=False)


@contextmanager
def for_numbers():
    """Trees built to be computed, not read (plan.py): an operation inside derivatives stays whole, computed by its
    own forward function, instead of being rewritten into its meaning (adj(X), det(X) X⁻¹ for a reader, keeps
    its value where det X underflows)."""
    token = _WHOLE.set(True)
    try:
        yield
    finally:
        _WHOLE.reset(token)

def computing() -> bool:
    """Whether the trees being built are to be computed (for_numbers), where a rule may choose how a value is
    computed (solve(X, B), not inv(X) @ B)."""
    return _WHOLE.get()


MAX_REWRITES = 200          # rules per node: a guard against rules that undo each other


def normalize(node: Node) -> Node:
    """The node after its operation's rewrite rules (each builds its result with make, so it is normal too)."""
    if node.primal:
        return node
    if node.op.expand is not None and not node.op.whole and not _WHOLE.get():   # an operation inside derivatives:
        return simplify(node.op.expand(node))                  # its meaning (onehot stays whole)
    for _ in range(MAX_REWRITES):
        for rule in node.op.rewrite:
            out = rule(node)
            if out is not None and out.key != node.key and out.shape == node.shape:
                node = out
                break
        else:
            return node
        if node.primal:
            return node
    return node


def make(name: str, *args, **params) -> Node:
    """A simplified node: call(name, *args, **params) after the rewrite rules."""
    return normalize(call(name, *args, **params))


def simplify(root: Node) -> Node:
    """Every node of a tree normalized, from the leaves up (shared subtrees once)."""
    done: dict[int, Node] = {}
    for node in topo_order(root):
        if node.primal:
            done[id(node)] = node
            continue
        args = [done[id(a)] for a in node.args]
        same = all(a is b for a, b in zip(args, node.args))
        done[id(node)] = normalize(node if same else rebuild(node, args))
    return done[id(root)]


# --- what rules ask of nodes -------------------------------------------------------------------------------------

def is_op(node: Node, *names: str) -> bool:
    return node.op is not None and node.op.name in names


_EXACT: dict = {}


def rational(*args) -> Fraction:
    """fractions.Fraction(*args), imported when first needed (with decimal, ~2 ms of a start that simplifies nothing)."""
    from fractions import Fraction

    return Fraction(*args)


def number(node: Node) -> Fraction | None:
    """The exact rational a scalar constant is (None for other nodes and for π, 1e-9)."""
    if not isinstance(node, Const) or node.value.shape or node.named:
        return None
    if node.key not in _EXACT:
        v = float(node.value)
        f = rational(v).limit_denominator(10 ** 6)
        _EXACT[node.key] = f if float(f) == v else None
    return _EXACT[node.key]


def const(v) -> Const:
    return Const(float(v))


def is_number(node: Node, v=None) -> bool:
    n = number(node)
    return n is not None and (v is None or n == v)
