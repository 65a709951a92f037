"""Explanations: the differential of an expression, the local rule of each operation on the way, and the closed
form of its Jacobian in the chosen order and layout.

Each operation declares, next to its name in the tables below, its local Jacobian as a closed form (a
``formula.Formula`` in the requested flatten order) and its differential (a template).  The closed forms are
composed by the same chain rule as the numbers (forward, from the wrt variable up), with simplification, and the
result is checked numerically against the analytic Jacobian before it is shown: an operation with no known closed
form (kron) says so instead of printing a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from . import formula as F
from .chain import dependencies, forward_accumulate
from .expr import Const, Node, Var
from .formula import Text, paren
from .ops import key_text, size_of
from .notation import ascii_name, dims, latex, sub, unicode


# --- helpers -----------------------------------------------------------------------------------------------------

def _text(node: Node) -> Text:
    return Text("{0}", (node.text,))


def _matrix(node: Node, side: str = "col") -> F.Formula:
    """A node's value as a matrix: itself when 2-D, a vector (or scalar) as a column or a row."""
    if len(node.shape) == 2:
        return F.Mat(_text(node), node.shape)
    n = node.size
    return F.Mat(_text(node), (n, 1) if side == "col" else (1, n), side, scalar=node.shape == ())


def _vec(template: str, nd: int) -> str:
    return f"vec({template})" if nd == 2 else template


def _broadcast(shape: tuple, out: tuple, order: str) -> F.Formula:
    """The matrix that copies an array of `shape` to the broadcast `out` shape: I where an axis is kept, a column
    of ones where it is repeated, one factor per axis (Kronecker, in flatten order)."""
    if shape == out:
        return F.Eye(size_of(out))
    if shape == ():
        return F.Ones(size_of(out), 1)
    shape = (1,) * (len(out) - len(shape)) + tuple(shape)
    factors = [F.Eye(o) if s == o else F.Ones(o, 1) for s, o in zip(shape, out)]
    return _kron_axes(factors, order)


def _kron_axes(factors: list, order: str) -> F.Formula:
    """One factor per axis, as a Kronecker product in flatten order (the last axis varies fastest in row-major)."""
    if order == "col":
        factors = factors[::-1]
    result = factors[0]
    for f in factors[1:]:
        result = F.kron(result, f)
    return result


def _elementwise(node: Node, template: str) -> F.Formula:
    """diag(f'(x)) for an element-wise f whose derivative is template, in {x} (the argument) and {y} (the value)."""
    t = template.replace("{x}", "{0}").replace("{y}", "{1}")
    slots = (node.args[0].text, node.text)
    if node.shape == ():
        return F.Mat(Text(t, slots), (1, 1), "row", scalar=True)
    return F.Diag(Text(_vec(t, len(node.shape)), slots), node.size)


def _slice_text(key, n: int) -> tuple[str, int]:
    """eye(n)[text] selects these rows; and how many."""
    if not isinstance(key, slice):
        i = key % n
        return f"{i}:{i + 1}", 1
    start, stop, step = key.indices(n)
    count = len(range(start, stop, step))
    parts = ["" if key.start is None else str(key.start), "" if key.stop is None else str(key.stop)]
    text = ":".join(parts) + (f":{key.step}" if key.step not in (None, 1) else "")
    return text, count


def _selection(key: tuple, shape: tuple, order: str) -> F.Formula:
    """The rows of the identity that indexing picks: one factor per axis, Kronecker in flatten order."""
    key = key + (slice(None),) * (len(shape) - len(key))
    factors = []
    for k, n in zip(key, shape):
        if isinstance(k, slice) and k.indices(n) == (0, n, 1):
            factors.append(F.Eye(n))
        else:
            text, count = _slice_text(k, n)
            factors.append(F.Select(n, text, count))
    return _kron_axes(factors, order)


# --- closed forms of the local Jacobians: op name → (node, i, order) → Formula | None --------------------------------

ELEMENTWISE = {
    "exp": "{y}", "log": "1/{x}", "sqrt": "0.5/{y}", "sin": "cos({x})", "cos": "-sin({x})", "tan": "1 + {y}**2",
    "arcsin": "1/sqrt(1 - {x}**2)", "arccos": "-1/sqrt(1 - {x}**2)", "arctan": "1/(1 + {x}**2)",
    "sinh": "cosh({x})", "cosh": "sinh({x})", "tanh": "1 - {y}**2", "sigmoid": "{y}*(1 - {y})",
    "softplus": "sigmoid({x})", "square": "2*{x}", "relu": "step({x})", "abs": "sign({x})",
}
PARTIALS = {  # broadcasting binary ops: ∂/∂a and ∂/∂b, in {a}, {b}, {y}
    "add": ("1", "1"), "sub": ("1", "-1"), "mul": ("{b}", "{a}"), "div": ("1/{b}", "-{a}/{b}**2"),
    "power": ("{b}*{a}**({b} - 1)", "log({a})*{y}"),
}


def _constant_exponent(node: Node) -> bool:
    return isinstance(node.args[1], Const) and node.args[1].shape == ()


def _power_partial(b: Const) -> str:
    """d x**c = c x**(c-1) dx, with the numbers worked out where they are plain (2*{a} for c = 2, 3*{a}**2 for
    c = 3, 0.5*{a}**-0.5 for c = 0.5) and as written otherwise (pi*{a}**(pi - 1), (1/3)*{a}**((1/3) - 1))."""
    c = float(b.value)
    if not re.fullmatch(r"-?[\d.]+(e-?\d+)?", b.text.strip()):
        t = paren(b.text)
        return f"{t}*{{a}}**({t} - 1)"
    e = c - 1
    num = lambda v: str(int(v)) if float(v).is_integer() else repr(v)  # noqa: E731
    return num(c) if e == 0 else f"{num(c)}*{{a}}" if e == 1 else f"{num(c)}*{{a}}**{num(e)}"


def _binary(node: Node, i: int, order: str) -> F.Formula:
    a, b = node.args
    arg = node.args[i]
    partial = PARTIALS[node.op.name][i]
    B = _broadcast(arg.shape, node.shape, order)
    if partial in ("1", "-1"):
        return F.scale(int(partial), B)
    if node.op.name == "power" and i == 0 and _constant_exponent(node):
        partial = _power_partial(b)
    slots_used = [k for k in "aby" if "{" + k + "}" in partial]
    nodes = {"a": a, "b": b, "y": node}
    if not slots_used:
        return F.scale(float(partial), B)                           # a number: 2 from x**2's rule
    if partial in ("{a}", "{b}") and isinstance(nodes[slots_used[0]], Const) and nodes[slots_used[0]].shape == ():
        const = nodes[slots_used[0]]                                # a constant factor: 2*x, pi*x, 1e-9*x
        value = float(const.value)
        exact = float(Fraction(value).limit_denominator(1000)) == value
        return F.scale(value if exact else Text("{0}", (const.text,)), B)
    shape = tuple(np.broadcast_shapes(*(nodes[k].shape for k in slots_used)))
    t = partial.replace("{a}", "{0}").replace("{b}", "{1}").replace("{y}", "{2}")
    if shape == () and node.shape != ():
        return F.scale(Text(t, (a.text, b.text, node.text)), B)     # a scalar factor: s*x
    if shape != node.shape:
        factor = t if re.fullmatch(r"\{\d\}", t) else f"({t})"
        t = f"{factor} * ones({', '.join(map(str, node.shape))})"
    slots = (a.text, b.text, node.text)
    if node.shape == ():
        return F.prod(F.Mat(Text(t, slots), (1, 1), "row", scalar=True), B)
    return F.prod(F.Diag(Text(_vec(t, len(node.shape)), slots), node.size), B)


def _matmul(node: Node, i: int, order: str) -> F.Formula:
    a, b = node.args
    m = 1 if len(a.shape) == 1 else a.shape[0]
    p = 1 if len(b.shape) == 1 else b.shape[1]
    if i == 0:                                  # d vec(AB)/d vec(A): I ⊗ Bᵀ row-major, Bᵀ ⊗ I column-major
        Bt = F.transpose(_matrix(b, "col"))
        return F.kron(F.Eye(m), Bt) if order == "row" else F.kron(Bt, F.Eye(m))
    A = _matrix(a, "row")                       # d vec(AB)/d vec(B): A ⊗ I row-major, I ⊗ A column-major
    return F.kron(A, F.Eye(p)) if order == "row" else F.kron(F.Eye(p), A)


def _transpose(node, i, order):
    x = node.args[0]
    return F.Commutation(*x.shape) if len(x.shape) == 2 else F.Eye(x.size)


def _index(node, i, order):
    return _selection(node.params["key"], node.args[0].shape, order)


def _diag(node, i, order):
    x = node.args[0]
    if len(x.shape) == 1:                       # vector → matrix: embed at positions i·(n+1), both orders
        n = x.shape[0]
        return F.transpose(F.Select(n * n, f"::{n + 1}", n))
    m, n = x.shape
    k = min(m, n)
    step = n + 1 if order == "row" else m + 1
    return F.Select(m * n, f":{(k - 1) * step + 1}:{step}", k)


def _identity(node, i, order):
    return F.Eye(node.size)


def _stack(node, i, order):
    count, e = len(node.args), node.args[i].size
    N = node.size
    if order == "row" or len(node.args[i].shape) == 0:
        return F.transpose(F.Select(N, f"{i * e}:{(i + 1) * e}", e))
    return F.transpose(F.Select(N, f"{i}::{count}", e))


def _concat(node, i, order):
    """hstack/vstack: the embedding of argument i's entries among the result's."""
    shapes = [a.shape for a in node.args]
    m, n = node.shape
    horizontal = node.op.name == "hstack"
    before = sum(s[1 if horizontal else 0] for s in shapes[:i])
    mine = shapes[i][1 if horizontal else 0]
    if horizontal == (order == "row"):          # each row (hstack, row-major) or column (vstack, col-major) splits
        count, width = (m, n) if horizontal else (n, m)
        piece = F.transpose(F.Select(width, f"{before}:{before + mine}", mine))
        return F.kron(F.Eye(count), piece)
    size = node.args[i].size                    # the argument's entries are one contiguous run
    start = before * (m if horizontal else n)
    return F.transpose(F.Select(node.size, f"{start}:{start + size}", size))


def _sum(node, i, order):
    x = node.args[0]
    axis = node.params.get("axis")
    count = x.size if axis is None else x.shape[axis % len(x.shape)]
    if axis is None or len(x.shape) == 1:
        L = F.Ones(1, x.size)
    else:
        m, n = x.shape
        if axis % 2 == 0:                       # result n: sum over rows
            L = F.kron(F.Ones(1, m), F.Eye(n)) if order == "row" else F.kron(F.Eye(n), F.Ones(1, m))
        else:
            L = F.kron(F.Eye(m), F.Ones(1, n)) if order == "row" else F.kron(F.Ones(1, n), F.Eye(m))
    return F.scale(Fraction(1, count), L) if node.params.get("mean") else L


def _row_vec(template: str, x: Node, order: str) -> F.Formula:
    nd = len(x.shape)
    return F.Mat(Text(_vec(template, nd), (x.text,)), (1, x.size), "row", order if nd == 2 else None, nd == 0,
                 inner=x.shape if nd == 2 else None)


def _trace(node, i, order):
    n = node.args[0].shape[0]
    return F.Mat(Text(f"vec(eye({n}))"), (1, n * n), "row", order, inner=(n, n))


def _det(node, i, order):
    return F.scale(_text(node), _row_vec("inv({0}).T", node.args[0], order))


def _logdet(node, i, order):
    return _row_vec("inv({0}).T", node.args[0], order)


def _inv(node, i, order):
    Y = F.Mat(_text(node), node.shape)         # d inv(X) = -Y dX Y: -(Y ⊗ Yᵀ) row-major, -(Yᵀ ⊗ Y) column-major
    return F.scale(-1, F.kron(Y, F.transpose(Y)) if order == "row" else F.kron(F.transpose(Y), Y))


def _matpow(node, i, order):
    x, k = node.args[0], node.params["k"]
    n = x.shape[0]

    def power(j):
        return F.Eye(n) if j == 0 else F.Mat(Text("{0}" if j == 1 else "{0}^" + str(j), (x.text,)), (n, n))

    terms = []
    for j in range(k):                          # d(X^k) = Σ X^j dX X^(k-1-j)
        left, right = power(j), F.transpose(power(k - 1 - j))
        terms.append(F.kron(left, right) if order == "row" else F.kron(right, left))
    if order == "col":
        terms.reverse()                         # as seed 002 writes it: I ⊗ X + Xᵀ ⊗ I
    return F.add(*terms) if terms else F.Zero(n * n, n * n)


def _norm(node, i, order):
    return F.scale(Text("1/{0}", (node.text,)), _row_vec("{0}", node.args[0], order))


def _softmax(node, i, order):
    n = node.size
    s = _text(node)
    return F.add(F.Diag(s, n), F.scale(-1, F.prod(F.Mat(s, (n, 1), "col"), F.Mat(s, (1, n), "row"))))


def _logsumexp(node, i, order):
    x = node.args[0]
    return F.Mat(Text("softmax({0})", (x.text,)), (1, x.size), "row")


def _outer(node, i, order):
    u, v = node.args
    m, n = u.size, v.size
    if i == 0:
        c = _matrix(v, "col")
        return F.kron(F.Eye(m), c) if order == "row" else F.kron(c, F.Eye(m))
    c = _matrix(u, "col")
    return F.kron(c, F.Eye(n)) if order == "row" else F.kron(F.Eye(n), c)


CLOSED = {
    **{name: (lambda t: lambda node, i, order: _elementwise(node, t))(t) for name, t in ELEMENTWISE.items()},
    **{name: _binary for name in PARTIALS},
    "neg": lambda node, i, order: F.scale(-1, F.Eye(node.size)),
    **{name: lambda node, i, order: F.Zero(node.size, node.args[0].size) for name in ("sign", "step")},
    "matmul": _matmul, "dot": _matmul, "transpose": _transpose, "index": _index, "diag": _diag,
    "vec": _identity, "col": _identity, "row": _identity, "stack": _stack, "sum": _sum, "mean": _sum,
    "trace": _trace, "det": _det, "logdet": _logdet, "inv": _inv, "matpow": _matpow, "norm": _norm,
    "softmax": _softmax, "logsumexp": _logsumexp, "outer": _outer, "hstack": _concat, "vstack": _concat,
    # kron(A, B) has no closed form short enough to help: its Jacobian needs commutation matrices of the blocks
}


def _stack_combine(node, blocks, order, n):
    """d[a, b, ...] stacks da, db, ...: their Jacobians one above the other (row-major, or scalar elements)."""
    if order == "col" and node.args[0].shape != ():
        return F.add(*(F.prod(_stack(node, i, order), b) for i, b in enumerate(blocks) if b is not None))
    return F.stack([F.Zero(a.size, n) if b is None else b for a, b in zip(node.args, blocks)])


COMBINE = {  # ops whose Jacobian reads better built from their arguments' Jacobians than as Σ L_i J_i
    "stack": _stack_combine,
}


def local_closed_form(node: Node, i: int, order: str) -> F.Formula | None:
    rule = CLOSED.get(node.op.name)
    return None if rule is None else rule(node, i, order)


# --- differentials: op name → (node, i, d) → the part of d(node) that comes from d(args[i]) ---------------------
#
# Differentials are written in the language itself, with dX a variable shaped like X, so that they can be
# evaluated: d(f) at dX = u is the product J u.  ' * ' (spaced) is the element-wise product (⊙ on the terminal),
# '*' (unspaced) a product with a scalar (·).

def _pd(d: str, chain: bool = False) -> str:
    """A differential inside a bigger one: in parentheses unless it is one term (or, inside a matrix product, a
    chain of matrix products, which associate)."""
    d = d.strip()
    if paren(d) == d or chain and re.fullmatch(r"[^\s+*/-]+", d):
        return d
    return f"({d})"


def d_of(text: str) -> str:
    """The name of a differential: dX, d inv(A), d(A@B)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        return f"d{text}"
    call = re.match(r"[A-Za-z_]\w*\(", text)
    return f"d {text}" if call and F.atomic(text) and not text.endswith("ᵀ") else f"d({text})"


def _arg(node, k):
    return paren(node.args[k].text)


def _elementwise_d(node, i, d):
    t = ELEMENTWISE[node.op.name].replace("{x}", _arg(node, 0)).replace("{y}", paren(node.text))
    return f"{paren(t)} * {_pd(d)}"


def _matpow_d(node, i, d):
    x, k = _arg(node, 0), node.params["k"]
    return " + ".join("@".join([x] * j + [_pd(d, True)] + [x] * (k - 1 - j)) for j in range(k))


def _power_d(node, i, d):
    if i == 1:
        return f"log({node.args[0].text}) * {paren(node.text)} * {_pd(d)}"
    if _constant_exponent(node):
        factor = _power_partial(node.args[1]).format(a=_arg(node, 0))
        return d if factor == "1" else f"{factor} * {_pd(d)}"
    return f"{_arg(node, 1)} * {_arg(node, 0)}**({node.args[1].text} - 1) * {_pd(d)}"


def _zeros(node) -> str:
    """The differential of what does not depend on the variables: 0, zeros(2, 3), or [0, 0] inside a [...]."""
    if node.op is not None and node.op.name == "stack" and len(node.shape) == 1:
        return "[" + ", ".join("0" for _ in range(node.shape[0])) + "]"
    return "0" if not node.shape else f"zeros({', '.join(map(str, node.shape))})"


DIFFERENTIAL = {
    **{name: _elementwise_d for name in ELEMENTWISE},
    "add": lambda node, i, d: d, "sub": lambda node, i, d: d if i == 0 else f"-{_pd(d)}",
    "mul": lambda node, i, d: f"{_pd(d)} * {_arg(node, 1)}" if i == 0 else f"{_arg(node, 0)} * {_pd(d)}",
    "div": lambda node, i, d: f"{_pd(d)} / {_arg(node, 1)}" if i == 0 else
    f"-{_arg(node, 0)} * {_pd(d)} / {_arg(node, 1)}**2",
    "power": _power_d,
    "neg": lambda node, i, d: f"-{_pd(d)}",
    "sign": lambda node, i, d: _zeros(node), "step": lambda node, i, d: _zeros(node),
    "matmul": lambda node, i, d: f"{_pd(d, True)}@{_arg(node, 1)}" if i == 0 else f"{_arg(node, 0)}@{_pd(d, True)}",
    "dot": lambda node, i, d: f"dot({d}, {node.args[1].text})" if i == 0 else f"dot({node.args[0].text}, {d})",
    "transpose": lambda node, i, d: f"{_pd(d)}.T",
    "index": lambda node, i, d: f"{_pd(d)}[{key_text(node.params['key'])}]",
    "diag": lambda node, i, d: f"diag({d})", "vec": lambda node, i, d: f"vec({d})",
    "col": lambda node, i, d: f"col({d})", "row": lambda node, i, d: f"row({d})",
    "sum": lambda node, i, d: f"sum({d}{_axis(node)})", "mean": lambda node, i, d: f"mean({d}{_axis(node)})",
    "trace": lambda node, i, d: f"trace({d})",
    "det": lambda node, i, d: f"{paren(node.text)}*trace(inv({node.args[0].text})@{_pd(d, True)})",
    "logdet": lambda node, i, d: f"trace(inv({node.args[0].text})@{_pd(d, True)})",
    "inv": lambda node, i, d: f"-{paren(node.text)}@{_pd(d, True)}@{paren(node.text)}",
    "matpow": _matpow_d,
    "norm": lambda node, i, d: f"sum({_arg(node, 0)} * {_pd(d)})/{paren(node.text)}",
    "softmax": lambda node, i, d: f"{paren(node.text)} * {_pd(d)} - {paren(node.text)}*({paren(node.text)}@{_pd(d)})",
    "logsumexp": lambda node, i, d: f"softmax({node.args[0].text})@{_pd(d)}",
    "outer": lambda node, i, d: f"outer({d}, {node.args[1].text})" if i == 0 else f"outer({node.args[0].text}, {d})",
    "kron": lambda node, i, d: f"kron({d}, {node.args[1].text})" if i == 0 else f"kron({node.args[0].text}, {d})",
}
ASSEMBLED = {"stack": ("[", "]"), "hstack": ("hstack(", ")"), "vstack": ("vstack(", ")")}   # d of each element


def pretty_differential(text: str) -> str:
    """A differential as the terminal shows it: ⊙ and ⊘ for the element-wise product and quotient, · for
    products with scalars, ᵀ and ² as written by hand."""
    return unicode(text)


def _axis(node) -> str:
    return "" if node.params.get("axis") is None else f", axis={node.params['axis']}"


def differentials(nodes: list[Node], wrt: list[Var]) -> dict[int, str]:
    """d(node) for every node that depends on a wrt variable, in terms of dX for each wrt variable X."""
    names = {v.name for v in wrt}
    deps = dependencies(nodes, wrt)
    D: dict[int, str] = {}
    for node in nodes:
        if not deps[id(node)]:
            continue
        if isinstance(node, Var):
            if node.name in names:
                D[id(node)] = f"d{node.name}"
            continue
        if node.op.name in ASSEMBLED:
            left, right = ASSEMBLED[node.op.name]
            D[id(node)] = left + ", ".join(D.get(id(a), _zeros(a)) for a in node.args) + right
            continue
        parts = [DIFFERENTIAL[node.op.name](node, i, D[id(a)]) for i, a in enumerate(node.args) if id(a) in D]
        parts = [p for p in parts if p]
        if not parts:
            D[id(node)] = _zeros(node)
            continue
        text = parts[0]
        for p in parts[1:]:
            text += f" - {p[1:]}" if p.startswith("-") else f" + {p}"
        D[id(node)] = text
    return D


# --- the closed form of the whole Jacobian ---------------------------------------------------------------------

def closed_form(nodes: list[Node], wrt: list[Var], order: str, layout: str) -> tuple[F.Formula | None, list]:
    """The Jacobian of the root with respect to the wrt variables (side by side) as a formula, by the chain rule
    forward from each variable; (None, [ops without one]) when an operation on the way has no closed form."""
    deps = dependencies(nodes, wrt)
    missing = sorted({n.op.name for n in nodes if n.op is not None and deps[id(n)] and n.op.name not in CLOSED})
    if missing:
        return None, missing
    root = nodes[-1]
    blocks = []
    for v in wrt:
        def step(node, arg_forms, n=v.size):
            combine = COMBINE.get(node.op.name)
            if combine is not None:
                return combine(node, arg_forms, order, n)
            return F.add(*(F.prod(local_closed_form(node, i, order), Ja) for i, Ja in enumerate(arg_forms)
                           if Ja is not None))
        J = forward_accumulate(nodes, deps, v, F.Eye(v.size), step)
        blocks.append(F.Zero(root.size, v.size) if J is None else J)
    if layout == "denominator":
        blocks = [F.transpose(b) for b in blocks]
    return F.stack(blocks, vertical=layout == "denominator"), []


# --- names for the terminal ------------------------------------------------------------------------------------

_NAMES = {"s": "spq", "y": "yuvwzq", "Y": "YUVWZQ"}   # letters for subexpressions, in order of preference


def choose_names(f: F.Formula, nodes: list[Node], taken) -> dict[str, str]:
    """Short names for the long or repeated subexpressions of a formula: s for a softmax, Y for a matrix, y
    otherwise; the next letter (u, v, ...) when one is taken, by a variable or another name (a numbered y₂ beside
    a variable y would read as its entry)."""
    if isinstance(f, F.Stack) and f.grid() is not None:
        return {}                                   # a matrix of scalar entries reads best spelled out
    texts = f.texts()
    by_text = {n.text: n for n in nodes}
    names, used = {}, set(taken)
    for t in dict.fromkeys(texts):
        if re.fullmatch(r"[A-Za-z_]\w*|[\d.]+", t) or (texts.count(t) < 2 and len(t) <= 8):
            continue
        node = by_text.get(t)
        kind = "s" if node is not None and node.op is not None and node.op.name == "softmax" else \
            "Y" if node is not None and len(node.shape) == 2 else "y"
        name = next((c for c in _NAMES[kind] if c not in used), None)
        k = 1
        while name is None or name in used:                 # every letter taken: y₂, y₃, ...
            k += 1
            name = f"{kind}{sub(k)}"
        used.add(name)
        names[t] = name
    return names


@dataclass
class Explanation:
    differential: str                                 # "d(A@B) = dA@B", as the terminal shows it
    differential_mc: str = ""                         # "dA@B": the language's syntax, evaluable with dX = u
    differential_latex: str = ""
    steps: list = field(default_factory=list)
    formula: F.Formula | None = None
    missing: list = field(default_factory=list)      # operations without a closed form
    names: dict = field(default_factory=dict)         # subexpression → short name, for the terminal
    symbolic: list | None = None                      # the Jacobian's entries as text, when asked for

    @property
    def mc(self) -> str | None:
        return None if self.formula is None else self.formula.mc()

    gradient: F.Formula | None = None                # a scalar function's gradient, shaped like the variable
    dims: dict = field(default_factory=dict)          # name → its number of dimensions, for the notation

    def _show(self, f: F.Formula | None, how: str) -> str | None:
        if f is None:
            return None
        with dims(self.dims):
            return getattr(f, how)(self.names)

    @property
    def pretty(self) -> str | None:
        return self._show(self.formula, "pretty")

    @property
    def latex(self) -> str | None:
        return self._show(self.formula, "tex")

    def gradient_pretty(self) -> str | None:
        return self._show(self.gradient, "pretty")

    def gradient_latex(self) -> str | None:
        return self._show(self.gradient, "tex")


def explain(nodes: list[Node], wrt: list[Var], order: str, layout: str) -> Explanation:
    root = nodes[-1]
    D = differentials(nodes, wrt)
    deps = dependencies(nodes, wrt)
    ndims = {n.name: len(n.shape) for n in nodes if isinstance(n, Var)}
    with dims({**ndims, **{f"d{name}": k for name, k in ndims.items()}}):
        steps = _steps(nodes, D, deps, order)
        d = D.get(id(root), "0")
        shown = f"{d_of(unicode(root.text))} = {pretty_differential(d)}"
        lhs = "\\mathrm{d}" + (latex(root.text) if isinstance(root, Var) else
                                 f"\\left({latex(root.text)}\\right)")
        d_latex = latex(d, tuple(f"d{v.name}" for v in wrt))
    formula, missing = closed_form(nodes, wrt, order, layout)
    taken = {n.name for n in nodes if isinstance(n, Var)} | {n.text for n in nodes if isinstance(n, Const)}
    names = choose_names(formula, nodes, taken) if formula is not None else {}
    ndims.update({ascii_name(names[n.text]): len(n.shape) for n in nodes if n.text in names})
    gradient = None
    if formula is not None and root.size == 1 and len(wrt) == 1 and layout == "numerator":
        gradient = F.unvec_row(formula, wrt[0].shape)
    return Explanation(shown, d, f"{lhs} = {d_latex}", steps, formula, missing, names, gradient=gradient,
                       dims=ndims)


def _steps(nodes, D, deps, order) -> list[dict]:
    """One step per operation that depends on the variables: its rule, differential and local Jacobians."""
    steps = []
    for node in nodes:
        if node.op is None or not deps[id(node)]:
            continue
        local = []
        texts = [a.text for a in node.args]
        for i, a in enumerate(node.args):
            if deps[id(a)]:
                f = local_closed_form(node, i, order)
                local.append({"argument": a.text, "position": i + 1 if texts.count(a.text) > 1 else None,
                              "label": f"∂{paren(unicode(node.text))}/∂{paren(unicode(a.text))}",
                              "jacobian": None if f is None else f.pretty({})})
        d = D.get(id(node), "0")
        steps.append({"expression": node.text, "operation": node.op.name, "rule": node.op.rule_doc,
                      "lhs": d_of(unicode(node.text)), "differential": pretty_differential(d),
                      "differential_mcalc": d, "local_jacobians": local})
    return steps
