"""Symbolic entries, with SymPy (imported here only, on demand).

Every variable becomes an array of symbols named as students write them: a matrix X has entries x11, x12, ...
(1-based row and column; x_10_11 once a dimension reaches 10), a vector x has x1, x2, ..., a scalar keeps its name.
The expression is evaluated on numpy object arrays, node by node.  Polynomial operations (sums, products, matrix
products and powers, determinants, and everything that only moves, sums or scales entries) on polynomial arguments
are computed as sparse polynomials (mcalc.polynomial): expanded, differentiated term by term, and printed as SymPy
prints them, without SymPy's expression trees.  What an operation does to polynomial entries, and what that costs,
is its registry entry's (Op.poly, a PolyRule; Op.spread and Op.growth for the estimates): this module knows no
operation, only their families.  Every other operation (exp, inv, softmax, ...) takes SymPy's expressions,
through its registry entry's `sympy` or its forward function on objects, and polynomial arguments enter it
expanded.  The Jacobian is then differentiated entry by entry, only by the symbols an entry contains.

What limits the symbolic forms is their cost, estimated before anything is built (estimate), checked again from
the real sizes before each product (_Clock) and before the Jacobian, and measured by a timer as the backstop
(within_time): all of it against SYMBOLIC_SECONDS.  Readability is a separate limit: pretty, LaTeX and Markdown
output show at most READABLE entries; JSON takes every entry that can be built in time.
"""

from __future__ import annotations

import functools
import math
import numbers
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import polynomial
from .errors import TooLargeError, UsageError
from .expr import Const, Var, topo_order
from .ops.core import poly_moves
from .polynomial import Poly, determinant_pairs, monomials, text

SYMBOLIC_SECONDS = 5.0      # what the symbolic forms may take, estimated and then timed
READABLE = 400              # entries that pretty, LaTeX and Markdown output show in a readable table (JSON: all)

# Unit costs of the symbolic work, in seconds, measured on the development machine (2 shared cores, CPython 3.11,
# SymPy 1.14 without gmpy2; medians of 5 runs):
#   C_PAIR     a pair of polynomial terms multiplied (a tuple merge and a dict update; X²·X² at 8×8: 32 768 pairs
#              in 0.060 s)
#   C_TERM     a polynomial term added or copied (0.17 µs)
#   C_WRITE    a term of the Jacobian written: made SymPy's expression and text, 4 µs + 3 µs per degree (X³ 8×8,
#              degree 2: 8.8 µs; A¹⁰ 3×3, degree 9: 32 µs), differentiating it included (< 0.1 µs)
#   C_ENTRY    an entry of the Jacobian, zero or not: the Matrix and its text (A@B 16×16: 65 536 entries, 4 096
#              nonzero, 0.12 s → 1.8 µs; 9.5 µs while zeros went through SymPy's printer)
#   C_BUILD    an operation of SymPy's expressions built by an element-wise or reduction counterpart (softmax,
#              sigmoid(A@x): 50 ms for 55-65 operations, mostly the first call's caches: 20 µs)
#   C_BUILD_MATRIX  likewise by a matrix function (inv 5×5: 0.91 s for 17 000 operations: 50 µs)
#   C_DIFF     an operation differentiated by one symbol it contains (4-156 µs over softmax, inv, solve, qr,
#              pinv, tanh, logdet, sigmoid layers, depending on the machine's load: 50 µs), the derivative
#              growing twice as long (J_GROWTH: 1.2 for logdet, 1.5 softmax, 1.6 inv, 2.1 pinv, 2.7-3.5 solve,
#              4.1 qr)
#   C_PRINT    an operation of the derivative printed by SymPy (23-82 µs: 50 µs)
#   C_TOGETHER an operation put over a common denominator by together() (14-340 µs: 150 µs); simplify() gives
#              the same length or barely shorter at 10-60 times that (softmax 5: 380 against 400 operations, in
#              1.4 s against 0.06 s; tanh(W@x + b) 2×2: no shorter, 2 s against 2 ms), so it is not used;
#              together() is done only where it fits in TIDY_SECONDS and in the time left: beyond a quarter of a
#              second the entries are long and it shortens them little (inv 3×3: 2 790 operations before and after,
#              0.4 s), while softmax, x/sum(x) or inv 2×2 take milliseconds and read as simplify() writes them
C_PAIR = 2e-6
C_TERM = 0.2e-6
C_WRITE = 4e-6
C_WRITE_DEGREE = 3e-6
C_ENTRY = 2e-6
C_BUILD = 20e-6
C_BUILD_MATRIX = 50e-6
C_DIFF = 50e-6
C_PRINT = 50e-6
C_TOGETHER = 150e-6
J_GROWTH = 2.0
TIDY_SECONDS = 0.25


def _write_cost(degree: int) -> float:
    return C_WRITE + C_WRITE_DEGREE * degree


# --- names ------------------------------------------------------------------------------------------------------

def symbol_names(name: str, shape: tuple, taken: set) -> np.ndarray:
    """x11, x12, ... (x_10_11 once a dimension reaches 10), x1, x2, ..., or the name itself for a scalar; names
    unique among those already taken (X beside x keeps its capital, then gains a suffix) and never one SymPy reads
    as something else (E, I, S, beta become E_, I_, ...)."""
    def names_for(base):
        if not shape:
            return np.array(base, dtype=object)
        wide = any(d >= 10 for d in shape)
        idx = np.indices(shape).reshape(len(shape), -1).T + 1
        out = [base + ("_" + "_".join(map(str, i)) if wide else "".join(map(str, i))) for i in idx]
        return np.array(out, dtype=object).reshape(shape)

    first = name.lower() if shape else name
    for base in dict.fromkeys([first, name, name + "_"] + [f"{name}_{k}" for k in range(2, 99)]):
        names = names_for(base)
        flat = [str(n) for n in np.ravel(names)]
        if not taken.intersection(flat) and not any(_reserved(n) for n in flat):
            return names
    raise UsageError(f"cannot name the entries of {name} apart from the others")


def _reserved(n: str) -> bool:
    """Whether SymPy would read the name back as something other than a symbol (E, I, S, beta, atan2, ...).
    Asking sympify costs 0.5 ms a name (0.5 s for x@A@x at 30): a name that is an identifier and none of the names
    sympify knows (SymPy's namespace, Python's keywords and builtins) is a symbol without asking."""
    import sympy

    if n.isidentifier() and n not in _known_names():
        return False
    try:
        return not isinstance(sympy.sympify(n), sympy.Symbol)
    except Exception:  # noqa: BLE001 - anything sympify rejects is no good as a name
        return True


@functools.lru_cache(maxsize=1)
def _known_names() -> frozenset:
    """What sympify's parser starts from (from sympy import *, and Python's builtins), and Python's keywords."""
    import builtins
    import keyword

    import sympy

    return frozenset(sympy.__all__) | frozenset(keyword.kwlist) | frozenset(dir(builtins))


@dataclass
class _Symbols:
    """Every variable's symbols (SymPy's), the same as polynomials, and all their names sorted as SymPy sorts them
    (a polynomial's symbol k is sympy_of[k], named names[k])."""

    sympy: dict          # variable name → object array of sympy.Symbol
    poly: dict           # variable name → object array of Poly
    names: list          # sorted
    sympy_of: list       # index → sympy.Symbol
    position: dict       # sympy.Symbol → index

    def index(self, name: str) -> np.ndarray:
        """The polynomial indices of a variable's symbols, flattened row-major."""
        return np.array([next(iter(p.terms))[0] for p in np.ravel(self.poly[name])], dtype=np.intp)


def _symbols(problem) -> _Symbols:
    import sympy

    named, taken = {}, set()
    by_size = sorted(problem.variables.items(), key=lambda item: len(item[1].shape))   # a scalar keeps its name
    for name, var in by_size:
        names = symbol_names(name, var.shape, taken)
        taken.update(str(n) for n in np.ravel(names))
        named[name] = names
    ordered = sorted(taken)
    index = {n: k for k, n in enumerate(ordered)}
    sympy_of = [sympy.Symbol(n, real=True) for n in ordered]
    syms, polys = {}, {}
    for name, names in named.items():
        flat = [index[str(n)] for n in np.ravel(names)]
        syms[name] = _objects([sympy_of[k] for k in flat]).reshape(np.shape(names))
        polys[name] = _objects([Poly.symbol(k) for k in flat]).reshape(np.shape(names))
    return _Symbols(syms, polys, ordered, sympy_of, {s: k for k, s in enumerate(sympy_of)})


def _objects(v) -> np.ndarray:
    """An object array (0-d for a single expression), the form every symbolic value takes."""
    if isinstance(v, np.ndarray):
        return v.astype(object)
    a = np.empty((), dtype=object) if not isinstance(v, list) else np.empty(len(v), dtype=object)
    if isinstance(v, list):
        a[:] = v
    else:
        a[()] = v
    return a


def _number(v):
    import sympy

    if v == np.pi:
        return sympy.pi
    if v == np.e:
        return sympy.E
    return sympy.nsimplify(float(v), rational=True) if float(v).is_integer() or abs(v) < 1e6 else sympy.Float(v)


def _constant(v):
    """A constant entry: an int or a Fraction where it is rational (a polynomial's coefficient), else SymPy's
    number (pi, e, a float)."""
    import sympy

    n = _number(v)
    if isinstance(n, sympy.Integer):
        return int(n)
    if isinstance(n, sympy.Rational):
        return Fraction(int(n.p), int(n.q))
    return n


# --- the time budget --------------------------------------------------------------------------------------------

class _OutOfTime(Exception):
    pass


def within_time(function, *args, seconds: float | None = None, **kwargs):
    """function(*args, **kwargs), refused with TooLargeError once it has run `seconds` (default SYMBOLIC_SECONDS):
    the backstop of the estimates, which SymPy's expressions can outgrow.  The clock is a signal timer, so only in
    the main thread; elsewhere the estimates alone apply."""
    import signal
    import threading

    seconds = SYMBOLIC_SECONDS if seconds is None else seconds
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return function(*args, **kwargs)

    def out_of_time(signum, frame):
        raise _OutOfTime()
    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args, **kwargs)
    except _OutOfTime:
        raise TooLargeError(f"the symbolic form took more than {seconds:g} s to build: it grows too large to read",
                            hint="use smaller shapes or lower powers, or drop --symbolic") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Clock:
    """The seconds left of SYMBOLIC_SECONDS; a step whose cost (counted from its operands' real sizes) would not
    fit is refused before it runs."""

    def __init__(self):
        self.start, self.budget = time.perf_counter(), SYMBOLIC_SECONDS

    def afford(self, seconds: float, what: str) -> None:
        spent = time.perf_counter() - self.start
        if spent + seconds > self.budget:
            raise _too_costly(spent + seconds, what)


def _too_costly(seconds: float, what: str) -> TooLargeError:
    return TooLargeError(f"{what} would take {_seconds(seconds)} to build here, more than the "
                         f"{SYMBOLIC_SECONDS:g} s allowed", hint="use smaller shapes or lower powers, or drop "
                         "--symbolic (the numbers need no symbols)")


def _seconds(s: float) -> str:
    """about 4.2 s, about 143 s, about 3 h, more than a day."""
    return f"about {s:.1f} s" if s < 10 else f"about {s:,.0f} s" if s < 3600 else \
        f"about {s / 3600:,.0f} h" if s < 86400 else "more than a day"


# --- the estimate, before anything is built ---------------------------------------------------------------------

@dataclass
class Size:
    """A bound on one entry of a node's value: polynomial (built expanded) or not (SymPy's expression, where a
    function's application counts as one atom of the size of its arguments); its terms, degree, symbols, and its
    operations as written."""

    poly: bool
    terms: float
    degree: int
    symbols: float
    ops: float

    @classmethod
    def polynomial(cls, terms, degree, symbols) -> Size:
        terms = min(terms, monomials(symbols, degree))
        return cls(True, terms, degree, symbols, terms * (degree + 1))

    @classmethod
    def expression(cls, ops, symbols) -> Size:
        return cls(False, 1, 1, symbols, ops)


class Context:
    """What a registry entry's rule on polynomial entries (Op.poly, a PolyRule of ops/core.py) is given as S:
    the polynomial module (S.P), the unit costs; for its cost, how many entries of its arguments an entry involves
    (S.spread) and how many symbols it can hold (S.symbols), by which S.size bounds an entry; for its value, the
    clock (S.afford) and SymPy (S.sympy, S.expression)."""

    P = polynomial
    C_PAIR, C_TERM, C_ENTRY = C_PAIR, C_TERM, C_ENTRY
    write_cost = staticmethod(_write_cost)
    objects = staticmethod(_objects)

    def __init__(self, spread: float = 1, symbols: float = 0, clock: _Clock | None = None,
                 names: _Symbols | None = None):
        self.spread, self.symbols, self.clock, self.names = spread, symbols, clock, names

    # --- cost: sizes of an entry, bounded by the node's symbols --------------------------------------------------

    def size(self, terms, degree, symbols=None) -> Size:
        return Size.polynomial(terms, degree, self.symbols if symbols is None else symbols)

    def expression_size(self, ops) -> Size:
        return Size.expression(ops, self.symbols)

    # --- value ---------------------------------------------------------------------------------------------------

    def afford(self, seconds: float, what: str) -> None:
        """Refuse a step that would not fit in the time left (counted from its operands' real sizes)."""
        self.clock.afford(seconds, what)

    @staticmethod
    def terms(a: np.ndarray) -> np.ndarray:
        """The terms of each entry, as floats."""
        return np.vectorize(_terms, otypes=[float])(a) if a.size else np.zeros(a.shape)

    @staticmethod
    def computed(f, *args):
        """f(*args) on object arrays, where it gives polynomials (numbers made ints and Fractions); None where it
        does not, or refuses objects."""
        try:
            with np.errstate(all="ignore"):
                out = _numbers(f(*args))
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        return out if _is_poly(out) else None

    def determinant(self, x: np.ndarray):
        """det of a square array of polynomials (expanded), its cost counted first."""
        return _poly_det(x, self.clock)

    @property
    def sympy(self):
        import sympy

        return sympy

    def expression(self, e):
        """An entry as SymPy's expression."""
        return expression(e, self.names)


ELEMENT_WISE = ("element-wise", "piecewise", "arithmetic")      # families whose entries each involve one entry


def _linear(op) -> bool:
    """An operation that moves, sums or scales entries (transpose, index, sum, trace, cumsum, ...), computed by its
    forward function on objects."""
    return op.linear is not None and op.sympy is None


_MOVES = poly_moves()


def _rule(op):
    """What an operation does to polynomial entries (a PolyRule): its registry entry's, or for one that moves, sums
    or scales entries, its forward function on them; None: it has no polynomial form."""
    if op.poly is not None:
        return op.poly
    return _MOVES if _linear(op) else None


def _spread(node) -> float:
    """How many entries of its arguments an entry of a node can involve: the registry entry's count (Op.spread: the
    inner size of a product, the diagonal of a trace), else the entries summed by a reduction, every entry for a
    matrix function or any other, 1 for an element-wise operation or one that moves entries."""
    op = node.op
    if op.spread is not None:
        return op.spread(node)
    if op.family == "matrix functions" or (op.family not in ELEMENT_WISE and not _linear(op)):
        return max(a.size for a in node.args)
    if _linear(op) and op.family == "reductions":
        return max(1, max(x.size for x in node.args) // max(1, node.size))
    return 1


def _all_symbols(node) -> float:
    """The symbols of the variables a node depends on."""
    seen, stack, total = set(), [node], 0
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, Var):
            total += n.size
        stack.extend(n.args)
    return total


def _growth(node) -> float:
    """The operations of an entry of a matrix function of symbols, per operation of its argument's entries, as
    SymPy's counterparts build them: the registry entry's measure (Op.growth: det n×n n!·n, inv 1.2·n!·n, ...),
    else the fastest of those measured, (k!)²·k³ for the smaller dimension k."""
    if node.op.growth is not None:
        return node.op.growth(node)
    shape = node.args[0].shape
    k = min(shape) if shape else 1
    return math.factorial(k) ** 2 * k ** 3


def _expression_rule(node, sizes, S: Context) -> tuple[Size, float]:
    """The size of a SymPy expression's entries and the seconds to build them: a sum or product of its arguments'
    sizes, a function applied to them (one atom), a matrix function by its growth (_growth), anything else as if
    each entry involved all of its arguments' entries (softmax, norm)."""
    op, m, v = node.op, node.size, S.symbols
    ops = [s.ops for s in sizes]
    build = C_BUILD
    if op.family in ELEMENT_WISE:
        size = Size.expression(sum(ops) + 4, v)
    elif op.family == "products":
        size = Size.expression(S.spread * (sum(ops) + 2), v)
    elif op.family == "matrix functions":
        size = Size.expression(_growth(node) * max(ops), v)
        build = C_BUILD_MATRIX
    elif _linear(op):
        size = Size.expression(S.spread * (max(ops) + 1), v)
    else:
        size = Size.expression(2 * sum(a.size * s for a, s in zip(node.args, ops)) + 4, v)
    converted = sum(a.size * s.terms * _write_cost(s.degree) for a, s in zip(node.args, sizes) if s.poly)
    return size, m * size.ops * build + converted


def node_sizes(problem) -> tuple[dict, float]:
    """Every needed node's Size, and the seconds to build them all: by its registry entry's polynomial rule where
    its arguments are polynomials and it has one, else as SymPy's expression."""
    sizes, seconds = {}, 0.0
    for node in topo_order(problem.root):
        if isinstance(node, Var):
            sizes[id(node)] = Size.polynomial(1, 1, 1)
        elif isinstance(node, Const):
            rational = all(_rational_value(v) for v in np.unique(node.value))
            sizes[id(node)] = Size.polynomial(1, 0, 0) if rational else Size.expression(1, 0)
        elif not node.args:
            sizes[id(node)] = Size.polynomial(1, 0, 0)
        else:
            args = [sizes[id(a)] for a in node.args]
            spread = _spread(node)
            S = Context(spread, min(spread * sum(s.symbols for s in args), _all_symbols(node)))
            rule = _rule(node.op)
            found = rule.cost(S, node, *args) if rule is not None and all(s.poly for s in args) else None
            sizes[id(node)], step = found or _expression_rule(node, args, S)
            seconds += step
    return sizes, seconds


def _rational_value(v: float) -> bool:
    return v != np.pi and v != np.e and (float(v).is_integer() or abs(v) < 1e6)


@dataclass
class Estimate:
    seconds: float           # the whole symbolic form: building, differentiating, writing
    terms: float             # the Jacobian's terms (polynomial) or operations (SymPy's expressions)


def estimate(problem, second: bool = False) -> Estimate:
    """What the symbolic Jacobian (second: the Hessian of a scalar) of a problem costs, before anything is built:
    the nodes' sizes, then each output entry differentiated by the symbols it contains, and every entry written."""
    sizes, seconds = node_sizes(problem)
    root = sizes[id(problem.root)]
    m, n = problem.root.size, sum(v.size for v in problem.wrt)
    k = min(root.symbols, n)                 # the symbols an entry is differentiated by
    if root.poly:                            # a term of degree d has at most d derivatives (d - 1 second ones)
        fan = min(root.degree, k) * (min(max(0, root.degree - 1), k) if second else 1)
        terms = m * root.terms * fan
        seconds += terms * _write_cost(max(0, root.degree - (2 if second else 1)))
    else:
        fan = k * k if second else k
        terms = m * root.ops * fan * J_GROWTH
        seconds += m * root.ops * fan * C_DIFF + terms * C_PRINT      # (together() only in the time left)
    entries = n * n if second else m * n
    return Estimate(seconds + entries * C_ENTRY, terms)


def check_size(problem, readable: bool = True, second: bool = False, what: str = "Jacobian") -> None:
    """Refuse, before any work, what would not be readable (readable: for pretty, LaTeX or Markdown output) or
    would take longer than SYMBOLIC_SECONDS to build."""
    n = sum(v.size for v in problem.wrt)
    m = n if second else problem.root.size
    if readable and m * n > READABLE:
        raise TooLargeError(f"a symbolic {what} of {m}×{n} = {m * n} entries is more than the {READABLE} that stay "
                            "readable in this format", hint="-f json writes every entry; or use smaller shapes")
    e = estimate(problem, second)
    if e.seconds > SYMBOLIC_SECONDS:
        raise TooLargeError(f"the symbolic {what} would take {_seconds(e.seconds)} to build here (about "
                            f"{_count(e.terms)} terms), more than the {SYMBOLIC_SECONDS:g} s allowed",
                            hint="use smaller shapes or lower powers, or drop --symbolic (the numbers need no "
                                 "symbols)")


def _count(x: float) -> str:
    return f"{x:,.0f}" if x < 1e9 else f"{x:.1e}"


# --- evaluation --------------------------------------------------------------------------------------------------

def _is_poly(a: np.ndarray) -> bool:
    return all(isinstance(e, (Poly, int, Fraction)) for e in a.flat)


def _terms(e) -> int:
    return len(e) if isinstance(e, Poly) else 1


def _poly_det(x: np.ndarray, clock: _Clock):
    """det of a square array of polynomials, its term pairs counted first (determinant_pairs, from the entries'
    real terms, degree and symbols)."""
    if not x.size:
        return 1
    entries = [e for e in x.flat if isinstance(e, Poly)]
    symbols = len({i for e in entries for m in e.terms for i in m})
    pairs = determinant_pairs(x.shape[0], max(map(len, entries), default=1),
                              max((e.degree for e in entries), default=0), symbols)
    clock.afford(pairs * C_PAIR, f"the determinant of a {x.shape[0]}×{x.shape[0]} matrix")
    return polynomial.determinant(x.tolist())


def _numbers(v) -> np.ndarray:
    """An object array whose numbers (numpy's zeros that pad and tril fill in, floats) are ints and Fractions, or
    SymPy's numbers where they are not rational."""
    out = _objects(v)
    for k, e in enumerate(out.flat):
        if not isinstance(e, (Poly, int, Fraction)) and isinstance(e, (numbers.Number, np.number, np.bool_)):
            out.flat[k] = _constant(float(e))
    return out


def symbolic_values(problem, symbols: _Symbols | None = None, clock: _Clock | None = None):
    """The value of every needed node, as object arrays of polynomials (Poly, int, Fraction) where the node is a
    polynomial (its registry entry's rule on polynomial entries), else of SymPy's expressions: each operation's
    SymPy counterpart from the registry, or its numpy forward function where numpy handles objects."""
    import sympy

    symbols = symbols or _symbols(problem)
    clock = clock or _Clock()
    S = Context(clock=clock, names=symbols)
    vals = {}
    for node in topo_order(problem.root):
        if isinstance(node, Var):
            vals[id(node)] = symbols.poly[node.name]
        elif isinstance(node, Const):
            vals[id(node)] = _objects(np.vectorize(_constant, otypes=[object])(node.value))
        elif not node.args:
            vals[id(node)] = _objects(np.vectorize(_constant, otypes=[object])(node.op.fwd(node)))
        else:
            args = [vals[id(a)] for a in node.args]
            rule = _rule(node.op)
            out = rule.value(S, node, *args) if rule is not None and all(map(_is_poly, args)) else None
            if out is None:
                args = [_expressions(a, symbols) for a in args]
                f = node.op.sympy
                out = _numbers(f(sympy, node, *args) if f is not None else node.op.fwd(node, *args))
            vals[id(node)] = out
    return vals, symbols


def _expressions(a: np.ndarray, symbols: _Symbols) -> np.ndarray:
    return np.vectorize(lambda e: expression(e, symbols), otypes=[object])(a) if a.size else a


def expression(e, symbols: _Symbols):
    """An entry as SymPy's expression (a polynomial's built once; numbers as SymPy's)."""
    if isinstance(e, Poly):
        if e.expr is None:
            e.expr = _canonical_sum([_canonical_term(m, c, symbols) for m, c in e.terms.items()])
        return e.expr
    if isinstance(e, (int, Fraction)):
        return _sympy_number(e)
    return e


# SymPy's canonical Add and Mul, built without its flatten() (which costs 20-60 µs a term, measured on X^3 8×8 and
# A^10 3×3): a product's arguments are its number, then its symbols by name, then its powers by their symbols'
# names (Basic.compare orders Symbol before Pow, and each by name); a sum's are its number, then its terms sorted by
# Basic.compare, as Add.flatten leaves them.  tests/test_symbolic.py compares them with SymPy's own, args and hash.

def _canonical_term(m: tuple, c, symbols: _Symbols):
    import sympy

    runs = _runs(m)
    factors = [symbols.sympy_of[i] for i, k in runs if k == 1] + \
        [sympy.Pow(symbols.sympy_of[i], sympy.Integer(k)) for i, k in runs if k > 1]
    c = _sympy_number(c)
    if not factors:
        return c
    if c != 1:
        factors.insert(0, c)
    return factors[0] if len(factors) == 1 else sympy.Mul._from_args(factors)


def _canonical_sum(terms: list):
    import sympy
    from sympy.core.basic import _args_sortkey

    if not terms:
        return sympy.Integer(0)
    if len(terms) == 1:
        return terms[0]
    numbers = [t for t in terms if t.is_Number]
    return sympy.Add._from_args(numbers + sorted((t for t in terms if not t.is_Number), key=_args_sortkey))


def _sympy_number(c):
    import sympy

    return sympy.Integer(c) if isinstance(c, int) else sympy.Rational(c.numerator, c.denominator)


def _runs(m: tuple) -> list[tuple[int, int]]:
    """(symbol, power) of a monomial."""
    out = []
    for i in m:
        if out and out[-1][0] == i:
            out[-1] = (i, out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out


# --- derivatives ----------------------------------------------------------------------------------------------------

def _derivative_rows(outputs: list, ins: np.ndarray, symbols: _Symbols) -> list[list]:
    """∂ output / ∂ symbol for every output and every symbol in ins (polynomial indices): a polynomial's term by
    term, an expression's only by the symbols it contains (the others are 0 without asking SymPy)."""
    import sympy

    column = {int(i): j for j, i in enumerate(ins)}
    wanted = set(column)
    rows = []
    for e in outputs:
        row = [0] * len(ins)
        if isinstance(e, Poly):
            for i, d in e.derivatives(wanted).items():
                row[column[i]] = d
        elif not isinstance(e, (int, Fraction)):
            for s in e.free_symbols:
                j = column.get(symbols.position.get(s))
                if j is not None:
                    row[j] = sympy.diff(e, s)
        rows.append(row)
    return rows


def _afford_rows(outputs: list, n: int, clock: _Clock, second: bool = False) -> None:
    """The derivatives of the outputs, counted from their real sizes before they are taken."""
    import sympy

    seconds = 0.0
    for e in outputs:
        if isinstance(e, Poly):
            d = e.degree
            seconds += len(e) * min(d, n) ** (2 if second else 1) * _write_cost(max(0, d - 1))
        elif not isinstance(e, (int, Fraction)):
            k = min(len(e.free_symbols), n)
            seconds += sympy.count_ops(e) * (k * k if second else k) * (C_DIFF + J_GROWTH * C_PRINT)
    clock.afford(seconds, f"the symbolic {'Hessian' if second else 'Jacobian'}")


def _tidied(entries: list, clock: _Clock) -> list:
    """SymPy's expressions over a common denominator (together()), where that fits in TIDY_SECONDS and in the time
    left (all of them or none, so that they read alike): as short as simplify() makes them, or nearly, at a small part of its cost
    (see C_TOGETHER).  Polynomials are already expanded and in SymPy's canonical order."""
    import sympy

    exprs = [e for e in entries if not isinstance(e, (Poly, int, Fraction))]
    if not exprs:
        return entries
    seconds = sum(sympy.count_ops(e) for e in exprs) * C_TOGETHER
    try:
        clock.afford(seconds, "tidying")
    except TooLargeError:
        return entries
    if seconds > TIDY_SECONDS:
        return entries
    done = iter([sympy.together(e) for e in exprs])
    return [e if isinstance(e, (Poly, int, Fraction)) else next(done) for e in entries]


def _matrix(rows: list[list], symbols: _Symbols):
    """A SymPy Matrix of the entries, with their texts (as str() writes them, polynomials without SymPy's
    printer) and the polynomials themselves (for the determinant)."""
    import sympy

    names = symbols.names
    M = sympy.Matrix(len(rows), len(rows[0]) if rows else 0, [expression(e, symbols) for row in rows for e in row])
    M.texts = [[str(e) if isinstance(e, int) else text(e, names) if isinstance(e, (Poly, Fraction)) else str(e)
                for e in row] for row in rows]
    M.polys = rows if all(isinstance(e, (Poly, int, Fraction)) for row in rows for e in row) else None
    M.names = names
    return M


def texts(M) -> list[list[str]]:
    """The entries of a symbolic matrix as text (SymPy's str), written once."""
    found = getattr(M, "texts", None)
    return found if found is not None else [[str(e) for e in row] for row in M.tolist()]


def _arranged(rows: list[list], problem, perm_out=None) -> list[list]:
    if problem.order == "col":
        r, c = problem.perms()
        r = r if perm_out is None else perm_out
        rows = [[rows[int(i)][int(j)] for j in c] for i in r]
    if problem.layout == "denominator":
        rows = [list(col) for col in zip(*rows)]
    return rows


def _ins(problem, symbols: _Symbols) -> np.ndarray:
    return np.concatenate([symbols.index(v.name) for v in problem.wrt])


def symbolic_jacobian(problem, readable: bool = True):
    """The Jacobian as a SymPy Matrix (simplified where that is affordable; with .texts, the entries as text), in
    the problem's order and layout; with the symbols used (variable name → object array of SymPy symbols)."""
    check_size(problem, readable)
    clock = _Clock()
    vals, symbols = symbolic_values(problem, clock=clock)
    outputs = list(np.ravel(vals[id(problem.root)]))
    ins = _ins(problem, symbols)
    _afford_rows(outputs, len(ins), clock)
    rows = _arranged(_derivative_rows(outputs, ins, symbols), problem)
    flat = _tidied([e for row in rows for e in row], clock)
    width = len(rows[0]) if rows else 0
    return _matrix([flat[k:k + width] for k in range(0, len(flat), width)], symbols), symbols.sympy


def symbolic_gradient(problem, readable: bool = True):
    if problem.root.size != 1:
        raise UsageError("a symbolic gradient needs a scalar expression")
    check_size(problem, readable, what="gradient")
    clock = _Clock()
    vals, symbols = symbolic_values(problem, clock=clock)
    f = vals[id(problem.root)].ravel()[0]
    v = problem.wrt[0]
    _afford_rows([f], v.size, clock)
    (row,) = _derivative_rows([f], symbols.index(v.name), symbols)
    grad = _objects([expression(e, symbols) for e in _tidied(row, clock)])
    return grad.reshape(v.shape), symbols.sympy


def symbolic_hessian(problem, readable: bool = True):
    """The Hessian of a Hessian problem's scalar f as a SymPy Matrix, from f's own symbolic form (not from the
    gradient's tree), simplified where affordable, rows and columns in the problem's flatten order."""
    f = problem.f
    check_size(f, readable, second=True, what="Hessian")
    clock = _Clock()
    vals, symbols = symbolic_values(f, clock=clock)
    expr = vals[id(f.root)].ravel()[0]
    ins = _ins(f, symbols)
    _afford_rows([expr], len(ins), clock, second=True)
    (first,) = _derivative_rows([expr], ins, symbols)
    rows = _derivative_rows(first, ins, symbols)
    if problem.order == "col":
        _, cols = problem.perms()
        rows = [[rows[int(i)][int(j)] for j in cols] for i in cols]
    n = len(ins)
    flat = _tidied([e for row in rows for e in row], clock)
    return _matrix([flat[k:k + n] for k in range(0, len(flat), n)], symbols), symbols.sympy


def determinant(M) -> str:
    """det of a square symbolic matrix, as text: of polynomials, expanded (Laplace expansion, every minor once);
    else SymPy's, simplified.  Refused when its estimate (the product of the rows' terms, the terms a full
    expansion can reach) would exceed SYMBOLIC_SECONDS."""
    import sympy

    n = M.shape[0]
    polys = getattr(M, "polys", None)
    if polys is not None:
        grid = np.empty((n, n), dtype=object)
        for i, row in enumerate(polys):
            for j, e in enumerate(row):
                grid[i, j] = e
        return text(_poly_det(grid, _Clock()), M.names)
    ops = [max(1, sympy.count_ops(e)) for e in M]
    seconds = math.factorial(n) * (sum(ops) / max(1, len(ops))) * n * C_BUILD * 10
    if seconds > SYMBOLIC_SECONDS:
        raise _too_costly(seconds, f"the determinant of the {n}×{n} symbolic Jacobian")
    return str(sympy.simplify(M.det()))


def substitutions(problem, syms) -> dict:
    """symbol → value at the problem's values, to evaluate symbolic entries numerically."""
    subs = {}
    for name, s in syms.items():
        for sym, val in zip(np.ravel(s), np.ravel(problem.values[name])):
            subs[sym] = float(val)
    return subs
