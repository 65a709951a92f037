"""The typed tree every part of mcalc shares: the user's expression, its differentials, and the closed forms of its
Jacobians are all trees of the same nodes, so that they are evaluated by one evaluator, simplified by one set of
rewrite rules and printed by one printer per notation.

A node knows its operation (an entry of the registry, ``mcalc.ops``), its arguments, its shape and its parameters,
and has a structural key: two nodes with the same key are the same expression.  Derivative rules are written with
Python's operators on nodes (``-(y @ dX @ y)``), which build nodes with :func:`call`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np



class Table(dict):
    """A table of the registry, filled by the family modules of mcalc.ops as they are first needed: `index` names the
    module that fills each key (mcalc/ops/index.py), and `load(module)` imports it.  Looking a key up, or asking
    whether it is there, reads the index, so a command loads only the families its expression uses (the others
    cost ~5 ms at each start); listing or comparing the table loads every family first.  Only the families write
    to it, while they are imported.  Before `lazy` is called (or for keys no module fills) it is a plain dict."""

    __slots__ = ("index", "load", "complete")

    def __init__(self):
        super().__init__()
        self.index, self.load, self.complete = {}, None, False

    def lazy(self, index: dict, load) -> None:
        self.index, self.load, self.complete = index, load, False

    def _fill(self, key) -> bool:
        """Load the module that fills key; whether the table now has it."""
        module = self.index.get(key)
        if module is None or self.load is None:
            return False
        self.load(module)
        return dict.__contains__(self, key)

    def _fill_all(self) -> None:
        """Every family loaded, and the entries put in the index's order (a full load's), whatever order they were
        first needed in, so that every listing (mcalc ops, the README's table) is the same."""
        if self.load is None or self.complete:
            return
        for module in dict.fromkeys(self.index.values()):
            self.load(module)
        entries = dict(dict.items(self))
        dict.clear(self)
        dict.update(self, {k: entries.pop(k) for k in self.index if k in entries})
        dict.update(self, entries)
        self.complete = True

    def __missing__(self, key):
        if self._fill(key):
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self.index

    def get(self, key, default=None):
        return dict.__getitem__(self, key) if dict.__contains__(self, key) or self._fill(key) else default

    def __iter__(self):
        self._fill_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._fill_all()
        return dict.__len__(self)

    def keys(self):
        self._fill_all()
        return dict.keys(self)

    def values(self):
        self._fill_all()
        return dict.values(self)

    def items(self):
        self._fill_all()
        return dict.items(self)

    def copy(self) -> dict:
        return dict(self.items())

    def __reversed__(self):
        self._fill_all()
        return dict.__reversed__(self)

    def __eq__(self, other) -> bool:
        self._fill_all()
        return dict.__eq__(self, other)

    __hash__ = None

    def __repr__(self) -> str:
        self._fill_all()
        return dict.__repr__(self)


REGISTRY = Table()               # operation name → Op, filled by mcalc.ops
SYMBOLS: dict = {}               # named constant → its symbol per notation (pi: π, \pi), filled by mcalc.ops
BINARY = Table()                 # a binary operator's symbol → its operation ("+": add, ">": greater), filled by mcalc.ops
_KEYS: dict = {}                 # structural keys, interned: equal expressions share one small integer
_NEXT_KEY = itertools.count()


def size_of(shape) -> int:
    return math.prod(shape)                             # exact: numpy's int64 product would wrap around


def fmt_shape(shape) -> str:
    return "scalar ()" if not shape else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _freeze(v):
    """A parameter value as something hashable (slices are not, before Python 3.12); a node by its key (the
    interned keys never hold a node alive)."""
    if isinstance(v, Node):
        return ("node", v.key)
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    if isinstance(v, (tuple, list)):
        return tuple(_freeze(x) for x in v)
    return v


def _intern(key) -> int:
    k = _KEYS.get(key)
    if k is None:                                   # (setdefault and next: one step each, so that two threads
        k = _KEYS.setdefault(key, next(_NEXT_KEY))  # never give two structures one key)
    return k


class Node:
    """An operation applied to argument nodes.  text and col: where the node stands in the user's expression
    (empty and None for nodes mcalc builds: differentials, coefficients, closed forms)."""

    __slots__ = ("op", "args", "shape", "size", "params", "text", "col", "key", "label", "memo")
    __array_ufunc__ = None               # numpy scalars defer to the operators below (2.0 * node is a node)

    def __init__(self, op, args, shape, params=None, text="", col=None):
        self.op, self.args, self.shape = op, tuple(args), tuple(int(d) for d in shape)
        self.size = size_of(self.shape)      # (read at every step of the chain rule: kept, as the shape is)
        self.params, self.text, self.col = params or {}, text, col
        self.label = None                    # the user's name for it (s = softmax(W@x)), printed in its place
        self.memo = None                     # what is derived from the node alone, once (remember)
        self.key = self._key()

    def _key(self) -> int:
        return _intern(self._structure(tuple(a.key for a in self.args)))

    def _structure(self, arg_keys: tuple) -> tuple:
        """What a key interns: the operation, its parameters and its arguments' keys."""
        return self.op.name, tuple(sorted((k, _freeze(v)) for k, v in self.params.items())), arg_keys

    def swapped_key(self) -> int | None:
        """The key of the same operation on its two arguments in the other order, or None if no such node was
        ever made (nor can be in any tree)."""
        if len(self.args) != 2:
            return None
        return _KEYS.get(self._structure((self.args[1].key, self.args[0].key)))

    def remember(self, key, compute):
        """What is derived from the node's structure alone (its derivative rules, its gradient as a tree), computed
        once and kept with the node: a repeated call on a cached expression builds nothing."""
        if self.memo is None:
            self.memo = {}
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def primal(self) -> bool:
        """Whether the node is part of the user's expression (its own text): a leaf for the algebra."""
        return bool(self.text) or self.op is None

    def __repr__(self) -> str:
        return f"<{self.text or getattr(self.op, 'name', '?')} {self.shape}>"

    # --- writing rules: the language's operators on nodes --------------------------------------------------------
    def __add__(self, other):
        return call(BINARY["+"], self, other)

    def __radd__(self, other):
        return call(BINARY["+"], other, self)

    def __sub__(self, other):
        return call(BINARY["-"], self, other)

    def __rsub__(self, other):
        return call(BINARY["-"], other, self)

    def __mul__(self, other):
        return call(BINARY["*"], self, other)

    def __rmul__(self, other):
        return call(BINARY["*"], other, self)

    def __truediv__(self, other):
        return call(BINARY["/"], self, other)

    def __rtruediv__(self, other):
        return call(BINARY["/"], other, self)

    def __matmul__(self, other):
        return call(BINARY["@"], self, other)

    def __rmatmul__(self, other):
        return call(BINARY["@"], other, self)

    def __pow__(self, other):
        return call(BINARY["**"], self, other)

    def __rpow__(self, other):
        return call(BINARY["**"], other, self)

    def __neg__(self):
        return call("neg", self)

    @property
    def T(self):
        return call("transpose", self)


class Var(Node):
    """A variable; a tangent (dX, shaped like X) is a variable too, kept apart from the user's own names."""

    __slots__ = ("name", "tangent")

    def __init__(self, name, shape, col=None, tangent=False):
        self.name, self.tangent = name, tangent
        super().__init__(None, (), shape, text=name, col=col)

    def _key(self) -> int:
        return _intern(("var", self.name, self.shape, self.tangent))


class Const(Node):
    """A constant array; text is how the user wrote it (pi, 2.5), empty for constants mcalc makes."""

    __slots__ = ("value",)

    def __init__(self, value, text="", col=None):
        self.value = np.asarray(value, dtype=float)
        super().__init__(None, (), self.value.shape, text=text, col=col)

    def _key(self) -> int:
        return _intern(("const", self.value.shape, self.value.tobytes()))

    @property
    def primal(self) -> bool:
        return True

    @property
    def named(self) -> bool:
        """A constant of the language written by its name (pi, e): printed as its symbol, never as digits."""
        return self.text in SYMBOLS


def as_matrix_shape(shape: tuple) -> tuple[int, int]:
    """Shapes seen as matrices: a scalar is 1×1, a vector a column."""
    if len(shape) == 0:
        return (1, 1)
    return (shape[0], 1) if len(shape) == 1 else tuple(shape)


def op_named(name: str):
    """The registry's entry (filled when mcalc.ops is imported, as every module that builds trees does)."""
    return REGISTRY[name]


def as_node(v) -> Node:
    if isinstance(v, Node):
        return v
    return Const(v)


def call(name: str, *args, **params) -> Node:
    """The node of an operation applied to nodes (numbers become constants), its shape inferred."""
    op = op_named(name)
    args = [as_node(a) for a in args]
    params = {**op.params, **params} if op.params else params
    return Node(op, args, op.infer([a.shape for a in args], **params), params)


def rebuild(node: Node, args) -> Node:
    """The same operation and parameters on other arguments."""
    return Node(node.op, args, node.op.infer([a.shape for a in args], **node.params), node.params)


def topo_order(root: Node, leaf=None) -> list[Node]:
    """Nodes in an order where every node comes after its arguments (each once); leaf(node): a node whose
    arguments are not visited (the user's expression, below a derivative's coefficients)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if leaf is None or not leaf(node):
            stack.extend((a, False) for a in reversed(node.args) if id(a) not in seen)
    return order


class _Functions:
    """fn.cos(x) is call("cos", x): the language's functions, for writing rules."""

    def __getattr__(self, name):
        return lambda *args, **params: call(name, *args, **params)


fn = _Functions()
