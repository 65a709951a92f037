"""The user's expression as a typed tree (built from the syntax tree, shapes checked with a caret at the column),
and the evaluation of trees (also batched, for finite differences)."""

from __future__ import annotations

import numpy as np

from .errors import DomainError, ParseError, ShapeError, TooLargeError, UsageError
from .linops import all_entries_finite, human_bytes, memory_budget
from .ops import BINARY, CONSTANTS, FUNCTIONS, OPS
from .ops.core import ParamError, Refused
from .ops.linalg import MAX_MATRIX_POWER
from .parse import Parsed, Syn
from .tree import Const, Node, Var, fmt_shape, size_of, topo_order

__all__ = ["Node", "Var", "Const", "build", "evaluate", "topo_order", "Values", "MAX_MATRIX_POWER"]



def build(parsed: Parsed, shapes: dict[str, tuple], order: str = "row", unshaped=()) -> Node:
    """The typed tree of a parsed expression, given every variable's shape; shape errors point at their column.
    unshaped: the variables that are scalars only because nobody gave them a shape (named in shape errors).
    Named intermediates (s = softmax(W@x)) are built first and stand for themselves where named, labelled with
    their names."""
    builder = _Builder(parsed, shapes, order, unshaped)
    for name, syn in parsed.bindings:
        node = builder.build(syn)
        if node.label is None and node.op is not None:
            node.label = name
        builder.bound[name] = node
    return builder.build(parsed.tree)


class _Builder:
    def __init__(self, parsed: Parsed, shapes, order, unshaped=()):
        self.parsed, self.shapes, self.order, self.unshaped = parsed, shapes, order, set(unshaped)
        self.vars: dict[str, Var] = {}
        self.bound: dict[str, Node] = {}
        self.made: dict[int, Node] = {}

    def fail(self, cls, message, syn, hint=None):
        return cls(message, hint=hint, col=syn.point, source=self.parsed.source)

    def make(self, opname: str, args, syn: Syn, **params) -> Node:
        op = OPS[opname]
        params = {**(op.params or {}), **params}
        try:
            shape = op.infer([a.shape for a in args], **params)
        except ShapeError as e:
            text = self.parsed.text(syn)
            where = f" in {text}" if len(text) <= 60 else ""
            hint = e.hint_text
            scalars = [a.name for a in args if isinstance(a, Var) and a.name in self.unshaped]
            if scalars:
                x = scalars[0]
                hint = (lambda w: f"{x} has no shape, so it is a scalar; give it one, e.g. {w.eg('shape', x + '=2x2')} "
                        f"(a matrix) or {x}=3 (a vector), or one for every variable: {w.eg('shape', '2x2')}")
            raise self.fail(ShapeError, e.message + where, syn, hint) from None
        self.guard(shape, syn)
        node = Node(op, args, shape, params, self.parsed.text(syn), syn.col)
        return self.made.setdefault(node.key, node)      # (M@w written twice is one node: evaluated, and
        #                                                      differentiated, once)

    def guard(self, shape, syn):
        need = size_of(shape) * 8
        if need > memory_budget():
            raise self.fail(TooLargeError, f"{self.parsed.text(syn)} would have shape {fmt_shape(shape)} "
                            f"({human_bytes(need)}), more than the {human_bytes(memory_budget())} mcalc allows itself",
                            syn)

    def build(self, s: Syn) -> Node:
        return getattr(self, "_" + s.kind)(s)

    def _num(self, s):
        return Const(s.value, self.parsed.text(s), s.col)

    def _name(self, s):
        name = s.value
        if name in self.bound:
            return self.bound[name]
        if name in CONSTANTS:
            return Const(CONSTANTS[name], name, s.col)
        if name in FUNCTIONS:
            raise self.fail(ParseError, f"'{name}' is a function", s, hint=f"call it: {name}(...)")
        if name not in self.vars:
            self.guard(self.shapes[name], s)
            self.vars[name] = Var(name, self.shapes[name], s.col)
        return self.vars[name]

    def _neg(self, s):
        return self.make("neg", [self.build(s.args[0])], s)

    def _T(self, s):
        return self.make("transpose", [self.build(s.args[0])], s)

    def _index(self, s):
        target = s.args[0]
        if target.kind == "call" and (FUNCTIONS[target.value].parts or FUNCTIONS[target.value].pieces):
            return self._call(target, item=s)                               # eigh(X)[1], split(x, 3)[0]
        x = self.build(target)
        return self.make("index", [x], s, key=self._key(s, x.shape))

    def _key(self, s: Syn, shape: tuple) -> tuple:
        """numpy's boolean masks as the positions they select (x[[True, False, True]] is x[[0, 2]])."""
        key, axis, out = s.value, 0, []
        for k in key:
            if isinstance(k, tuple) and k and isinstance(k[0], bool):
                if axis >= len(shape) or len(k) != shape[axis]:
                    raise self.fail(ShapeError, f"a mask of {len(k)} entries indexes an axis of "
                                    f"{shape[axis] if axis < len(shape) else 0}", s)
                k = tuple(i for i, b in enumerate(k) if b)
                if not k:
                    raise self.fail(ShapeError, "the mask selects nothing", s)
            out.append(k)
            axis += k is not None
        return tuple(out)

    def _list(self, s):
        return self.make("stack", [self.build(a) for a in s.args], s)

    def _binop(self, s):
        spine = []                                     # a + b + c ...: iteratively, as the parser walked it
        while s.kind == "binop":
            spine.append(s)
            s = s.args[0]
        node = self.build(s)
        for b in reversed(spine):
            if b.value == "^":
                node = self._matrix_power(node, b)
                continue
            node = self.make(BINARY[b.value], [node, self.build(b.args[1])], b)
        return node

    def _matrix_power(self, base: Node, s: Syn) -> Node:
        if base.shape == ():
            exponent = self.build(s.args[1])
            if exponent.shape != ():
                raise self.fail(ShapeError, f"'^' is the matrix power; its exponent must be a scalar, got shape "
                                f"{fmt_shape(exponent.shape)}", s, hint="use ** for the element-wise power")
            return self.make("power", [base, exponent], s)
        if len(base.shape) != 2 or base.shape[0] != base.shape[1]:
            raise self.fail(ShapeError, f"'^' is the matrix power and needs a square matrix, got shape "
                            f"{fmt_shape(base.shape)}", s, hint="use ** for the element-wise power")
        k = self.literal(s.args[1])
        if k is None or not np.isfinite(k) or k != int(k):
            raise self.fail(ParseError, "the exponent of '^' must be an integer literal", s.args[1],
                            hint="use ** for element-wise powers")
        if abs(k) > MAX_MATRIX_POWER:
            raise self.fail(ParseError, f"matrix power {int(k)} is larger than {MAX_MATRIX_POWER}", s.args[1])
        return self.make("matpow", [base], s, k=int(k))

    @staticmethod
    def literal(s: Syn):
        """The number a literal (possibly negated) stands for, else None."""
        if s.kind == "num":
            return s.value
        if s.kind == "neg" and s.args[0].kind == "num":
            return -s.args[0].value
        return None

    def parameter(self, s: Syn, what: str):
        """A parameter as written: a number, a string, True/False, None, inf, or a tuple of them."""
        if s.kind == "lit":
            return s.value
        if s.kind == "tuple":
            return tuple(self.parameter(a, what) for a in s.args)
        if s.kind == "neg" and s.args[0].kind == "lit" and isinstance(s.args[0].value, float):
            return -s.args[0].value                                                      # -inf
        v = self.literal(s)
        if v is None:
            raise self.fail(ParseError, f"{what} must be written as a literal (a number, a string, True, None or a "
                            "tuple of them)", s)
        return v

    def _lit(self, s):
        raise self.fail(ParseError, f"{self.parsed.text(s)} is a parameter, not a value", s,
                        hint="strings, True/False and None go in a function's parameters: norm(A, 'fro')")

    def _tuple(self, s):
        raise self.fail(ParseError, "a tuple is not a value", s, hint="use [a, b] to build a vector")

    def _call(self, s, item: Syn | None = None):
        """A function call: its operands are expressions, its other arguments literal parameters, each read by its
        kind (an integer, an axis, True/False, a choice of strings).  item: the indexing that takes one item of a
        function that returns a tuple (eigh(X)[1])."""
        name, fn = s.value, FUNCTIONS[s.value]
        opname, piece = None, {}
        if fn.pieces:                                                # split(x, 3)[k]: piece k
            key = None if item is None else item.value
            if key is None or len(key) != 1 or not isinstance(key[0], int):
                raise self.fail(ParseError, f"{name}() returns a list of arrays, as in numpy: take one of them",
                                item or s, hint=f"{name}(...)[0] is the first")
            opname, piece, s_text = fn.pieces, {"item": key[0]}, item
        elif fn.parts:
            opname = self._item(name, fn, s, item)
            s_text = item
        else:
            s_text = s
        is_operand = (lambda i: i < s.operands) if s.operands is not None else fn.operand_at
        positional = [a for i, a in enumerate(s.args) if not is_operand(i)]
        if fn.rest and len(positional) > len(fn.literals):        # A.reshape(2, 3): the shape (2, 3)
            k = len(fn.literals) - 1
            positional[k:] = [Syn("tuple", positional[k].col, positional[-1].end, None, tuple(positional[k:]))]
        literal_syns = dict(zip(fn.literals, positional))
        for key in s.kwargs:
            if key in literal_syns:
                raise self.fail(ParseError, f"{name}() got {key} twice", s.kwargs[key])
        literal_syns.update({k: v for k, v in s.kwargs.items() if k not in fn.operand_kw})
        operands = [self.build(a) for i, a in enumerate(s.args) if is_operand(i)]
        operands += [self.build(s.kwargs[k]) for k in fn.operand_kw if k in s.kwargs]        # weights=w
        shapes = [a.shape for a in operands]
        params = {}
        for key, syn in literal_syns.items():
            kind = fn.kind(key)
            try:
                params[key] = kind(self.parameter(syn, f"{key} in {name}()"), shapes)
            except ParamError as e:
                raise self.fail(ShapeError if e.shape else ParseError, f"{key} in {name}() {e.message}", syn,
                                e.hint) from None
        given = dict(params)
        try:
            params = fn.params(shapes, params)
        except ParamError as e:
            raise self.fail(ShapeError if e.shape else ParseError, f"{name}() {e.message}", s, e.hint) from None
        params.update({key: getattr(self, key) for key in fn.context})
        params.update(piece)
        return self.make(opname or fn.op_for(shapes, given), operands, s_text, **params)

    def _item(self, name: str, fn, s: Syn, item: Syn | None) -> str:
        """The op of the item a function's tuple is indexed with (eigh(X)[0]: the eigenvalues)."""
        names = ", ".join(n for n, _ in fn.parts)
        if item is None:
            k = next(i for i, (_, op) in enumerate(fn.parts) if op is not None)
            raise self.fail(UsageError, f"{name}() returns a tuple ({names}), as in numpy: take one of its items",
                            s, hint=f"{name}(...)[{k}] is the {fn.parts[k][0]}")
        key = item.value
        if len(key) != 1 or not isinstance(key[0], int) or not -len(fn.parts) <= key[0] < len(fn.parts):
            raise self.fail(ParseError, f"{name}() returns a tuple of {len(fn.parts)} ({names}): index it with one "
                            f"of 0..{len(fn.parts) - 1}", item, hint=f"then index the item: {name}(...)[1][:, 0]")
        what, op = fn.parts[key[0]]
        if op is None:
            raise self.fail(UsageError, f"mcalc does not differentiate the {what} of {name}()", item)
        return op


# --- evaluation -----------------------------------------------------------------------------------------------

def evaluate(nodes: list[Node], env: dict[str, np.ndarray], check: bool = True, exact: bool = False
             ) -> dict[int, np.ndarray]:
    """Values of nodes (in topological order) given the variables' values, which may carry a leading batch axis.
    check: each operation's domain, and that every value is finite, naming the subexpression that is not; exact:
    the problem's own values (not a finite-difference step), where an operation's requirements hold exactly too
    (eigh's symmetric matrix)."""
    vals: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for node in nodes:
            vals[id(node)] = _value(node, vals, env, check, exact)
    return vals


def _value(node: Node, vals: dict, env: dict, check: bool, exact: bool = False):
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Const):
        return node.value
    return apply(node, [vals[id(a)] for a in node.args], check, exact)


def apply(node: Node, args: list, check: bool = True, exact: bool = False):
    """The value of an operation's node given its arguments' values, with its domain checked (check) and the
    requirements on the problem's own values (exact)."""
    op = node.op
    rules = (op.domain if check else None, op.requires if exact else None)
    if exact and getattr(op.requires, "first", False):      # (a requirement that does the domain's work better
        rules = rules[::-1]                                 # at the problem's values: logdet's computes X⁻¹)
    for rule in rules:
        msg = rule(node, *args) if rule is not None else None
        if msg:
            raise DomainError(f"{msg} (in {written(node)})", col=node.col,
                              hint=getattr(rule, "hint", None))
    try:
        out = np.asarray(op.fwd(node, *args))
    except Refused as e:
        raise DomainError(f"{e.message} (in {written(node)})", col=node.col, hint=e.hint) from None
    except np.linalg.LinAlgError as e:
        raise DomainError(f"{written(node)}: {e}", col=node.col) from None
    if check and op.verify is not None:
        msg = op.verify(node, out, *args)
        if msg:
            raise DomainError(f"{msg} (in {written(node)})", col=node.col)
    if check and not (op.family == "structural" and len(args) == 1) and not all_entries_finite(out):
        # (a rearrangement of one array keeps it finite)
        raise DomainError(f"{written(node)} is not finite here (overflow or an undefined value)", col=node.col,
                          hint=lambda w: f"choose other values {w.with_value}")
    return out


def written(node: Node) -> str:
    """A node as the user wrote it, or (built by mcalc: a closed form) as mcalc writes it."""
    if node.text:
        return node.text
    from .printing import Mcalc

    return Mcalc()(node)


class Values:
    """Values of the expression's nodes, and of any tree built on them (the coefficients of a derivative, a closed
    form), computed on demand without domain checks: an infinite coefficient is found where it is used.  Built
    trees are cached by structure (their interned keys): the U of d λ = diag(Uᵀ dX U), called for twice, is
    computed once."""

    def __init__(self, vals: dict, env: dict | None = None):
        self.vals, self.env, self.extra, self.key_of, self.keep = vals, env or {}, {}, {}, []

    def _remember(self, n: Node) -> None:
        if id(n) not in self.key_of:
            self.key_of[id(n)] = n.key
            self.keep.append(n)                      # (its id stays its own while it is remembered)

    def known(self, node: Node) -> bool:
        """Whether the node's value is already computed (an evaluated subexpression, or a tree built before)."""
        return id(node) in self.vals or node.key in self.extra

    def __call__(self, node: Node) -> np.ndarray:
        if id(node) in self.vals:
            return self.vals[id(node)]
        if node.key not in self.extra:
            known = lambda n: id(n) in self.vals or n.key in self.extra     # noqa: E731
            with np.errstate(all="ignore"):
                for n in topo_order(node, leaf=known):
                    if id(n) in self.vals:
                        continue
                    self._remember(n)
                    if n.key not in self.extra:
                        self.extra[n.key] = self._compute(n)
        self._remember(node)
        return self.extra[node.key]

    def _compute(self, n: Node) -> np.ndarray:
        if n.op is None or not fixed(n):
            return _value(n, _Both(self), self.env, False)
        v = n.memo.get("value")
        if v is None:
            v = _value(n, _Both(self), self.env, False)
            if v.size <= FIXED_ENTRIES:
                v.flags.writeable = False                      # (shared between calls: never written to)
                n.memo["value"] = v
        return v


FIXED_ENTRIES = 1 << 16         # values and maps of trees that depend on no variable are kept with them up to this size


def fixed(n: Node) -> bool:
    """Whether a node's value depends on no variable (ones(3, 3), the triangle of a mask of ones): the same at
    every call, so that it is computed once and kept with the node (node.memo)."""
    if n.op is None:
        return isinstance(n, Const)
    return n.remember("fixed", lambda: all(fixed(a) for a in n.args) and
                      all(_fixed_param(v) for v in n.params.values()))


def _fixed_param(v) -> bool:
    """A parameter may be a node itself (the expression a numeric map is the derivative of)."""
    if isinstance(v, Node):
        return fixed(v)
    if isinstance(v, (tuple, list)):
        return all(_fixed_param(x) for x in v)
    return True


class _Both:
    """The two caches of Values as one mapping id → value."""

    def __init__(self, values: Values):
        self.values = values

    def __getitem__(self, k):
        v = self.values.vals.get(k)
        return v if v is not None else self.values.extra[self.values.key_of[k]]
