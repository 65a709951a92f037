"""Symbolic entries, with SymPy (imported here only, on demand).

Every variable becomes an array of symbols named as students write them: a matrix X has entries x11, x12, ...
(1-based row and column; x_10_11 once a dimension reaches 10), a vector x has x1, x2, ..., a scalar keeps its name.
The expression is evaluated on numpy object arrays of SymPy expressions: each operation's SymPy counterpart (its
registry entry's `sympy`), or its forward function wherever numpy handles objects (sums, products, indexing,
stacking, matmul).  The Jacobian is then SymPy's, entry by entry.
"""

from __future__ import annotations

import numpy as np

from .errors import TooLargeError, UsageError
from .expr import Const, Var

MAX_ENTRIES = 400      # a symbolic Jacobian beyond this many entries stops being readable (and fast)


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
    """Whether SymPy would read the name back as something other than a symbol (E, I, S, beta, ...)."""
    import sympy

    try:
        return not isinstance(sympy.sympify(n), sympy.Symbol)
    except Exception:  # noqa: BLE001 - anything sympify rejects is no good as a name
        return True


def _symbols(problem):
    import sympy

    out, taken = {}, set()
    by_size = sorted(problem.variables.items(), key=lambda item: len(item[1].shape))   # a scalar keeps its name
    for name, var in by_size:
        names = symbol_names(name, var.shape, taken)
        taken.update(str(n) for n in np.ravel(names))
        syms = [sympy.Symbol(n, real=True) for n in np.ravel(names)]
        out[name] = _objects(syms).reshape(var.shape)
    return out


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


SYMBOLIC_SECONDS = 5.0      # what the symbolic forms may take: beyond it they are too large to read anyway


class _OutOfTime(Exception):
    pass


def within_time(function, *args, seconds: float = SYMBOLIC_SECONDS):
    """function(*args), refused with TooLargeError once it has run `seconds` (SymPy's expressions can grow
    without bound: the entries of A^20 for a 3×3 A).  The clock is a signal timer, so only in the main thread;
    elsewhere the size budgets alone apply."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return function(*args)

    def out_of_time(signum, frame):
        raise _OutOfTime()
    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    except _OutOfTime:
        raise TooLargeError(f"the symbolic form took more than {seconds:g} s to build: it grows too large to read",
                            hint="use smaller shapes or lower powers, or drop --symbolic") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def symbolic_values(problem) -> dict:
    """The value of every node as SymPy expressions (object arrays): each operation's SymPy counterpart from the
    registry, or its numpy forward function where numpy handles objects (sums, products, indexing, stacking)."""
    import sympy

    syms = _symbols(problem)
    vals = {}
    for node in problem.nodes:
        if isinstance(node, Var):
            vals[id(node)] = syms[node.name]
        elif isinstance(node, Const):
            vals[id(node)] = np.vectorize(_number, otypes=[object])(node.value)
        else:
            args = [vals[id(a)] for a in node.args]
            f = node.op.sympy
            vals[id(node)] = _objects(f(sympy, node, *args) if f is not None else node.op.fwd(node, *args))
    return vals, syms


def _simplified(entries: list) -> list:
    """Every entry simplified when that is affordable, else none (so that they all read alike): simplify() costs
    a good fraction of a second on an entry of a few dozen operations, and is super-linear beyond."""
    import sympy

    entries = [sympy.sympify(e) for e in entries]
    if sum(sympy.count_ops(e) for e in entries) > SIMPLIFY_BUDGET:
        return entries
    return [sympy.simplify(e) for e in entries]


def _affordable(outputs: list, n_in: int) -> None:
    """Refuse a differentiation that would take minutes: big expressions times many variables."""
    import sympy

    work = sum(sympy.count_ops(e) for e in outputs) * n_in
    if work > DIFF_BUDGET:
        raise TooLargeError(f"the symbolic expression is too large to differentiate here ({work:,} operations "
                            f"against a budget of {DIFF_BUDGET:,})", hint="use smaller shapes, or drop --symbolic")


SIMPLIFY_BUDGET = 1500      # operations over all entries
DIFF_BUDGET = 200_000       # operations of the outputs times the number of variables
MAX_SYMBOLIC_FACTORISATION = 3      # det, inv, logdet, powers of larger symbolic matrices explode


def check_size(problem) -> None:
    """Refuse, before any work, what would take minutes or pages: many entries, big symbolic factorisations."""
    m, n = problem.root.size, sum(v.size for v in problem.wrt)
    if m * n > MAX_ENTRIES:
        raise TooLargeError(f"a symbolic Jacobian of {m}×{n} = {m * n} entries is more than the {MAX_ENTRIES} "
                            "that stay readable", hint="use smaller shapes, or drop --symbolic")
    from .chain import dependencies
    from .finite import evaluation_work

    deps = dependencies(problem.nodes, problem.wrt, structural=True)
    work = sum(evaluation_work(problem.nodes, v, deps, overhead=False) for v in problem.wrt) * n
    if work > DIFF_BUDGET:                          # a floor on the symbolic size, known before building it
        raise TooLargeError(f"the symbolic expression is too large to differentiate here (at least {work:,.0f} "
                            f"operations against a budget of {DIFF_BUDGET:,})", hint="use smaller shapes, or "
                            "drop --symbolic")
    for node in problem.nodes:
        if node.op is not None and node.op.family == "matrix functions" and \
                node.args[0].shape[0] > MAX_SYMBOLIC_FACTORISATION:
            k = node.args[0].shape[0]
            raise TooLargeError(f"symbolic {node.op.name} of a {k}×{k} matrix grows too large to read "
                                f"(up to {MAX_SYMBOLIC_FACTORISATION}×{MAX_SYMBOLIC_FACTORISATION})",
                                hint="use a smaller matrix, or drop --symbolic")


def symbolic_jacobian(problem):
    """The Jacobian as a SymPy Matrix, simplified, in the problem's order and layout; with the symbols used."""
    import sympy

    check_size(problem)
    vals, syms = symbolic_values(problem)
    outputs = list(np.ravel(vals[id(problem.root)]))
    ins = [s for v in problem.wrt for s in np.ravel(syms[v.name])]
    _affordable(outputs, len(ins))
    J = sympy.Matrix(outputs).jacobian(sympy.Matrix(ins))
    if problem.order == "col":
        rows, cols = problem.perms()
        J = J.extract(list(map(int, rows)), list(map(int, cols)))
    if problem.layout == "denominator":
        J = J.T
    return sympy.Matrix(J.shape[0], J.shape[1], _simplified(list(J))), syms


def symbolic_gradient(problem):
    import sympy

    if problem.root.size != 1:
        raise UsageError("a symbolic gradient needs a scalar expression")
    check_size(problem)
    vals, syms = symbolic_values(problem)
    f = vals[id(problem.root)].ravel()[0]
    v = problem.wrt[0]
    _affordable([f], v.size)
    grad = _objects(_simplified([sympy.diff(f, s) for s in np.ravel(syms[v.name])]))
    return grad.reshape(v.shape), syms


def symbolic_hessian(problem):
    """The Hessian of a Hessian problem's scalar f as a SymPy Matrix, from f's own SymPy counterpart (not from the
    gradient's tree), simplified, rows and columns in the problem's flatten order."""
    import sympy

    f = problem.f
    n = sum(v.size for v in f.wrt)
    if n * n > MAX_ENTRIES:
        raise TooLargeError(f"a symbolic Hessian of {n}×{n} = {n * n} entries is more than the {MAX_ENTRIES} that stay "
                            "readable", hint="use smaller shapes, or drop --symbolic")
    check_size(f)
    vals, syms = symbolic_values(f)
    expr = vals[id(f.root)].ravel()[0]
    ins = [s for v in f.wrt for s in np.ravel(syms[v.name])]
    _affordable([expr], n * n)
    H = sympy.hessian(expr, ins)
    if problem.order == "col":
        _, cols = problem.perms()
        H = H.extract(list(map(int, cols)), list(map(int, cols)))
    return sympy.Matrix(n, n, _simplified(list(H))), syms


def substitutions(problem, syms) -> dict:
    """symbol → value at the problem's values, to evaluate symbolic entries numerically."""
    subs = {}
    for name, s in syms.items():
        for sym, val in zip(np.ravel(s), np.ravel(problem.values[name])):
            subs[sym] = float(val)
    return subs
