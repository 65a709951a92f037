"""einsum with explicit (or numpy's implicit) subscripts, and the products numpy spells through it: tensordot,
inner, vdot.  The value is numpy's einsum; the differential, multilinear, is each operand's differential put in its
place, written in the language's own products (einsum('ij,jk->ik', dA, B) is dA B), so that the Jacobian keeps the
structure of a matrix product (I ⊗ Bᵀ) or of a Kronecker product where the subscripts are one.

The lowering into products works pair by pair, left to right where it can: a letter repeated in one operand is its
diagonal, a letter that no other operand and not the output has is summed, one shared letter that is summed is a
matrix product, shared letters that are kept are an element-wise product, and letters of one operand only are an
outer product.  mcalc's arrays have at most two axes, so an intermediate with three is refused.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..printing import CALL
from ..tree import Var, call, fmt_shape
from .core import FUNCTIONS, Fn, Op, ParamError, Show, poly_product, register


def parse_spec(spec, shapes) -> tuple[list[str], str]:
    """(input subscripts, output subscripts) of an einsum for operands of these shapes, numpy's rules: explicit
    '->' or implicit (the letters that appear once, in alphabetical order)."""
    if not isinstance(spec, str):
        raise ParamError(f"must be a string of subscripts like 'ij,jk->ik', got {spec!r}")
    text = spec.replace(" ", "")
    if "." in text:
        raise ParamError("with '...' is not supported: write every axis's letter")
    if text.count("->") > 1 or not set(text) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,->"):
        raise ParamError(f"{spec!r} is not a subscript string (letters, commas, one '->')")
    lhs, arrow, out = text.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ParamError(f"{spec!r} has {len(ins)} operand(s), the call {len(shapes)}")
    letters = "".join(ins)
    if not arrow:
        out = "".join(sorted(l for l in set(letters) if letters.count(l) == 1))
    sizes: dict = {}
    for s, shape in zip(ins, shapes):
        if len(s) != len(shape):
            raise ParamError(f"subscripts '{s}' name {len(s)} axes of an operand of shape {fmt_shape(shape)}",
                             shape=True)
        for letter, d in zip(s, shape):
            if sizes.setdefault(letter, d) != d:
                raise ParamError(f"letter '{letter}' stands for sizes {sizes[letter]} and {d}", shape=True)
    if len(set(out)) != len(out) or not set(out) <= set(letters):
        raise ParamError(f"output '{out}' repeats a letter or names one no operand has")
    if len(out) > 2:
        raise ParamError(f"output '{out}' has {len(out)} axes; mcalc's arrays have at most 2", shape=True)
    return ins, out


def _reduced(s: str, x, keep: set):
    """An operand with its repeated letter taken on the diagonal and the letters nobody needs summed."""
    if len(s) == 2 and s[0] == s[1]:
        x, s = call("diag", x), s[0]
    drop = [k for k, letter in enumerate(s) if letter not in keep]
    if len(drop) == len(s) and drop:
        return "", call("sum", x)
    for k in reversed(drop):
        x, s = call("sum", x, axis=k), s[:k] + s[k + 1:]
    return s, x


def _arranged(s: str, x, order: str):
    """x (letters s) broadcast against letters order: itself, its transpose, or a vector as a column."""
    if s == order or not s:
        return x
    if len(s) == 2:
        return x.T
    return x if s == order[-1] else call("col", x)


def _pair(sa, a, sb, b, need: set):
    sa, a = _reduced(sa, a, need | set(sb))
    sb, b = _reduced(sb, b, need | set(sa))
    shared = [letter for letter in sa if letter in sb]
    summed = [letter for letter in shared if letter not in need]
    letters = "".join(dict.fromkeys(sa + sb))
    if len(summed) == 1 and len(shared) == 1:                    # a matrix product (or an inner product)
        j = summed[0]
        i, k = sa.replace(j, ""), sb.replace(j, "")
        left = a if len(sa) == 1 else (a if sa == i + j else a.T)
        right = b if len(sb) == 1 else (b if sb == j + k else b.T)
        return i + k, call("matmul", left, right)
    if len(letters) > 2:
        raise ShapeError(f"an intermediate of this einsum would have {len(letters)} axes ('{letters}'); mcalc's "
                         "arrays have at most 2", hint="split the product into steps of at most two axes")
    product = call("mul", _arranged(sa, a, letters), _arranged(sb, b, letters))
    if summed and set(summed) == set(letters):                      # a full contraction: one sum
        return "", call("sum", product)
    for letter in summed:
        k = letters.index(letter)
        product = call("sum", product) if len(letters) == 1 else call("sum", product, axis=k)
        letters = letters.replace(letter, "")
    return letters, product


def lower(ins: list[str], out: str, args: list):
    """The einsum as the language's products (matmul, mul, sum, diag, transpose, col), pair by pair."""
    ops = list(zip(ins, args))
    while len(ops) > 1:
        for i in range(len(ops) - 1):
            need = set(out).union(*(set(s) for k, (s, _) in enumerate(ops) if k not in (i, i + 1)))
            try:
                merged = _pair(*ops[i], *ops[i + 1], need)
            except ShapeError:
                if i == len(ops) - 2:
                    raise
                continue
            ops[i:i + 2] = [merged]
            break
    s, x = _reduced(*ops[0], set(out))
    if s != out:
        x = x.T if len(s) == 2 else x
    return x


def _infer(shapes, subscripts="", **_):
    ins, out = parse_spec(subscripts, shapes)
    lower(ins, out, [Var(f"_{k}", s) for k, s in enumerate(shapes)])       # (refuses 3-axis intermediates)
    sizes = {letter: d for s, shape in zip(ins, shapes) for letter, d in zip(s, shape)}
    return tuple(sizes[letter] for letter in out)


def _fwd(node, *xs):
    ins, out = parse_spec(node.params["subscripts"], [a.shape for a in node.args])
    spec = ",".join("..." + s for s in ins) + "->..." + out
    return np.einsum(spec, *xs, optimize=len(xs) > 2)


def _jvp(node, tangents):
    ins, out = parse_spec(node.params["subscripts"], [a.shape for a in node.args])
    parts = [lower(ins, out, [t if k == i else a for k, a in enumerate(node.args)])
             for i, t in enumerate(tangents) if t is not None]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def _on_objects(node, *xs):
    """numpy's einsum on object arrays (SymPy's expressions, polynomials): without batch axes nor optimize."""
    ins, out = parse_spec(node.params["subscripts"], [a.shape for a in node.args])
    return np.einsum(",".join(ins) + "->" + out, *[np.asarray(x, dtype=object) for x in xs])


def _index_sizes(node) -> dict:
    ins, _ = parse_spec(node.params["subscripts"], [a.shape for a in node.args])
    sizes = {}
    for spec, a in zip(ins, node.args):
        sizes.update(zip(spec, a.shape))
    return sizes


def _summed(node) -> int:
    """The products an entry sums: the sizes of the summed indices multiplied."""
    _, out = parse_spec(node.params["subscripts"], [a.shape for a in node.args])
    return math.prod(n for i, n in _index_sizes(node).items() if i not in out)


def _show(p, node):
    args = ", ".join(p(a) for a in node.args)
    spec = node.params["subscripts"]
    if p.notation == "tex":
        return f"\\operatorname{{einsum}}\\left(\\texttt{{{spec}}}, {args}\\right)", CALL
    return f"einsum('{spec}', {args})", CALL


def _canonical(spec, shapes):
    ins, out = parse_spec(spec, shapes)
    return ",".join(ins) + "->" + out


def _subscripts(v, shapes):
    return _canonical(v, shapes)


_subscripts.words = "einsum subscripts"


def _work(node):
    """The loop numpy runs over every index once (its plain einsum): the product of all the index sizes."""
    return 10 * math.prod(_index_sizes(node).values()) * len(node.args)


register(Op("einsum", _infer, _fwd, jvp=_jvp, sympy=lambda sp, node, *xs: _on_objects(node, *xs),
            poly=poly_product(apply=_on_objects), spread=_summed, show=Show(mc=_show, uni=_show, tex=_show),
            work=_work, example=("einsum('ij,jk->ik', A, B)", "A=2x3,B=3x2"),
            help="Einstein summation over explicit (or numpy's implicit) subscripts", family="products"),
         spelled=("einsum",), operands=-1, lead=1, literals=("subscripts", "optimize"),
         kinds={"subscripts": _subscripts, "optimize": lambda v, shapes: None}, required=1,
         help="einsum('ij,jk->ik', A, B): numpy.einsum with explicit subscripts, any number of operands")


# --- tensordot, inner, vdot: einsums -------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _axes(v, shapes):
    """numpy's axes: an integer N (the last N of a, the first N of b) or a pair of axis lists."""
    nda, ndb = len(shapes[0]), len(shapes[1])
    if isinstance(v, int) and not isinstance(v, bool):
        n = int(v)
        if not 0 <= n <= min(nda, ndb):
            raise ParamError(f"{n} is more axes than the operands have", shape=True)
        return tuple(range(nda - n, nda)), tuple(range(n))
    if isinstance(v, tuple) and len(v) == 2:
        a, b = (x if isinstance(x, tuple) else (x,) for x in v)
        if len(a) != len(b) or not all(isinstance(k, int) for k in a + b):
            raise ParamError(f"must be a pair of equally long axis lists, got {v!r}")
        try:
            return tuple(k % nda for k in a), tuple(k % ndb for k in b)
        except ZeroDivisionError:
            raise ParamError("names an axis of a scalar", shape=True) from None
    raise ParamError(f"must be an integer or a pair of axis lists like ([1], [0]), got {v!r}")


def _tensordot(shapes, given):
    ax_a, ax_b = _axes(given.get("axes", 2), shapes)
    for i, j in zip(ax_a, ax_b):
        if shapes[0][i] != shapes[1][j]:
            raise ParamError(f"sums axis {i} of a (size {shapes[0][i]}) against axis {j} of b (size "
                             f"{shapes[1][j]})", shape=True)
    a = _LETTERS[:len(shapes[0])]
    b = list(_LETTERS[len(a):len(a) + len(shapes[1])])
    for i, j in zip(ax_a, ax_b):
        b[j] = a[i]
    b = "".join(b)
    out = "".join(letter for k, letter in enumerate(a) if k not in ax_a) + \
        "".join(letter for k, letter in enumerate(b) if k not in ax_b)
    return {"subscripts": _canonical(f"{a},{b}->{out}", shapes), "axes": None}


def _inner(shapes, given):
    a, b = _LETTERS[:len(shapes[0])], _LETTERS[10:10 + len(shapes[1])]
    if a and b:
        b = b[:-1] + a[-1]
    out = a[:-1] + b[:-1] if a and b else a + b
    return {"subscripts": _canonical(f"{a},{b}->{out}", shapes)}


def _vdot(shapes, given):
    if tuple(shapes[0]) != tuple(shapes[1]):
        raise ParamError(f"of shapes {fmt_shape(shapes[0])} and {fmt_shape(shapes[1])}: mcalc's vdot needs one "
                         "shape", shape=True, hint="reshape one of them, or write sum(a * b)")
    s = _LETTERS[:len(shapes[0])]
    return {"subscripts": _canonical(f"{s},{s}->", shapes)}


FUNCTIONS["tensordot"] = Fn("einsum", operands=2, literals=("axes",), kinds={"axes": lambda v, shapes: v},
                            derive=_tensordot, help="numpy.tensordot(a, b, axes=2): sums over the given axes")
FUNCTIONS["inner"] = Fn("einsum", operands=2, derive=_inner, help="numpy.inner: sums over the last axes")
FUNCTIONS["vdot"] = Fn("einsum", operands=2, derive=_vdot, help="numpy.vdot: the sum of the entrywise products")
