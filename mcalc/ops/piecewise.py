"""Piecewise functions: comparisons as 0/1 masks, the Heaviside step, maximum and minimum, where and clip.

Comparisons and the step are flat: their derivative is 0 wherever they have one, and they pass no derivative on,
so that (x > 0) * x and where(x > 0, x, 0.1 * x) differentiate through their branches only.  At a tie, maximum,
minimum and clip share the derivative equally between the tied arguments, as JAX does: in the differentials this
is the Heaviside step H with H(0) = 1/2, d maximum(a, b) = H(a - b) ⊙ da + H(b - a) ⊙ db (SymPy's derivative of
Max).  Ties are kinks: default values avoid them, and finite differences report them.
"""

from __future__ import annotations

import numpy as np

from ..algebra import is_number
from ..printing import CALL, SUM
from ..tree import Node, call
from .core import Op, Show, broadcast_infer, entry_text, lift, lifted, real, register, times, total


def _objects(f):
    """An element-wise SymPy counterpart over broadcast object arrays."""
    def sympy(sp, node, *values):
        return np.vectorize(lambda *xs: f(sp, *xs), otypes=[object])(*values)
    return sympy


def difference(a: Node, b: Node) -> Node:
    """a - b, without a zero term (x - 0 is x)."""
    if is_number(b, 0):
        return a
    return -b if is_number(a, 0) else a - b


def _difference_kink(node, a, b):
    return np.subtract(real(a), real(b))


# --- comparisons ---------------------------------------------------------------------------------------------

_COMPARISONS = [   # name, Python, Unicode, LaTeX, numpy, SymPy, the complement
    ("greater", ">", ">", ">", np.greater, "Gt", "less_equal"),
    ("less", "<", "<", "<", np.less, "Lt", "greater_equal"),
    ("greater_equal", ">=", "≥", "\\geq", np.greater_equal, "Ge", "less"),
    ("less_equal", "<=", "≤", "\\leq", np.less_equal, "Le", "greater"),
    ("equal", "==", "=", "=", np.equal, "Eq", "not_equal"),
    ("not_equal", "!=", "≠", "\\neq", np.not_equal, "Ne", "equal"),
]
COMPLEMENT = {name: other for name, *_, other in _COMPARISONS}


def _show_comparison(symbol, brackets=None):
    def show(p, node):
        a, b = (p(x, SUM) for x in node.args)
        if brackets is None:
            return f"{a} {symbol} {b}", 0                   # binds looser than arithmetic, as in Python
        return f"{brackets[0]}{a} {symbol} {b}{brackets[1]}", CALL      # the Iverson bracket [a > b]
    return show


for _name, _py, _uni, _tex, _f, _rel, _ in _COMPARISONS:
    register(Op(_name, broadcast_infer(f"'{_py}'"),
                lifted(lambda a, b, f=_f: f(real(a), real(b)).astype(float)), flat=True, kink=_difference_kink,
                sympy=_objects(lambda sp, a, b, rel=_rel: sp.Piecewise((1, getattr(sp, rel)(a, b)), (0, True))),
                show=Show(mc=_show_comparison(_py), uni=_show_comparison(_uni, "[]"),
                          tex=_show_comparison(_tex, ("\\left[", "\\right]"))),
                example=(f"(x {_py} y) * x", "x=3,y=3"), operator=f"a {_py} b", analytic=False,
                help=f"1 where a {_py} b, else 0 (derivative 0)", note="a jump where a = b", family="piecewise"),
             spelled=(_name,), operands=2, help=f"a {_py} b as a 0/1 mask, as numpy.{_name}")


def mask(c: Node, true: bool = True) -> Node:
    """[c] (where c holds, as numpy's where reads it: nonzero) or [not c]: a comparison or its complement."""
    if c.op is not None and c.op.name in COMPLEMENT:
        return c if true else call(COMPLEMENT[c.op.name], *c.args)
    return call("not_equal" if true else "equal", c, 0.0)


# --- the Heaviside step, maximum, minimum, clip ----------------------------------------------------------------

def _show_heaviside(p, node):
    x, h0 = node.args
    if is_number(h0, 0.5):                                  # H, with H(0) = 1/2
        return (f"H\\left({p(x)}\\right)" if p.notation == "tex" else f"H({p(x)})"), CALL
    return p.call(node), CALL


register(Op("heaviside", broadcast_infer("heaviside"), lifted(lambda x, h: np.heaviside(real(x), real(h))),
            flat=True, kink=lambda node, x, h: real(x), analytic=False,
            sympy=_objects(lambda sp, x, h: sp.Heaviside(x, h)),
            show=Show(uni=_show_heaviside, tex=_show_heaviside),
            example=("x * heaviside(x, 0.5)", "x=3"), note="a jump at x = 0, where it is h0",
            help="the step: 0 for x < 0, h0 at 0, 1 for x > 0 (derivative 0)", family="piecewise"),
         spelled=("heaviside",), operands=2, help="heaviside(x, h0): 0 below 0, h0 at 0, 1 above (numpy.heaviside)")


def share(a: Node, b: Node) -> Node:
    """H(a - b): 1 where a > b, 1/2 at a tie, 0 where a < b: a's share of the derivative of maximum(a, b)."""
    return call("heaviside", difference(a, b), 0.5)


def _extremum_fwd(greater: bool):
    def f(a, b):
        pick = real(a) >= real(b) if greater else real(a) <= real(b)
        return np.where(pick, a, b)
    return lifted(f)


def _extremum_jvp(greater: bool):
    def jvp(node, tangents):
        a, b = node.args
        da, db = tangents
        if not greater:                                     # minimum(a, b): a's share is H(b - a)
            a, b = b, a
        return total([times(share(a, b), da, node), times(share(b, a), db, node)])
    return jvp


for _name, _greater, _sp, _alias in (("maximum", True, "Max", "fmax"), ("minimum", False, "Min", "fmin")):
    register(Op(_name, broadcast_infer(_name), _extremum_fwd(_greater), jvp=_extremum_jvp(_greater),
                kink=_difference_kink, analytic=False, sympy=_objects(lambda sp, a, b, f=_sp: getattr(sp, f)(a, b)),
                example=(f"{_name}(x, y)", "x=3,y=3"), note="a tie shares the derivative equally",
                help=f"element-wise {_name} of two arrays, with broadcasting", family="piecewise"),
             spelled=(_name, _alias), operands=2,
             help=f"element-wise {_name} (numpy.{_name}); ties share the derivative equally, as in JAX")


def _where_fwd(node, c, a, b):
    nd = node.ndim
    c, a, b = (lift(v, x.ndim, nd) for v, x in zip((c, a, b), node.args))
    return np.where(real(c) != 0, a, b)


def _where_jvp(node, tangents):
    c, _, _ = node.args
    _, da, db = tangents
    return total([times(mask(c), da, node), times(mask(c, False), db, node)])


def _where_sympy(sp, node, c, a, b):
    return np.vectorize(lambda ci, ai, bi: sp.Piecewise((ai, sp.Ne(ci, 0)), (bi, True)), otypes=[object])(c, a, b)


register(Op("where", broadcast_infer("where"), _where_fwd, jvp=_where_jvp, passes=(1, 2), sympy=_where_sympy,
            analytic=False, example=("where(x > 0, x, 0.1 * x)", "x=3"),
            help="a where the condition is nonzero (true), else b", family="piecewise"),
         spelled=("where",), operands=3, help="where(cond, a, b): a where cond holds, else b (numpy.where)")


def _clip_domain(node, x, lo, hi):
    nd = node.ndim
    x, lo, hi = np.broadcast_arrays(*(real(lift(v, a.ndim, nd)) for v, a in zip((x, lo, hi), node.args)))
    bad = lo >= hi
    if np.any(bad):
        at = np.flatnonzero(bad)[0]
        where = f" at {entry_text(node.shape, at % node.size)}" if node.ndim else ""
        return (f"clip needs its lower bound below its upper bound, got {lo.ravel()[at]:g} and "
                f"{hi.ravel()[at]:g}{where}")
    return None


def _clip_fwd(node, x, lo, hi):
    nd = node.ndim
    x, lo, hi = (lift(v, a.ndim, nd) for v, a in zip((x, lo, hi), node.args))
    low = np.where(real(x) >= real(lo), x, lo)
    return np.where(real(low) <= real(hi), low, hi)


def _clip_jvp(node, tangents):
    """clip(x, lo, hi) = minimum(maximum(x, lo), hi), as numpy and JAX compose it, with lo < hi."""
    x, lo, hi = node.args
    dx, dlo, dhi = tangents
    return total([times(share(x, lo) * share(hi, x), dx, node), times(share(lo, x), dlo, node),
                   times(share(x, hi), dhi, node)])


def _clip_kink(node, x, lo, hi):
    """Positive inside (lo, hi), negative outside: both kinks at once."""
    x, lo, hi = real(x), real(lo), real(hi)
    return np.minimum(x - lo, hi - x)


register(Op("clip", broadcast_infer("clip"), _clip_fwd, jvp=_clip_jvp, domain=_clip_domain, kink=_clip_kink,
            analytic=False, sympy=_objects(lambda sp, x, lo, hi: sp.Min(sp.Max(x, lo), hi)),
            example=("clip(x, lo, hi)", "x=3,lo=scalar,hi=scalar"), note="ties at the bounds share the derivative equally",
            help="x limited to [lo, hi] entry by entry", family="piecewise"),
         spelled=("clip",), methods=("clip",), operands=3, if_none={1: "minimum", 2: "maximum"},
         help="clip(x, lo, hi): x limited to [lo, hi] (numpy.clip; None for no bound); derivative 1 inside, 0 outside")
