"""What every registry entry is made of: the Op record, the function table of the language, and the helpers the
families share (shapes, batched values, domains, printing defaults).

An Op holds everything mcalc knows about one operation:

    infer      (argument shapes, **params) → the output shape; raises ShapeError
    fwd        (node, *values) → the value; values may carry leading batch axes (finite differences evaluate many
               points at once), so forward functions index from the end
    jvp        (node, tangents) → the differential of the node, a tree in the language, given its arguments'
               differentials (None where an argument has none); None when it has none
    linear     (node, i, order) → for an op linear in argument i: the matrix of that linear map as a tree of the
               language (I ⊗ Bᵀ for A@B wrt A, row-major), in the given flatten order; the numeric structured map,
               the closed form and the local Jacobians of explain are all read from it
    as_linop   (node, read) → the structured numeric map (Kron, Diag, Gather) a closed-form node stands for
    adjoint    (node, i, C) → the cotangent of argument i as a tree, given the node's cotangent C (df = tr(Cᵀ d node)):
               the transpose of the linear map, where its matrix has no closed form (L(Aᵀ, C) for expm's Fréchet
               derivative) or where the textbook writes it shorter (tr(A) I for kron under a trace); None: read it
               from the matrix
    orthonormal  (node) → (columns, rows): whether its columns (QᵀQ = I) and its rows (Q Qᵀ = I) are orthonormal
    rewrite    rules (node) → a simpler equal node, or None: the algebra of closed forms
    expand     (node) → its meaning in other operations, for operations mcalc uses inside derivatives only
    show       how it is printed in mcalc syntax, Unicode and LaTeX
    sympy      (sympy module, node, *values) → its SymPy counterpart (default: fwd on object arrays)
    poly       a PolyRule: what it does to polynomial entries, read by mcalc.symbolic two ways, its value and its
               cost (default: an op with a linear map and no SymPy counterpart moves, sums or scales entries,
               poly_moves())
    spread     (node) → how many entries of its arguments one entry of its value involves (the inner size of a
               matrix product, the diagonal of a trace); default: 1 for element-wise ops and those that move
               entries, the entries summed for a linear reduction, every entry for anything else (softmax, inv)
    growth     (node) → for a matrix function, the operations of an entry of its SymPy counterpart per operation
               of its argument's entries (det n×n: n!·n)
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..errors import ShapeError
from ..printing import CALL
from ..tree import BINARY, REGISTRY, SYMBOLS, Table, fmt_shape, size_of


class Show:
    """How an operation is printed.  mc, uni, tex: None for a function call (name(args), \\operatorname{name}),
    a template with # for the argument (#0, #1 for several; in parentheses as needed), or a function
    (printer, node) → text or (text, precedence).  prec: the precedence of the printed form.  name: the name a
    call is printed with (default: the first spelling); literals and kwargs: the parameters printed inside the
    call's parentheses, positionally (eye(2)) or as keywords (sum(A, axis=0)), where they are set."""

    __slots__ = ("mc", "uni", "tex", "prec", "name", "tex_name", "literals", "kwargs")

    def __init__(self, mc=None, uni=None, tex=None, prec=CALL, name=None, tex_name=None, literals=(), kwargs=()):
        self.mc, self.uni, self.tex, self.prec = mc, uni, tex, prec
        self.name, self.tex_name, self.literals, self.kwargs = name, tex_name, literals, kwargs


class Op:
    __slots__ = ("name", "infer", "fwd", "jvp", "linear", "as_linop", "rewrite", "expand", "domain", "show",
                 "sympy", "example", "help", "note", "analytic", "saturates", "kink", "sided", "passes",
                 "needs_invertible", "interval", "work", "params", "symbol", "operator", "family", "whole", "requires",
                 "verify", "adjoint", "orthonormal", "poly", "spread", "growth", "propagates",
                 "commutative")

    def __init__(self, name, infer, fwd, *, jvp=None, linear=None, as_linop=None, rewrite=(), expand=None,
                 domain=None, show=None, sympy=None, example=None, help="", note="", analytic=True,
                 saturates=False, kink_at_zero=False, kink=None, sided=True, flat=False, passes=None, needs_invertible=False,
                 interval=None, work=None, params=None, symbol=None, operator=None, family="", whole=False, requires=None,
                 verify=None, adjoint=None, orthonormal=None, poly=None, spread=None, growth=None, propagates=None,
                 commutative=False):
        if jvp is None and expand is not None:     # (an operation inside derivatives: differentiated through its
            jvp = via(expand)                       # meaning, for second derivatives)
        self.name, self.infer, self.fwd, self.jvp, self.linear = name, infer, fwd, jvp, linear
        self.as_linop, self.rewrite, self.expand, self.domain = as_linop, tuple(rewrite), expand, domain
        self.show, self.sympy, self.example, self.help, self.note = show or Show(), sympy, example, help, note
        self.analytic, self.saturates = analytic, saturates
        self.kink = kink or (_at_zero if kink_at_zero else None)
        self.sided = sided                 # whether kink's sign tells the sides apart (abs: x) or not (max: a gap)
        self.passes = () if flat else passes
        self.needs_invertible, self.interval, self.work, self.params = needs_invertible, interval, work, params
        self.symbol, self.operator, self.family = symbol, operator, family
        self.whole = whole                 # an operation inside derivatives kept whole in closed forms (onehot)
        self.requires = requires           # (node, *values) → message: what the problem's own values must meet
        self.verify = verify               # (node, value, *values) → message: a domain read off the value itself
        self.adjoint = adjoint
        self.orthonormal = orthonormal
        self.poly, self.spread, self.growth = poly, spread, growth
        self.propagates = propagates       # (node, i, *values) → whether a nan or an inf in argument i surely
        #                                    makes the value non-finite (its scan then scans the argument too)
        self.commutative = commutative     # f(a, b) == f(b, a) exactly, in floating point too (a + b, a * b)

    @property
    def flat(self) -> bool:
        """Piecewise constant: no derivative passes through it (sign, step, comparisons)."""
        return self.passes == ()

    def passes_through(self, i: int) -> bool:
        """Whether a derivative passes through argument i (where's condition passes none)."""
        return self.passes is None or i in self.passes

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def _at_zero(node, x, *_):
    """The signed distance from a kink at 0 (abs, relu, the norm): the argument itself."""
    return x


class Refused(np.linalg.LinAlgError):
    """A forward function's refusal of a value outside its operation's domain, found while computing it (the
    solve itself finds the matrix singular, the factorization that it is not positive definite): the message says
    what, the evaluator adds where.  Cheaper than a domain check that computes the same thing beforehand."""

    def __init__(self, message: str, hint=None):
        super().__init__(message)
        self.message, self.hint = message, hint


class ParamError(Exception):
    """A parameter the user wrote that its function cannot take: what is wrong with it, as one phrase (the builder
    adds where).  shape: whether it is wrong for the operand's shape (an axis out of range) rather than as written."""

    def __init__(self, message: str, shape: bool = False, hint: str | None = None):
        super().__init__(message)
        self.message, self.shape, self.hint = message, shape, hint


# --- parameter kinds: each reads a literal as the user wrote it (a number, a string, True, None or a tuple of
# them) into its canonical value, given the operands' shapes, or raises ParamError -----------------------------

def integer(low: int | None = None):
    def read(v, shapes):
        if isinstance(v, bool) or not isinstance(v, int) or (low is not None and v < low):   # (as numpy: 2.0 is no
            raise ParamError(f"must be an integer literal{f' ≥ {low}' if low is not None else ''}, got {_lit(v)}")
        return int(v)                                                                            # axis, nor inf)
    read.words = "an integer"
    return read


def axes_in_order(v, shapes) -> tuple | None:
    """None or the axes named (an axis or a tuple of them, negative from the end), counted from 0, in the order
    written (roll's shifts and a norm's (1, 0) go by it)."""
    nd = len(shapes[0])
    if v is None:
        return None
    axes = v if isinstance(v, tuple) else (v,)
    if not axes:
        raise ParamError("is an empty tuple: no axes to work along", hint="leave axis out for all of them")
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int):                  # (numpy: an axis of 1.0 is an error)
            raise ParamError(f"must be an integer, a tuple of integers or None, got {_lit(v)}")
        if not -nd <= a < nd:
            raise ParamError(f"{int(a)} is out of range for shape {fmt_shape(shapes[0])}", shape=True,
                             hint=f"axes of a {nd}-d array are {', '.join(map(str, range(nd))) or 'none'}"
                                  f"{f' (or {-nd} to -1)' if nd else ''}")
        if int(a) % nd in out:
            raise ParamError(f"repeats axis {int(a) % nd}")
        out.append(int(a) % nd)
    return tuple(out)


def axis(v, shapes):
    """None, an axis or a tuple of axes, for operations where their order does not matter (sums, maxima, flips):
    None (all of them) or the one axis, counted from 0 (a matrix's other axes are all of them)."""
    out = axes_in_order(v, shapes)
    if out is None or len(out) == len(shapes[0]):
        return None
    return out[0] if len(out) == 1 else None


def one_axis(v, shapes):
    """A single axis (an integer, negative from the end), counted from 0: cumsum's, sort's, diff's."""
    if isinstance(v, tuple):
        raise ParamError(f"must be one axis, got {_lit(v)}")
    return axes_in_order(v, shapes)[0] if v is not None else None


def an_axis(v, shapes):
    """A single axis where numpy's axis=None would flatten first (sort) or is an error (diff): None refused."""
    if v is None:
        raise ParamError("must be an integer here: numpy's axis=None flattens the array first (sort) or is an error "
                         "(diff)",
                         hint="ravel(x) flattens it; an integer axis sorts along it")
    return one_axis(v, shapes)


an_axis.words = "an axis"
one_axis.words = "an axis"
axes_in_order.words = "axes"
axis.words = "an axis"


def flag(v, shapes):
    """True or False (canonical: True or absent)."""
    if v not in (True, False) or not isinstance(v, (bool, int)):
        raise ParamError(f"must be True or False, got {_lit(v)}")
    return True if v else None


flag.words = "True or False"


def number(v, shapes):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ParamError(f"must be a number, got {_lit(v)}")
    return float(v)


number.words = "a number"


def choice(*options):
    """One of a few values (strings or numbers) as numpy spells them."""
    def read(v, shapes):
        for o in options:
            if v == o and isinstance(v, bool) == isinstance(o, bool) and isinstance(v, str) == isinstance(o, str):
                return o
        raise ParamError(f"must be one of {', '.join(map(_lit, options))}, got {_lit(v)}")
    read.words = "one of " + ", ".join(map(_lit, options))
    return read


def _lit(v) -> str:
    """A literal as the user wrote it."""
    if isinstance(v, float):
        return "inf" if v == np.inf else "-inf" if v == -np.inf else repr(v)
    return repr(v)


def param_text(v) -> str:
    """A canonical parameter as mcalc writes it back ('fro', True, (1, 3), inf)."""
    if isinstance(v, tuple):
        return "(" + ", ".join(map(param_text, v)) + ("," if len(v) == 1 else "") + ")"
    return _lit(v)


class Fn:
    """A function of the language as the user spells it: the op it builds from `operands` expression arguments,
    then literal parameters (`literals`, positional after the operands or by keyword, `required` of them at least),
    each read by its kind (`kinds`: integer by default; axis, flag, number, choice(...)); rest: further positional
    literals gather into the last one (A.reshape(2, 3) is A.reshape((2, 3))).  `context` names settings of the
    command the op needs (vec: the flatten order).  parts: for a function that returns a tuple in numpy
    (np.linalg.eigh: eigenvalues, eigenvectors), what each of its items is, as (name, op); the user indexes it
    (eigh(X)[1]), and an op of None is an item mcalc does not differentiate.  op may also be a function of the
    operands' shapes (dispatch)
    that names the op (np.dot: a product with a scalar, an inner product or @).  lead: how many parameters come
    before the operands (scipy's polygamma(n, x))."""

    __slots__ = ("op", "operands", "literals", "required", "help", "context", "dispatch", "kinds", "rest", "derive",
                 "lead", "parts", "sequence", "pieces", "operand_kw", "reaches", "if_none")

    def __init__(self, op, operands=1, literals=(), required=0, help="", context=(), dispatch=None, kinds=None,
                 rest=False, derive=None, lead=0, parts=None, sequence=False, pieces=None, operand_kw=(), reaches=(),
                 if_none=None):
        self.op, self.operands, self.literals, self.required = op, operands, tuple(literals), required
        self.help, self.context, self.dispatch = help, tuple(context), dispatch
        self.kinds, self.rest, self.derive, self.lead = dict(kinds or {}), rest, derive, lead
        self.parts = parts            # a tuple numpy returns: ((name, op or None), ...): eigh(X)[1] is the 2nd op
        self.sequence = sequence      # numpy takes the operands as one list: concatenate([a, b], axis=0) (True), or
        #                               also one by one ("or arrays": hstack(A, B), as closed forms print it)
        self.pieces = pieces          # a list numpy returns (split): the op that takes piece number `item`
        self.operand_kw = tuple(operand_kw)   # keywords that are expressions, operands after the others (weights=)
        self.if_none = dict(if_none or {})    # operand position → the function called without it when it is None
        #                                       (np.clip(x, None, hi) is minimum(x, hi))
        self.reaches = tuple(reaches)         # the other ops dispatch may pick (average: mean or average)

    def operand_at(self, i: int) -> bool:
        """Whether positional argument i is an operand (an expression) rather than a parameter."""
        if self.operands < 0:
            return i >= self.lead
        return self.lead <= i < self.lead + self.operands

    def params(self, shapes, given: dict) -> dict:
        """The op's parameters from those the user gave (read by their kinds) and the operands' shapes: derive
        (shapes, given) → params computes what a spelling implies (squeeze: the shape without its 1s) or refuses
        (softmax of a matrix without an axis) with ParamError."""
        out = dict(given)
        if self.derive is not None:
            out.update(self.derive(shapes, given))
        return {k: v for k, v in out.items() if v is not None}

    def op_for(self, shapes, params=None) -> str:
        """The op that the call builds for operands of these shapes (and these parameters)."""
        return self.op if self.dispatch is None else self.dispatch(shapes, params or {})

    def kind(self, key: str):
        return self.kinds.get(key) or integer(1 if self.operands == 0 else None)

    @property
    def nargs(self) -> tuple[int, int]:
        if self.operands < 0:
            return 2 + self.lead - (1 if self.lead else 0), 1000
        return self.operands + self.required, (1000 if self.rest else self.operands + len(self.literals))

    @property
    def kwargs(self) -> tuple[str, ...]:
        return self.literals + self.operand_kw


FUNCTIONS = Table()              # spelling → Fn (filled as REGISTRY is: see tree.Table)
METHODS = Table()                # array method → function: x.sum(axis=0) is sum(x, axis=0)
CONSTANTS = {"pi": np.pi, "e": np.e}
LITERALS = {"inf": np.inf, "newaxis": None}      # np.inf, np.newaxis: parameters (norm(x, np.inf)), not values

# numpy's, SciPy's and JAX's module paths: np.exp(x), np.linalg.inv(A), scipy.special.expit(x) are the language's
MODULES = {"np", "numpy", "jnp", "jax.numpy", "np.linalg", "numpy.linalg", "jnp.linalg", "jax.numpy.linalg",
           "scipy.linalg", "scipy.special", "jax.scipy.special", "jax.scipy.linalg", "jax.nn", "scipy"}

# numpy's (and SciPy's, JAX's) differentiable vocabulary that the language does not have yet: named as such when
# typed, never "corrected" to a function of another meaning (expm is not exp, pinv is not inv)
VOCABULARY = set("""eig eigvals floor_divide average partition dsplit atleast_3d real imag conj conjugate angle real_if_close""".split())
SYMBOLS.update({"pi": {"mc": "pi", "uni": "π", "tex": "\\pi"}, "e": {"mc": "e", "uni": "e", "tex": "e"}})


def register(op: Op, spelled=(), methods=(), **fn) -> Op:
    """Enter an op in the registry and, under each of its spellings, in the function table (methods: the array
    methods that call its first spelling, x.sum() for sum(x)).  An op's kink(node, *values) gives the signed
    distance of its entries from a kink (abs: x; maximum: a - b), where default values should not lie."""
    REGISTRY[op.name] = op
    binary = re.fullmatch(r"[A-Za-z] (\S+) [A-Za-z]", op.operator or "")
    if binary:
        BINARY[binary.group(1)] = op.name
    for m in methods:
        METHODS[m] = spelled[0]
    if op.show.name is None:
        op.show.name = spelled[0] if spelled else op.name
    for k, name in enumerate(spelled):
        FUNCTIONS[name] = Fn(op.name, **({**fn, "help": f"alias of {spelled[0]}"} if k else fn))
    return op


def no_symbolic(name: str):
    """An op's SymPy counterpart where it has none (sort, expm): the symbolic commands say so."""
    def refuse(sp, node, *args):
        from ..errors import UsageError

        raise UsageError(f"mcalc has no symbolic form of {name}", hint="drop --symbolic")
    refuse.none = True
    return refuse


# --- polynomial entries --------------------------------------------------------------------------------------------

class PolyRule:
    """What an operation does to polynomial entries (mcalc.polynomial: sums, products, powers, determinants of
    symbols, built expanded), read two ways by mcalc.symbolic, which passes S (its Context: the polynomial module
    S.P, the unit costs, the node's bounds, the clock, SymPy):

        value  (S, node, *values) → the node's entries from its arguments' (object arrays of Poly, int and
               Fraction): polynomials, or SymPy's expressions built from polynomials (log|det|); None where they
               have no such form (a division by a symbol), so that SymPy's counterpart builds them
        cost   (S, node, *sizes) → (the Size of an entry, the seconds to build them all) from the arguments' Sizes,
               before anything is built; None where value gives None
    """

    __slots__ = ("value", "cost")

    def __init__(self, value, cost):
        self.value, self.cost = value, cost


def _forward(S, node, *values):
    return S.computed(node.op.fwd, node, *values)


def _moves_cost(S, node, *sizes):
    k, t = S.spread, max(s.terms for s in sizes)
    return S.size(k * t, max(s.degree for s in sizes)), node.size * k * t * S.C_TERM


def poly_moves() -> PolyRule:
    """What moves, sums or scales entries (transpose, index, sum, trace, -x): its forward function on them; an entry
    the sum of `spread` entries of its arguments."""
    return PolyRule(_forward, _moves_cost)


def _sum_cost(S, node, *sizes):
    t = sum(s.terms for s in sizes)
    return S.size(t, max(s.degree for s in sizes)), node.size * t * S.C_TERM


def poly_sum() -> PolyRule:
    """a + b, a - b: the terms of the entries added."""
    return PolyRule(_forward, _sum_cost)


def poly_product(apply=None) -> PolyRule:
    """Entries multiplied, `spread` products summed for each entry (a * b, A @ B, kron, einsum): every pair of
    terms.  The pairs are counted from the operands' real terms before they are multiplied (the operation run on
    their numbers of terms); apply: the operation on object arrays, where its forward function is not (einsum's)."""
    def value(S, node, *values):
        pairs = float(np.sum(node.op.fwd(node, *(S.terms(v) for v in values))))
        S.afford(pairs * S.C_PAIR, f"the product {node.op.name} of {node.args[0].shape} entries")
        return S.computed(apply or node.op.fwd, node, *values)

    def cost(S, node, *sizes):
        k, pairs = S.spread, math.prod(s.terms for s in sizes)
        return S.size(k * pairs, sum(s.degree for s in sizes)), node.size * k * pairs * S.C_PAIR
    return PolyRule(value, cost)


def poly_power(exponent) -> PolyRule:
    """x ** p, exponent(node) → p where it is one whole number ≥ 0 (else None: no polynomial), by squaring."""
    def value(S, node, *values):
        return None if exponent(node) is None else S.computed(node.op.fwd, node, *values)

    def cost(S, node, x, *_):
        p = exponent(node)
        if p is None:
            return None
        size = S.size(x.terms ** p, x.degree * p)
        return size, node.size * size.terms * max(1, p.bit_length()) * S.C_PAIR
    return PolyRule(value, cost)


# --- derivatives through a meaning -----------------------------------------------------------------------------

def via(meaning):
    """A jvp read through the operation's meaning in other operations (norm(x, inf) is max(abs(x))): each of their
    rules in turn, from the operation's arguments to the meaning; the forward function stays the operation's own."""
    from ..tree import topo_order

    def jvp(node, tangents):
        tree = meaning(node)
        d = {id(a): t for a, t in zip(node.args, tangents)}
        for n in topo_order(tree, leaf=lambda n: id(n) in d):
            if id(n) in d or n.op is None:
                continue
            ts = [d.get(id(a)) if n.op.passes_through(i) else None for i, a in enumerate(n.args)]
            d[id(n)] = None if all(t is None for t in ts) else n.op.jvp(n, ts)
        return d.get(id(tree))
    return jvp


def times(w, d, node):
    """w ⊙ d, broadcast to the node's shape (None where there is no differential d)."""
    if d is None:
        return None
    out = w * d
    if out.shape == node.shape:
        return out
    from ..tree import call

    return out + call("zeros", **dict(zip("mn", node.shape)))


def total(parts):
    """The sum of the differentials that are there (None if none is)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


# --- batched values ------------------------------------------------------------------------------------------

def core(x: np.ndarray, nd: int) -> tuple[int, ...]:
    """Leading (batch) axes of a value whose trailing nd axes are its shape."""
    return x.shape[: x.ndim - nd]


def lift(x: np.ndarray, nd: int, out_nd: int) -> np.ndarray:
    """Insert axes between the batch axes and the nd trailing axes so the value has out_nd trailing axes."""
    if nd == out_nd:
        return x
    b = core(x, nd)
    return x.reshape(b + (1,) * (out_nd - nd) + x.shape[len(b):])


def real(x):
    return x.real if np.iscomplexobj(x) else x


def lifted(f):
    """f of the arguments' values, each lifted to the output's number of axes (values may carry batch axes; where
    none does, numpy's broadcasting already aligns them: f of the values themselves)."""
    def fwd(node, *values):
        nd = len(node.shape)
        args = node.args
        for v, a in zip(values, args):
            if len(a.shape) != nd and np.ndim(v) != len(a.shape):
                return f(*(lift(v, len(a.shape), nd) for v, a in zip(values, args)))
        return f(*values)
    return fwd


# --- shapes ----------------------------------------------------------------------------------------------------

def same_shape(shapes, **_):
    return shapes[0]


def broadcast_infer(label):
    """numpy's broadcasting of the arguments' shapes; label names the operation in the error ('+', where)."""
    def infer(shapes, **_):
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            listed = " and ".join(fmt_shape(s) for s in shapes)
            hint = "numpy broadcasting: trailing dimensions must be equal or 1"
            if label == "'*'" and len(shapes) == 2 and all(len(s) >= 1 for s in shapes) and \
                    shapes[0][-1] == shapes[1][0]:
                hint = "* is element-wise, as in numpy; the matrix product (MATLAB's *) is @"
            raise ShapeError(f"{label}: shapes {listed} do not broadcast", hint=hint) from None
    return infer


def need_ndim(label, shape, allowed, what):
    if len(shape) not in allowed:
        kinds = {0: "a scalar", 1: "a vector", 2: "a matrix"}
        raise ShapeError(f"{label} needs {what}, got {kinds.get(len(shape), 'an array')} of shape {fmt_shape(shape)}")


def square(label, shape):
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"{label} needs a square matrix, got shape {fmt_shape(shape)}")


def key_text(key, sep: str = ", ") -> str:
    """An index as written inside its brackets: (1, slice(None, 2)) → '1, :2'."""
    def one(k):
        if isinstance(k, slice):
            return ":".join("" if v is None else str(v) for v in (k.start, k.stop)) + (
                f":{k.step}" if k.step is not None else "")
        if isinstance(k, tuple):
            return "[" + ", ".join(map(str, k)) + "]"
        return str(k)
    return sep.join(one(k) for k in key)


def numpy_key(key: tuple) -> tuple:
    """An index as numpy takes it: the lists of integers as arrays (advanced indexing)."""
    return tuple(np.array(k, dtype=np.intp) if isinstance(k, tuple) else k for k in key)


# --- domains -----------------------------------------------------------------------------------------------------

def entry_text(shape, flat) -> str:
    if not shape:
        return ""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(int(flat), shape)) + "]"


def first_bad(mask: np.ndarray, x: np.ndarray, shape) -> str:
    """'-1 at [0, 1]' for the first entry where mask holds (mask and x carry a possible batch axis)."""
    both = np.broadcast_shapes(np.shape(mask), np.shape(x))         # (2**x: the base is a scalar)
    flat = np.flatnonzero(np.broadcast_to(mask, both))[0]
    v = np.broadcast_to(x, both).ravel()[flat]
    v = v.real if np.iscomplexobj(v) else v
    return f"{float(v):g}" + (f" at {entry_text(shape, flat % max(size_of(shape), 1))}" if shape else "")


class Interval:
    """The arguments an element-wise function accepts: lo < x (or ≤) and x < hi (or ≤).  It checks values,
    words its error, and tells default values where to lie (strictly inside: the derivative may be infinite at
    a closed end, as sqrt's is at 0)."""

    def __init__(self, lo=-np.inf, hi=np.inf, lo_closed=False, hi_closed=False):
        self.lo, self.hi, self.lo_closed, self.hi_closed = lo, hi, lo_closed, hi_closed

    def outside(self, x):
        lo = (x < self.lo) if self.lo_closed else (x <= self.lo)
        hi = (x > self.hi) if self.hi_closed else (x >= self.hi)
        return lo | hi

    def move_inside(self, v: np.ndarray) -> np.ndarray:
        """Readable default values moved inside a one-sided domain they leave (1, 2, 3 under arccosh: 1.5, 2.5,
        3.5); two-sided domains are met by the drawing itself (its decimals in ±[0.1, 0.9])."""
        if np.isfinite(self.lo) and not np.isfinite(self.hi) and np.any(self.outside(v) | (v == self.lo)):
            return v + (self.lo - np.min(v)) + 0.5
        if np.isfinite(self.hi) and not np.isfinite(self.lo) and np.any(self.outside(v) | (v == self.hi)):
            return v - (np.max(v) - self.hi) - 0.5
        return v

    def words(self) -> str:
        lo, hi = _num(self.lo), _num(self.hi)
        if self.hi == np.inf:
            if self.lo == 0:
                return "non-negative arguments" if self.lo_closed else "positive arguments"
            return f"arguments {'of at least' if self.lo_closed else 'greater than'} {lo}"
        return f"arguments in {'[' if self.lo_closed else '('}{lo}, {hi}{']' if self.hi_closed else ')'}"

    def check(self, name):
        def domain(node, x):
            bad = self.outside(real(x))
            if np.any(bad):
                return f"{name} needs {self.words()}, got {first_bad(bad, x, node.args[0].shape)}"
            return None
        return domain


def _num(v) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def above(lo):
    return Interval(lo)


def at_least(lo):
    return Interval(lo, lo_closed=True)


def between(lo, hi, closed=False):
    return Interval(lo, hi, closed, closed)


class NonZero(Interval):
    """Every argument but 0 (1 / x)."""

    def outside(self, x):
        return x == 0

    def words(self) -> str:
        return "nonzero arguments"


def nonzero():
    return NonZero()


class Symmetric:
    """Square matrices read through their symmetric part (eigh): default values drawn symmetric."""

    def move_inside(self, v: np.ndarray) -> np.ndarray:
        return (v + v.T) / 2 if v.ndim == 2 and v.shape[0] == v.shape[1] else v


class PositiveDefinite(Symmetric):
    """Symmetric positive definite matrices (cholesky, sqrtm, logm): default values V Vᵀ + I."""

    def move_inside(self, v: np.ndarray) -> np.ndarray:
        if v.ndim != 2 or v.shape[0] != v.shape[1]:
            return v
        if np.array_equal(v, v.T) and np.linalg.eigvalsh(v)[0] >= 1:      # already inside (another op's move)
            return v
        return v @ v.T + np.eye(v.shape[0])
