"""Arithmetic: negation and the broadcasting operators + - * / **, with numpy's broadcasting.

+, - and negation are linear (their maps copy entries to the broadcast shape); * is bilinear, / linear in its
numerator, and their differentials follow from those maps.  The algebra of scalars lives here too: products,
quotients and integer powers of scalars meet as one monomial c·∏ aᵢ^kᵢ (so that ‖x‖ and 1/‖x‖ cancel), scalar
factors move to the front, and like terms are collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..algebra import const, is_number, is_op, make, number, rational
from ..errors import ShapeError
from ..printing import ATOM, OPERAND, POWER, PRODUCT, SUM, shown
from ..printing import number as number_text
from ..tree import Const, Node, Var, call
from . import maps
from .core import (Op, PolyRule, Show, broadcast_infer, first_bad, lift, lifted, poly_power, poly_product, poly_sum,
                   real, register)

if TYPE_CHECKING:
    from fractions import Fraction


def scaled(coef: Node, arg: Node, out: Node, order: str) -> Node:
    """The matrix of u ↦ coef ⊙ u with u shaped like arg, broadcast to out's shape: diag(coef) after the
    broadcast (coef · the broadcast when coef is a scalar)."""
    B = maps.broadcast(arg.shape, out.shape, order)
    if coef.ndim == 0:
        return coef * B
    if coef.shape != out.shape:
        coef = coef * call("ones", **dict(zip("mn", out.shape)))
    D = maps.diag_of(coef, order)
    return D if arg.shape == out.shape else D @ B


def _plus_zeros(d: Node, node: Node) -> Node:
    """A differential that alone would not have the node's shape, broadcast to it."""
    return d if d.shape == node.shape else d + maps.zeros_like(node)


# --- printing ------------------------------------------------------------------------------------------------------

def _glued(a: Node, b: Node) -> bool:
    """Whether a number and what it multiplies are written together: 2x, 0.5x, 3x²; not 1e-09 x or 2 A B."""
    if not (isinstance(a, Const) and a.ndim == 0 and 0 <= float(a.value) and not a.named):
        return False
    v = float(a.value)
    if not (v.is_integer() and v < 1000 or round(v, 2) == v and v < 10):
        return False
    while is_op(b, "power", "matpow", "transpose", "row", "col"):        # x², xᵀ: still one letter
        if is_op(b, "power") and (_literal(b.args[1]) is None or _literal(b.args[1]).denominator != 1):
            return False                                                  # x^0.5 is not one piece
        b = b.args[0]
    return isinstance(b, Var) and len(b.name) == 1 + sum(c.isdigit() for c in b.name)


def _leading_minus(node: Node) -> bool:
    """Whether a node is printed with a minus in front (a negation, a product of a negative number)."""
    node = shown(node)
    if is_op(node, "neg") or number(node) is not None and number(node) < 0:
        return True
    return is_op(node, "mul", "div", "matmul") and _leading_minus(node.args[0])


def _leading_number(node: Node) -> bool:
    """Whether a node is printed starting with a digit (0.5 (2 x), not 0.5 2 x)."""
    node = shown(node)
    if isinstance(node, Const):
        return not node.named
    return is_op(node, "mul", "div", "matmul", "power") and _leading_number(node.args[0])


def _negative(s: Node) -> Node | None:
    """-s for a scalar s that is a negative number times something (-2, -x/y, (-1)/y²), else None."""
    c, factors = monomial(s)
    if c >= 0 or (not factors and s.ndim):
        return None
    return from_monomial(-c, factors)


def _zero(node: Node) -> bool:
    return is_op(node, "zeros") or is_number(node, 0)


def _sum_terms(p, node: Node, sign: str) -> tuple[str, int]:
    a, b = node.args
    if p.notation != "mc" and _zero(b):                    # a broadcast zero: shown as numpy reads it
        return p.raw(a)
    if p.notation != "mc" and _zero(a) and sign == "+":
        return p.raw(b)
    if sign == "-" and p.notation != "mc" and _zero(a):
        return negation(p, b)
    right = p(b, PRODUCT)
    if sign == "+" and right.startswith("-"):              # a + (-x ⊙ y) is a - x ⊙ y: a product's sign
        return f"{p(a, SUM)} - {right[1:]}", SUM
    return f"{p(a, SUM)} {sign} {right}", SUM


def _constant(node: Node) -> bool:
    return isinstance(node, Const)


def negation(p, x: Node) -> tuple[str, int]:
    """-x: a product needs no parentheses (-(A B) = (-A) B), a sum does."""
    text, prec = p.raw(x)
    if prec < PRODUCT:
        return f"-{p.paren(text)}", OPERAND if p.notation == "mc" else PRODUCT
    return f"-{text}", min(prec, OPERAND) if p.notation == "mc" else PRODUCT


def _juxtaposed(node: Node) -> bool:
    """Whether a node prints as a product by juxtaposition (or a Kronecker or outer product), which needs no
    parentheses after a scalar: c A B = (c A) B, c A ⊗ B = (c A) ⊗ B."""
    node = shown(node)
    return is_op(node, "matmul", "kron", "outer") or (is_op(node, "mul") and any(a.ndim == 0 for a in node.args))


def _show_mul(p, node):
    a, b = node.args
    if p.notation == "mc":
        if is_number(a, -1):
            return negation(p, b)
        return f"{p(a, PRODUCT)} * {p(b, OPERAND)}", PRODUCT
    if _constant(b) and not _constant(a):                      # scalars commute: dx * 2 is 2 dx
        a, b = b, a
    if is_number(a, -1) and b.ndim >= a.ndim:
        return negation(p, b)
    if a.ndim == 0 and b.ndim > 0 and not isinstance(a, Const) and _negative(a) is not None:
        return negation(p, call("mul", _negative(a), b))                 # -(1 / y²) u uᵀ
    if a.ndim == 0 and b.ndim > 0 and is_op(a, "div") and is_number(a.args[0], 1) and a.args[1].ndim == 0:
        return p.raw(call("div", b, a.args[1]))                           # (1 / s) X is X / s
    if a.ndim == 0 or b.ndim == 0:
        quotient = is_op(shown(a), "div") or isinstance(a, Const) and "/" in p.raw(a)[0]
        left = p(a, OPERAND if quotient else PRODUCT)                     # (1 / y) x, (1/6) 1ᵀ: not 1 / y x
        right, prec = p.raw(b)
        if prec < (PRODUCT if _juxtaposed(b) else OPERAND) or _leading_minus(b) or \
                isinstance(a, Const) and _leading_number(b):
            right = p.paren(right)                                        # r (-sin(t) dt), 0.5 (2 x)
        if p.notation == "tex":
            return f"{left}\\,{right}", PRODUCT
        return f"{left}{'' if _glued(a, b) else ' '}{right}", PRODUCT
    op = " \\odot " if p.notation == "tex" else " ⊙ "
    chain = is_op(shown(a), "mul", "neg") or _juxtaposed(a)      # x ⊙ y ⊙ z, 2x ⊙ dx, -sin(x) ⊙ dx; (1 ⊘ x) ⊙ dx
    return f"{p(a, PRODUCT if chain else OPERAND)}{op}{p(b, OPERAND)}", PRODUCT


def _show_div(p, node):
    a, b = node.args
    if p.notation == "tex":
        return f"\\frac{{{p(a)}}}{{{p(b)}}}", POWER                        # (\frac{x}{c})², not \frac{x}{c}²
    if p.notation == "uni" and _constant(a) and _constant(b):
        return f"{p(a, OPERAND)}/{p(b, OPERAND)}", PRODUCT                  # 1/3, read as one number
    op = " ⊘ " if p.notation == "uni" and b.ndim > 0 else " / "
    return f"{p(a, PRODUCT)}{op}{p(b, OPERAND)}", PRODUCT


def _literal(node: Node) -> Fraction | None:
    """The number a constant (possibly negated, as -1 is written) stands for."""
    if is_op(node, "neg"):
        inner = number(node.args[0])
        return None if inner is None else -inner
    return number(node)


def show_power(p, base: Node, exponent: Node | int):
    """x², X∘² (element-wise, for a matrix: X² is the matrix power), x^0.5; x**2 in mcalc syntax."""
    k = exponent if isinstance(exponent, int) else _literal(exponent)
    integer = k is not None and k == int(k) and abs(k) < 10 ** 6
    if p.notation == "mc":
        e = str(int(k)) if integer else p(exponent, OPERAND)
        return f"{p(base, ATOM)}**{e}", POWER
    ring = base.ndim >= 2
    if p.notation == "tex":
        e = str(int(k)) if integer else p(exponent)
        ring_tex = "\\circ " if ring else ""
        return p.sup(p(base, ATOM), "{" + ring_tex + e + "}"), POWER
    if integer:
        return p.sup(p(base, ATOM), ("∘" if ring else "") + p.superscript(int(k))), POWER
    return f"{p(base, ATOM)}^{'∘' if ring else ''}{p(exponent, ATOM)}", POWER


# --- the scalar algebra ------------------------------------------------------------------------------------------

def monomial(node: Node) -> tuple[Fraction, list]:
    """A scalar as c·∏ aᵢ^kᵢ: (c, [(aᵢ, kᵢ), ...]) with factors in order of appearance, aᵢ by key."""
    n = number(node)
    if n is not None:
        return n, []
    if not node.primal and node.ndim == 0:
        if is_op(node, "mul", "div") and node.args[0].ndim == 0 and node.args[1].ndim == 0:
            c1, f1 = monomial(node.args[0])
            c2, f2 = monomial(node.args[1])
            if is_op(node, "div"):
                if c2 == 0:
                    return rational(1), [(node, 1)]
                c2, f2 = 1 / c2, [(a, -k) for a, k in f2]
            return c1 * c2, _merge_factors(f1 + f2)
        if is_op(node, "neg"):
            c, f = monomial(node.args[0])
            return -c, f
        if is_op(node, "power") and number(node.args[1]) is not None and number(node.args[1]).denominator == 1:
            k = int(number(node.args[1]))
            c, f = monomial(node.args[0])
            if c != 0 or k > 0:
                return c ** k, [(a, e * k) for a, e in f]
    return rational(1), [(node, 1)]


def _merge_factors(factors: list) -> list:
    out: dict = {}
    for a, k in factors:
        if a.key in out:
            out[a.key] = (out[a.key][0], out[a.key][1] + k)
        else:
            out[a.key] = (a, k)
    return [(a, k) for a, k in out.values() if k]


def from_monomial(c: Fraction, factors: list) -> Node:
    """The canonical node of c·∏ aᵢ^kᵢ: c · (numerator) / (denominator)."""
    def power(a, k):
        return a if k == 1 else call("power", a, const(k))

    up = [power(a, k) for a, k in factors if k > 0]
    down = [power(a, -k) for a, k in factors if k < 0]
    if c == 0:
        return const(0)
    num = None
    for f in up:
        num = f if num is None else call("mul", num, f)
    if num is None:
        num = const(c)
    elif c != 1:
        num = call("mul", const(c), num)
    den = None
    for f in down:
        den = f if den is None else call("mul", den, f)
    return num if den is None else call("div", num, den)


def _scalar_rule(node: Node) -> Node | None:
    """Products, quotients and powers of scalars as one canonical monomial."""
    if node.ndim != 0 or any(a.ndim for a in node.args):
        return None
    c, factors = monomial(node)
    if len(factors) == 1 and factors[0][0] is node:
        return None
    out = from_monomial(c, factors)
    return out if out.key != node.key else None


def split_scalar(node: Node) -> tuple[Node | None, Node]:
    """(s, X) with node = s·X for a scalar s in front of a non-scalar X; (None, node) otherwise."""
    if is_op(node, "mul") and not node.primal and node.args[0].ndim == 0 and node.args[1].ndim > 0:
        return node.args[0], node.args[1]
    return None, node


def times(s: Node | None, x: Node) -> Node:
    """s·x, simplified (x itself when s is None)."""
    return x if s is None else make("mul", s, x)


def pull_scalar(node: Node) -> Node | None:
    """A linear operation of one argument applied to s·X is s times the operation applied to X."""
    s, x = split_scalar(node.args[0])
    if s is None:
        return None
    return make("mul", s, make(node.op.name, x, **node.params))


def _mul_rules(node: Node) -> Node | None:
    a, b = node.args
    if a.ndim == 0 and b.ndim == 0:
        return _scalar_rule(node)
    if b.ndim == 0 and a.ndim > 0:
        return make("mul", b, a)                                          # the scalar in front
    if a.ndim == 0:
        if is_number(a, 1) and b.shape == node.shape:
            return b
        if is_number(a, 0):
            return maps.zeros_like(node)
        if is_op(b, "zeros"):
            return b
        s, x = split_scalar(b)
        if s is not None:
            return make("mul", make("mul", a, s), x)
        if b.shape == (1, 1) and is_op(b, "eye"):
            return make("row", a)                                         # a 1×1 matrix: the entry itself
        if b.shape == (1, 1) and is_op(b, "row", "col") and b.args[0].ndim == 0:
            return make("row", make("mul", a, b.args[0]))
        return None
    sa, xa = split_scalar(a)                                              # element-wise: scalars out
    sb, xb = split_scalar(b)
    if sa is not None or sb is not None:
        s = sa if sb is None else sb if sa is None else make("mul", sa, sb)
        return make("mul", s, make("mul", xa, xb))
    if a.shape == b.shape and is_op(a, "vec") and is_op(b, "vec") and not a.primal and not b.primal and \
            a.params["order"] == b.params["order"] and a.args[0].shape == b.args[0].shape:
        return make("vec", make("mul", a.args[0], b.args[0]), order=a.params["order"])   # vec(X) ⊙ vec(Y)
    for q, other in ((a, b), (b, a)):
        if is_op(q, "ones") and not q.primal and other.shape == node.shape:
            return other                                                   # 1 ⊙ a = a
        if is_op(q, "div") and not q.primal and is_number(q.args[0], 1) and q.shape == other.shape:
            return make("div", other, q.args[1])                           # (1 ⊘ q) ⊙ a = a ⊘ q
    return None


def _div_rules(node: Node) -> Node | None:
    a, b = node.args
    if b.ndim == 0:
        if a.ndim == 0:
            return _scalar_rule(node)
        return make("mul", make("div", const(1), b), a)
    if is_op(a, "exp") and is_op(b, "add") and a.shape == node.shape and \
            {b.args[0].key, b.args[1].key} == {const(1).key, a.key}:
        return make("sigmoid", a.args[0])                            # eᵘ ⊘ (1 + eᵘ) = σ(u)
    return None


def _neg_rule(node: Node) -> Node:
    return make("mul", const(-1), node.args[0])


def _sub_rule(node: Node) -> Node:
    return make("add", node.args[0], make("mul", const(-1), node.args[1]))


def _power_rules(node: Node) -> Node | None:
    a, b = node.args
    if is_number(b, 1) and a.shape == node.shape:
        return a
    if a.ndim == 0 and b.ndim == 0:
        return _scalar_rule(node)
    return None


# --- sums --------------------------------------------------------------------------------------------------------

def terms(node: Node) -> list[Node]:
    """The terms of a (non-primal) sum, in order, without recursion (a sum can have thousands)."""
    out, stack = [], [node]
    while stack:
        t = stack.pop()
        if is_op(t, "add") and not t.primal:
            stack += [t.args[1], t.args[0]]
        else:
            out.append(t)
    return out


def _coef(t: Node) -> tuple[Fraction, Node]:
    s, x = split_scalar(t)
    if is_op(x, "transpose") and x.args[0].ndim == 1:      # x.T of a vector is x
        x = x.args[0]
    if s is not None and number(s) is not None:
        return number(s), x
    if t.ndim == 0:
        c, factors = monomial(t)
        return c, from_monomial(rational(1), factors)
    return rational(1), x if s is None else t


def _view_of_vector(t: Node):
    """('row'|'col', the vector, its vec order or None) for row(v), col(v) and row(vec(X)) terms (v may be a
    scalar: a 1×1 Jacobian)."""
    if is_op(t, "row", "col") and not t.primal and t.args[0].ndim <= 1:
        v = t.args[0]
        if is_op(v, "vec") and not v.primal:
            return t.op.name, v.args[0], v.params["order"]
        return t.op.name, v, None
    return None


def _add_rules(node: Node) -> Node | None:
    ts = terms(node)
    if len(ts) == 1:
        return None
    collected: dict = {}                                  # base key → [coefficient, base, the term]: like terms
    for t in ts:
        if _zero(t):
            continue
        c, base = _coef(t)
        if base.key in collected:
            collected[base.key][0] += c
            collected[base.key][2] = None                 # (merged: rebuilt from its coefficient)
        else:
            collected[base.key] = [c, base, t]
    merged = [(c, b, t) for c, b, t in collected.values() if c != 0]
    views: dict = {}
    rest = []
    for c, b, t in merged:                                # uᵀ + vᵀ = (u + v)ᵀ, vec(X)ᵀ + vec(Y)ᵀ = vec(X + Y)ᵀ
        v = _view_of_vector(b)
        key = None if v is None else (v[0], v[1].shape, v[2])
        if key is not None and key in views:
            views[key].append(_scaled(c, v[1]))
            continue
        if key is not None:
            views[key] = [_scaled(c, v[1])]
            rest.append(("view", key))
        else:
            rest.append(("term", t if t is not None else _scaled(c, b)))
    out = []
    for kind, item in rest:
        if kind == "term":
            out.append(item)
            continue
        parts = views[item]
        if len(parts) == 1:
            out.append(_as_view(item, parts[0]))
        else:
            total = parts[0]
            for q in parts[1:]:
                total = make("add", total, q)
            out.append(_as_view(item, total))
    stacked = _stacked(out, node.shape)
    if stacked is not None:
        return stacked
    out = _common_factors(out)
    out = _by_degree(out)
    if not out:
        return maps.zeros_like(node)
    result = out[0]
    for t in out[1:]:
        result = call("add", result, t)
    if result.shape != node.shape:
        result = call("add", result, maps.zeros_like(node))
    return result if result.key != node.key else None


def _product_ends(t: Node):
    """(coefficient or None, (leftmost factor, the rest), (the rest, rightmost factor)) of a matrix product term
    c·(L ... R); None for other terms.  A product the user wrote is split at its last product only."""
    s, x = split_scalar(t)
    if not is_op(x, "matmul"):
        return None
    if x.args[0].ndim == 1 and x.args[1].ndim == 2:                  # x M (a user's) read as Mᵀ x
        v = x.args[0]
        x = call("matmul", make("transpose", x.args[1]), v.args[0] if is_op(v, "transpose") else v)
    left, rest = x.args[0], x.args[1]
    while is_op(left, "matmul") and not left.primal and left.ndim == 2 and left.args[1].ndim == 2:   # (L M) N
        rest = call("matmul", left.args[1], rest)
        left = left.args[0]
    return s, (left, rest), (x.args[0], x.args[1])


def _common_factors(out: list) -> list:
    """A L + B L = (A + B) L and L A + L B = L (A + B): Aᵀ x + A x is (Aᵀ + A) x, -Xᵀ y + Xᵀ s is Xᵀ (s - y).
    (Not for a row or column factor: a row distributes over a sum, the closed forms' vec(X)ᵀ (A + B).)"""
    out = list(out)
    changed = True
    while changed and len(out) > 1:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                pi, pj = _product_ends(out[i]), _product_ends(out[j])
                if pi is None or pj is None:
                    continue
                (si, (li, ri), (ai, bi)), (sj, (lj, rj), (aj, bj)) = pi, pj
                try:
                    outer = _outer_sum(si, ai, bi, sj, aj, bj)
                    if outer is not None:                       # u bᵀ + v bᵀ = (u + v) bᵀ, a uᵀ + a vᵀ = a (u + v)ᵀ
                        combined = outer
                    elif bi.key == bj.key and ai.shape == aj.shape and not is_op(bi, "row", "col"):
                        combined = make("matmul", make("add", times(si, ai), times(sj, aj)), bi)
                    elif li.key == lj.key and ri.shape == rj.shape and not is_op(li, "row", "col"):
                        combined = make("matmul", li, make("add", times(si, ri), times(sj, rj)))
                    else:
                        continue
                except ShapeError:                  # (a regrouping the shapes do not allow: left as it is)
                    continue
                if combined.shape != out[i].shape:
                    continue
                out[i] = combined
                del out[j]
                changed = True
                break
            if changed:
                break
    return out


def _outer_sum(si, ai, bi, sj, aj, bj) -> Node | None:
    """Two outer products col(u) row(b) sharing a factor, as one."""
    if not (is_op(ai, "col") and is_op(aj, "col") and is_op(bi, "row") and is_op(bj, "row")):
        return None
    (u, b), (v, c) = (ai.args[0], bi.args[0]), (aj.args[0], bj.args[0])
    if b.key == c.key and u.shape == v.shape:
        return make("matmul", make("col", make("add", times(si, u), times(sj, v))), bi)
    if u.key == v.key and b.shape == c.shape and si is None and sj is None:
        return make("matmul", ai, make("row", make("add", b, c)))
    return None


def _scaled(c: Fraction, x: Node) -> Node:
    return x if c == 1 else make("mul", const(c), x)


def _as_view(key, v: Node) -> Node:
    kind, _, order = key
    s, x = split_scalar(v) if v.ndim > 0 else (None, v)
    inner = x if order is None else make("vec", x, order=order)
    return times(s, make(kind, inner))


def _degree(t: Node) -> int | None:
    """The power of the left factor of a Kronecker term (I: 0, X or Xᵀ: 1, X²: 2), None for other terms."""
    _, t = split_scalar(t)
    if not is_op(t, "kron"):
        return None
    f = t.args[0]
    while is_op(f, "transpose"):
        f = f.args[0]
    return 0 if is_op(f, "eye") else f.params["k"] if is_op(f, "matpow") else 1


def _by_degree(out: list) -> list:
    """A sum of Kronecker products ordered by the degree of their left factors, as the Cookbook writes d(Xᵏ):
    I ⊗ X + Xᵀ ⊗ I column-major, I ⊗ Xᵀ + X ⊗ I row-major."""
    degrees = [_degree(t) for t in out]
    if len(out) < 2 or None in degrees:
        return out
    return [t for _, t in sorted(zip(degrees, out), key=lambda p: p[0])]


def _embedding(t: Node):
    """(start, stop, X) for a term E X with E the transpose of rows start:stop of an identity; else None."""
    s, t = split_scalar(t)
    if s is not None:
        inner = _embedding(t)
        return None if inner is None else (inner[0], inner[1], make("mul", s, inner[2]))
    x = None
    if is_op(t, "matmul") and not t.primal:
        t, x = t.args
    if not (is_op(t, "transpose") and is_op(t.args[0], "index") and is_op(t.args[0].args[0], "eye")):
        return None
    (key,) = t.args[0].params["key"]
    n = t.args[0].args[0].params["n"]
    if not isinstance(key, slice):
        return None
    start, stop, step = key.indices(n)
    if step != 1:
        return None
    return start, stop, (maps.eye(stop - start) if x is None else x)


def _stacked(out: list, shape) -> Node | None:
    """Σ Eᵢ Xᵢ with embeddings Eᵢ of consecutive rows: the Xᵢ one above the other (zeros between)."""
    if len(out) < 2 or len(shape) != 2:
        return None
    parts = [_embedding(t) for t in out]
    if any(p is None for p in parts):
        return None
    parts.sort(key=lambda p: p[0])
    blocks, at = [], 0
    for start, stop, x in parts:
        if start < at:
            return None
        if start > at:
            blocks.append(maps.zeros(start - at, shape[1]))
        blocks.append(x)
        at = stop
    if at < shape[0]:
        blocks.append(maps.zeros(shape[0] - at, shape[1]))
    return make("vstack", *blocks)


# --- the operations ----------------------------------------------------------------------------------------------

def _linear_jvp(sign_b: int):
    def jvp(node, tangents):
        da, db = tangents
        if da is None and db is None:
            return None
        if db is None:
            return _plus_zeros(da, node)
        if da is None:
            return _plus_zeros(db if sign_b > 0 else -db, node)
        return da + db if sign_b > 0 else da - db
    return jvp


def _sum_linop(node, read, sign: float):
    """A sum of maps (of one shape; a broadcasting sum is a value, read densely)."""
    a, b = node.args
    if not (a.shape == b.shape == node.shape and node.ndim == 2):
        return None
    B = read.map(b)
    return read.map(a) + (B if sign == 1 else B.scaled(sign))


def _broadcast_map(sign: int):
    def linear(node, i, order):
        B = maps.broadcast(node.args[i].shape, node.shape, order)
        return B if sign > 0 or i == 0 else -B
    return linear


def _show_neg(p, node):
    return negation(p, node.args[0])


register(Op("neg", lambda shapes, **_: shapes[0], lambda node, x: -x,
            jvp=lambda node, t: None if t[0] is None else -t[0],
            linear=lambda node, i, order: -maps.eye(max(1, node.size)),
            rewrite=(_neg_rule,), as_linop=lambda node, read: read.map(node.args[0]).scaled(-1.0),
            show=Show(mc=_show_neg, uni=_show_neg, tex=_show_neg),
            example=("-A", "A=2x2"), operator="-a", help="negation", family="arithmetic"),
         spelled=("negative",), help="-a, as numpy.negative")
register(Op("add", broadcast_infer("'+'"), lifted(np.add), jvp=_linear_jvp(1), linear=_broadcast_map(1),
            rewrite=(_add_rules,), as_linop=lambda node, read: _sum_linop(node, read, 1.0),
            show=Show(mc=lambda p, node: _sum_terms(p, node, "+"), uni=lambda p, node: _sum_terms(p, node, "+"),
                      tex=lambda p, node: _sum_terms(p, node, "+")),
            poly=poly_sum(), example=("A + b", "A=2x3,b=3"), operator="a + b", commutative=True,
            help="element-wise, with numpy broadcasting", family="arithmetic"),
         spelled=("add",), operands=2, help="a + b, as numpy.add")
register(Op("sub", broadcast_infer("'-'"), lifted(np.subtract), jvp=_linear_jvp(-1), linear=_broadcast_map(-1),
            rewrite=(_sub_rule,),
            as_linop=lambda node, read: _sum_linop(node, read, -1.0),
            show=Show(mc=lambda p, node: _sum_terms(p, node, "-"), uni=lambda p, node: _sum_terms(p, node, "-"),
                      tex=lambda p, node: _sum_terms(p, node, "-")),
            poly=poly_sum(), example=("A - B", "A=2x2,B=2x2"), operator="a - b",
            help="element-wise, with numpy broadcasting", family="arithmetic"),
         spelled=("subtract",), operands=2, help="a - b, as numpy.subtract")


def _mul_linear(node, i, order):
    return scaled(node.args[1 - i], node.args[i], node, order)


def _mul_linop(node, read):
    a, b = node.args
    if a.ndim == 0:
        return read.map(b).scaled(float(read.value(a)))
    return None


def _bilinear_jvp(node, tangents):
    da, db = tangents
    a, b = node.args
    parts = [call(node.op.name, da, b, **node.params) if da is not None else None,
             call(node.op.name, a, db, **node.params) if db is not None else None]
    parts = [q for q in parts if q is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


register(Op("mul", broadcast_infer("'*'"), lifted(np.multiply), jvp=_bilinear_jvp, linear=_mul_linear,
            rewrite=(_mul_rules,), as_linop=_mul_linop, poly=poly_product(), commutative=True,
            show=Show(mc=_show_mul, uni=_show_mul, tex=_show_mul, prec=PRODUCT),
            example=("x * y", "x=3,y=3"), operator="a * b", help="element-wise, with numpy broadcasting",
            family="arithmetic"), spelled=("multiply",), operands=2, help="a * b, as numpy.multiply")


def _div_domain(node, a, b):
    bb = real(b)
    if np.any(bb == 0):
        return f"division by zero: the divisor is {first_bad(bb == 0, b, node.args[1].shape)}"
    return None


def _div_jvp(node, tangents):
    da, db = tangents
    a, b = node.args
    parts = []
    if da is not None:
        parts.append(da / b)
    if db is not None:
        parts.append(-(db / b ** 2) if is_number(a, 1) else -(a * db / b ** 2))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def _div_poly(S, node, a, b):
    """By nonzero numbers only (a polynomial divided by a symbol is none)."""
    from fractions import Fraction

    if not all(isinstance(e, (int, Fraction)) and e for e in b.flat):
        return None
    return S.computed(node.op.fwd, node, a, b)


def _div_poly_cost(S, node, a, b):
    if b.degree > 0:
        return None
    return S.size(a.terms, a.degree), node.size * a.terms * S.C_TERM


register(Op("div", broadcast_infer("'/'"), lifted(np.divide), jvp=_div_jvp,
            linear=lambda node, i, order: scaled(1 / node.args[1], node.args[0], node, order) if i == 0 else None,
            rewrite=(_div_rules,), domain=_div_domain, poly=PolyRule(_div_poly, _div_poly_cost),
            show=Show(mc=_show_div, uni=_show_div, tex=_show_div),
            example=("x / y", "x=3,y=3"), operator="a / b", help="element-wise, with numpy broadcasting",
            family="arithmetic"), spelled=("divide", "true_divide"), operands=2, help="a / b, as numpy.divide")


def _pow_domain(node, a, b):
    if np.ndim(b) == 0 and float(np.real(b)).is_integer() and np.real(b) >= 0:   # (x**2: every base, and at
        return None                                                                   # once, at every call)
    nd = len(node.shape)
    a = lift(a, len(node.args[0].shape), nd)
    b = lift(b, len(node.args[1].shape), nd)
    ar, br = real(a), real(b)
    bad = (ar < 0) & (br != np.round(br))
    if np.any(bad):
        return f"a negative base to a non-integer power: base {first_bad(bad, a, node.shape)}"
    bad = (ar == 0) & (br < 0)
    if np.any(bad):
        return f"zero to a negative power: base {first_bad(bad, a, node.shape)}"
    return None


def _plain(c: Const) -> bool:
    """A constant written as a number (2, 0.5, 1e-3; not π): its arithmetic is worked out."""
    return number(c) is not None


def _alike(v: float, written: Const) -> Const:
    """A number computed from one the user wrote, written the same way: decimals stay decimals (0.5 → -0.5),
    fractions fractions."""
    return Const(v, number_text(v)) if written.text and not number(written).denominator == 1 else const(v)


def _power_jvp(node, tangents):
    da, db = tangents
    a, b = node.args
    parts = []
    if da is not None:
        if isinstance(b, Const) and b.ndim == 0:
            if float(b.value) != 0:                   # x**0 is constant, also at x = 0
                c = float(b.value)
                if _plain(b):                          # the numbers worked out: 2x, 3x², 0.5 x^(-0.5)
                    k, c_ = _alike(c - 1, b), _alike(c, b)
                    factor = c_ if c - 1 == 0 else c_ * a if c - 1 == 1 else c_ * a ** k
                else:                                  # as written: π x^(π - 1)
                    factor = b * a ** (b - 1)
                parts.append(da if c == 1 else factor * da)
        else:
            parts.append(b * a ** (b - 1) * da)
    if db is not None:
        parts.append(call("ylog", node, a) * db)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def whole_exponent(node: Node) -> int | None:
    """The exponent of a power as one whole number ≥ 0, where it is one (else None): a polynomial stays one."""
    e = node.args[1]
    if not isinstance(e, Const) or e.value.size == 0:
        return None
    values = np.unique(e.value)
    if values.size != 1 or not float(values[0]).is_integer() or values[0] < 0:
        return None
    return int(values[0])


register(Op("power", broadcast_infer("'**'"), lifted(np.power), jvp=_power_jvp, rewrite=(_power_rules,),
            domain=_pow_domain, poly=poly_power(whole_exponent),
            show=Show(mc=lambda p, node: show_power(p, *node.args), uni=lambda p, node: show_power(p, *node.args),
                      tex=lambda p, node: show_power(p, *node.args), prec=POWER),
            example=("x ** y", "x=3,y=3"), operator="a ** b", help="element-wise power", family="arithmetic"),
         spelled=("power",), operands=2, help="a ** b, as numpy.power")


def _ylog(node, y, a):
    """y·log(a), and 0 where y is 0 (0**b has derivative 0 in b, for b > 0)."""
    yr = real(y)
    nd = len(node.shape)
    y, a = lift(y, len(node.args[0].shape), nd), lift(a, len(node.args[1].shape), nd)
    return np.where(yr == 0, 0.0, y * np.log(np.where(yr == 0, 1.0, a)))


register(Op("ylog", broadcast_infer("'*'"), _ylog, expand=lambda node: call("log", node.args[1]) * node.args[0],
            help="y·log(a), 0 where y = 0 (inside derivatives of powers)", family="arithmetic"))

