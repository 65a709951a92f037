"""Element-wise functions.  Each is one entry: its numpy function and its derivative f'(x) as an expression of the
language in x (the argument) and y (the value), from which the differential f'(x) ⊙ dx, the structured map
diag(f'(x)), the closed form and the steps of explain all follow.  Derivatives are written to stay accurate near the
edges of their domains ((1 - x)(1 + x), not 1 - x², which cancels near x = 1)."""

from __future__ import annotations

import numpy as np

from ..printing import CALL, POWER
from ..tree import REGISTRY, Const, call, fn
from . import special
from .core import (FUNCTIONS, Fn, Interval, Op, ParamError, Show, no_symbolic, above, at_least, between, broadcast_infer, entry_text, flag, integer,
                   lift, nonzero,
                   lifted, number, poly_power, register, same_shape, times, total)


def elementwise(name, f, deriv=None, *, domain: Interval | None = None, sympy=None, uni=None, tex=None,
                tex_name=None, prec=CALL, help="", note="", example=None, analytic=True, saturates=False, kink=False,
                flat=False, symbol=None, aliases=(), literals=(), kinds=None, lead=0, show=None, poly=None):
    """Register an element-wise function f with derivative deriv(x, y) (a node, or a number); flat: piecewise
    constant, so that its derivative is 0 wherever it has one (sign, step).  literals: its parameters (leaky_relu's
    negative_slope), read by their kinds and passed to f, deriv and sympy as keywords; lead: how many of them come
    before the argument (polygamma(n, x)); poly: what it does to polynomial entries, where they stay polynomials
    (square)."""

    def jvp(node, tangents):
        (dx,) = tangents
        if dx is None or flat:
            return None
        return deriv(node.args[0], node, **node.params) * dx

    def symbolic(sp, node, x):
        return np.vectorize(lambda v: sympy(sp, v, **node.params), otypes=[object])(x)

    return register(Op(name, same_shape, lambda node, x: f(x, **node.params), jvp=jvp,
                       domain=None if domain is None else domain.check(name), interval=domain,
                       show=show or Show(uni=uni, tex=tex, tex_name=tex_name, prec=prec, kwargs=literals),
                       sympy=symbolic if sympy else None, example=example or (f"{name}(x)", "x=3"),
                       help=help or f"element-wise {name}", note=note, analytic=analytic, saturates=saturates,
                       kink_at_zero=kink, flat=flat, symbol=symbol, poly=poly, family="element-wise"),
                    spelled=(name, *aliases), help=help or f"element-wise {name}", literals=literals, kinds=kinds,
                    lead=lead)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))        # stable for large |x| and complex-analytic


def _softplus(x):
    return np.log1p(np.exp(x)) if np.iscomplexobj(x) else np.logaddexp(0.0, x)


def _kinked(name: str, value, derivative):
    """A function with a kink or a jump at 0 as a SymPy function differentiated as mcalc's rule says (SymPy's own
    sign and Abs differentiate into DiracDelta and Piecewise terms about the point 0 itself); numbers evaluate."""
    cache = {}

    def make(sp, v):
        if "f" not in cache:
            def numbers(cls, x):                  # SymPy's Function.eval hook: numbers evaluate, symbols stay
                return value(sp, x) if x.is_number else None

            cache["f"] = type(name, (sp.Function,), {"eval": classmethod(numbers),
                                                     "fdiff": lambda self, i=1: derivative(sp, self.args[0])})
        return cache["f"](v)
    return make


_step = _kinked("step", lambda sp, x: sp.Heaviside(x, 0), lambda sp, x: sp.S.Zero)
_sign = _kinked("sign", lambda sp, x: sp.sign(x), lambda sp, x: sp.S.Zero)

elementwise("exp", np.exp, lambda x, y: y, sympy=lambda sp, v: sp.exp(v), tex_name=r"\exp", saturates=True)
elementwise("log", np.log, lambda x, y: 1 / x, domain=above(0), sympy=lambda sp, v: sp.log(v), tex_name=r"\log")
elementwise("sqrt", np.sqrt, lambda x, y: 1 / (2 * y), domain=at_least(0), sympy=lambda sp, v: sp.sqrt(v),
            uni="√#", tex=r"\sqrt{#}", prec=POWER)                        # (√x)², not √x²
elementwise("sin", np.sin, lambda x, y: fn.cos(x), sympy=lambda sp, v: sp.sin(v), tex_name=r"\sin")
elementwise("cos", np.cos, lambda x, y: -fn.sin(x), sympy=lambda sp, v: sp.cos(v), tex_name=r"\cos")
elementwise("tan", np.tan, lambda x, y: 1 + y ** 2, sympy=lambda sp, v: sp.tan(v), tex_name=r"\tan")
elementwise("arcsin", np.arcsin, lambda x, y: 1 / fn.sqrt((1 - x) * (1 + x)), domain=between(-1, 1, closed=True),
            sympy=lambda sp, v: sp.asin(v), tex_name=r"\arcsin")
elementwise("arccos", np.arccos, lambda x, y: -1 / fn.sqrt((1 - x) * (1 + x)), domain=between(-1, 1, closed=True),
            sympy=lambda sp, v: sp.acos(v), tex_name=r"\arccos")
elementwise("arctan", np.arctan, lambda x, y: 1 / (1 + x ** 2), sympy=lambda sp, v: sp.atan(v), tex_name=r"\arctan")
elementwise("sinh", np.sinh, lambda x, y: fn.cosh(x), sympy=lambda sp, v: sp.sinh(v), tex_name=r"\sinh",
            saturates=True)
elementwise("cosh", np.cosh, lambda x, y: fn.sinh(x), sympy=lambda sp, v: sp.cosh(v), tex_name=r"\cosh",
            saturates=True)
elementwise("tanh", np.tanh, lambda x, y: 1 - y ** 2, sympy=lambda sp, v: sp.tanh(v), tex_name=r"\tanh",
            saturates=True)
elementwise("sigmoid", _sigmoid, lambda x, y: y * (1 - y), sympy=lambda sp, v: 1 / (1 + sp.exp(-v)), uni="σ(#)",
            tex=r"\sigma\left(#\right)", saturates=True, aliases=("expit",))
elementwise("softplus", _softplus, lambda x, y: fn.sigmoid(x), sympy=lambda sp, v: sp.log(1 + sp.exp(v)),
            saturates=True)
elementwise("square", np.square, lambda x, y: 2 * x, sympy=lambda sp, v: v ** 2, poly=poly_power(lambda node: 2))
elementwise("relu", lambda x: np.maximum(x, 0.0), lambda x, y: fn.step(x),
            sympy=_kinked("relu", lambda sp, x: sp.Max(x, 0), lambda sp, x: _step(sp, x)),
            note="0 at x = 0", analytic=False, kink=True)
elementwise("abs", np.abs, lambda x, y: fn.sign(x), sympy=_kinked("abs", lambda sp, x: sp.Abs(x), _sign),
            uni="|#|", tex=r"\left\lvert #\right\rvert", note="0 at x = 0", analytic=False, kink=True)
elementwise("sign", np.sign, sympy=_sign, help="element-wise sign: -1, 0 or 1 (the derivative of abs)",
            note="a jump at x = 0", analytic=False, kink=True, flat=True, example=("x * sign(x - 2)", "x=3"))
elementwise("step", lambda x: (x > 0).astype(float), sympy=_step, uni="[# > 0]", tex=r"\left[# > 0\right]",
            help="element-wise [x > 0], step(0) = 0 (the derivative of relu)", note="a jump at x = 0; step(0) = 0",
            analytic=False, kink=True, flat=True, example=("x * step(2 - x)", "x=3"))
elementwise("log1p", np.log1p, lambda x, y: 1 / (1 + x), domain=above(-1), sympy=lambda sp, v: sp.log(1 + v),
            tex="\\log\\left(1 + #\\right)", help="element-wise log(1 + x), accurate for small x")
elementwise("expm1", np.expm1, lambda x, y: fn.exp(x), sympy=lambda sp, v: sp.exp(v) - 1, saturates=True,
            help="element-wise exp(x) - 1, accurate for small x")
elementwise("log2", np.log2, lambda x, y: 1 / (x * fn.log(2)), domain=above(0), sympy=lambda sp, v: sp.log(v, 2),
            tex="\\log_2\\left(#\\right)")
elementwise("log10", np.log10, lambda x, y: 1 / (x * fn.log(10)), domain=above(0),
            sympy=lambda sp, v: sp.log(v, 10), tex="\\log_{10}\\left(#\\right)")
elementwise("arcsinh", np.arcsinh, lambda x, y: 1 / fn.sqrt(x ** 2 + 1), sympy=lambda sp, v: sp.asinh(v),
            tex="\\operatorname{arsinh}\\left(#\\right)")
elementwise("arccosh", np.arccosh, lambda x, y: 1 / fn.sqrt((x - 1) * (x + 1)), domain=at_least(1),
            sympy=lambda sp, v: sp.acosh(v), tex="\\operatorname{arcosh}\\left(#\\right)")
elementwise("arctanh", np.arctanh, lambda x, y: 1 / ((1 - x) * (1 + x)), domain=between(-1, 1),
            sympy=lambda sp, v: sp.atanh(v), tex="\\operatorname{artanh}\\left(#\\right)")
elementwise("exp2", np.exp2, lambda x, y: fn.log(2) * y, sympy=lambda sp, v: 2 ** v, saturates=True,
            tex="2^{#}", help="element-wise 2 ** x")
elementwise("cbrt", np.cbrt, lambda x, y: 1 / (3 * y ** 2), sympy=lambda sp, v: sp.sign(v) * sp.Abs(v) ** sp.Rational(1, 3),
            uni="∛#", tex="\\sqrt[3]{#}", prec=POWER, analytic=False, help="element-wise real cube root")
elementwise("reciprocal", np.reciprocal, lambda x, y: -(y ** 2), sympy=lambda sp, v: 1 / v,
            domain=nonzero(), help="element-wise 1 / x", example=("reciprocal(x)", "x=3"))
elementwise("deg2rad", lambda x: x * (np.pi / 180), lambda x, y: Const(np.pi, "pi") / 180, sympy=lambda sp, v: v * sp.pi / 180,
            aliases=("radians",), help="degrees to radians: x π / 180")
elementwise("rad2deg", lambda x: x * (180 / np.pi), lambda x, y: 180 / Const(np.pi, "pi"), sympy=lambda sp, v: v * 180 / sp.pi,
            aliases=("degrees",), help="radians to degrees: x 180 / π")


SMALL = 1e-3     # below it, the derivatives of sinc by their Taylor series (the formulas cancel)


def _dsinc(x):
    """sinc'(x) = (cos(πx) - sinc(x)) / x; -π²x/3 + π⁴x³/30 near 0."""
    x = np.asarray(x)
    safe = np.where(np.abs(x) < SMALL, 1.0, x)
    p2 = np.pi ** 2
    return np.where(np.abs(x) < SMALL, -p2 * x / 3 + p2 * p2 * x ** 3 / 30, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


def _d2sinc(x):
    """sinc''(x) = -π² sinc(x) - 2 sinc'(x) / x; -π²/3 + π⁴x²/10 - π⁶x⁴/168 near 0."""
    x = np.asarray(x)
    safe = np.where(np.abs(x) < SMALL, 1.0, x)
    p2 = np.pi ** 2
    return np.where(np.abs(x) < SMALL, -p2 / 3 + p2 * p2 * x ** 2 / 10 - p2 ** 3 * x ** 4 / 168,
                    -p2 * np.sinc(safe) - 2 * _dsinc(safe) / safe)


def _d3sinc_node(x, y):
    """The third derivative, -π² sinc'(x) - 2 sinc''(x) / x + 2 sinc'(x) / x², 0 at 0 (sinc'' is even)."""
    safe = call("where", call("equal", x, 0.0), 1.0, x)
    d1, d2 = call("dsinc", x), call("d2sinc", x)
    return call("where", call("equal", x, 0.0), 0.0,
                -(Const(np.pi, "pi") ** 2) * d1 - 2 * d2 / safe + 2 * d1 / (safe * safe))


def _dsinc_meaning(x):
    """sinc' in other operations, for mcalc's syntax (which reads it back): where(x == 0, 0, ...)."""
    safe = call("where", call("equal", x, 0.0), 1.0, x)
    return call("where", call("equal", x, 0.0), 0.0, (fn.cos(Const(np.pi, "pi") * x) - fn.sinc(x)) / safe)


def _d2sinc_meaning(x):
    safe = call("where", call("equal", x, 0.0), 1.0, x)
    pi2 = Const(np.pi, "pi") ** 2
    return call("where", call("equal", x, 0.0), -pi2 / 3, -pi2 * fn.sinc(x) - 2 * _dsinc_meaning(x) / safe)


def _sinc_derivative(name, f, deriv, order, label, meaning):
    """sinc's derivatives as operations of their own (used inside derivatives only), each with its derivative: so
    that the Hessian at 0 is sinc''(0) = -π²/3, not the derivative of a branch."""
    def jvp(node, tangents):
        (dx,) = tangents
        return None if dx is None else deriv(node.args[0], node) * dx

    def sympy(sp, node, x):
        t = sp.Symbol("t")
        d = sp.diff(sp.sinc(sp.pi * t), t, order)
        return np.vectorize(lambda v: d.subs(t, v), otypes=[object])(x)
    show = Show(mc=lambda p, node: p.raw(meaning(node.args[0])), uni=label + "(#)", tex=label + "(#)")
    register(Op(name, same_shape, lambda node, x: f(x), jvp=jvp, show=show,
                sympy=sympy, help=f"the derivative of sinc, {label}", family="element-wise"))


_sinc_derivative("d2sinc", _d2sinc, _d3sinc_node, 2, "sinc''", _d2sinc_meaning)
_sinc_derivative("dsinc", _dsinc, lambda x, y: call("d2sinc", x), 1, "sinc'", _dsinc_meaning)
elementwise("sinc", np.sinc, lambda x, y: call("dsinc", x), sympy=lambda sp, v: sp.sinc(sp.pi * v),
            help="element-wise sin(πx) / (πx), 1 at 0 (numpy.sinc)")
elementwise("erf", special.erf, lambda x, y: 2 / fn.sqrt(Const(np.pi, "pi")) * fn.exp(-(x ** 2)),
            sympy=lambda sp, v: sp.erf(v), analytic=False, saturates=True, help="the error function")
elementwise("erfc", special.erfc, lambda x, y: -2 / fn.sqrt(Const(np.pi, "pi")) * fn.exp(-(x ** 2)),
            sympy=lambda sp, v: sp.erfc(v), analytic=False, saturates=True, help="1 - erf(x), accurate for large x")
elementwise("gammaln", special.gammaln, lambda x, y: fn.digamma(x), sympy=lambda sp, v: sp.loggamma(v),
            domain=above(0), analytic=False, tex="\\log\\Gamma\\left(#\\right)", help="log Γ(x), for x > 0")
elementwise("digamma", lambda x: special.polygamma(0, x), lambda x, y: call("polygamma", x, n=1),
            sympy=lambda sp, v: sp.digamma(v), domain=above(0), analytic=False, uni="ψ(#)", tex="\\psi\\left(#\\right)",
            aliases=("psi",), help="ψ(x) = (log Γ)'(x), for x > 0")


def _polygamma_order(v, shapes):
    n = integer(0)(v, shapes)
    if n > special.MAX_ORDER:
        raise ParamError(f"is {n}; mcalc computes polygamma up to order {special.MAX_ORDER}")
    return n


_polygamma_order.words = "an order"


def _show_polygamma(p, node):
    n, x = node.params["n"], p(node.args[0])
    if p.notation == "mc":
        return f"polygamma({n}, {x})"
    if p.notation == "tex":
        return f"\\psi^{{({n})}}\\left({x}\\right)"
    return f"ψ⁽{p.superscript(n)}⁾({x})"


elementwise("polygamma", lambda x, n: special.polygamma(n, x), lambda x, y, n: call("polygamma", x, n=n + 1),
            sympy=lambda sp, v, n: sp.polygamma(n, v), domain=above(0), analytic=False, literals=("n",),
            kinds={"n": _polygamma_order}, lead=1,
            show=Show(mc=_show_polygamma, uni=_show_polygamma, tex=_show_polygamma),
            example=("polygamma(1, x)", "x=3"), help="ψ⁽ⁿ⁾(x), the n-th derivative of digamma, for x > 0: "
                                                     "polygamma(n, x) as scipy.special has it")
elementwise("logit", lambda x: np.log(x / (1 - x)), lambda x, y: 1 / (x * (1 - x)),
            sympy=lambda sp, v: sp.log(v / (1 - v)), domain=between(0, 1), help="log(x / (1 - x)), for 0 < x < 1")
elementwise("log_sigmoid", lambda x: -_softplus(-x), lambda x, y: fn.sigmoid(-x),
            sympy=lambda sp, v: -sp.log(1 + sp.exp(-v)), saturates=True, help="log σ(x) = -softplus(-x)")
elementwise("silu", lambda x: x * _sigmoid(x), lambda x, y: fn.sigmoid(x) * (1 + x * (1 - fn.sigmoid(x))),
            sympy=lambda sp, v: v / (1 + sp.exp(-v)), saturates=True, aliases=("swish",), help="x σ(x)")

_SQRT_2_PI = Const(np.sqrt(2 / np.pi), "sqrt(2/pi)")


def _gelu(x, approximate=None):
    if approximate:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + special.erf(x / np.sqrt(2)))


def _gelu_deriv(x, y, approximate=None):
    if approximate:
        t = fn.tanh(fn.sqrt(2 / Const(np.pi, "pi")) * (x + 0.044715 * x ** 3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * fn.sqrt(2 / Const(np.pi, "pi")) * (1 + 0.134145 * x ** 2)
    return 0.5 * (1 + fn.erf(x / fn.sqrt(2))) + x * fn.exp(-(x ** 2) / 2) / fn.sqrt(2 * Const(np.pi, "pi"))


def _gelu_sympy(sp, v, approximate=None):
    if approximate:
        return v / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (v + sp.Rational(44715, 10 ** 6) * v ** 3)))
    return v / 2 * (1 + sp.erf(v / sp.sqrt(2)))


elementwise("gelu", _gelu, _gelu_deriv, sympy=_gelu_sympy, analytic=False, literals=("approximate",),
            kinds={"approximate": flag},
            help="x Φ(x) (exact, as PyTorch's default); approximate=True: the tanh form (jax.nn.gelu's default)")
FUNCTIONS["jax.nn.gelu"] = Fn("gelu", literals=("approximate",), kinds={"approximate": flag},
                              derive=lambda shapes, given: {"approximate": given.get("approximate", True)},
                              help="jax.nn.gelu: the tanh form unless approximate=False (JAX's default)")


def _elu(x, alpha=1.0):
    return np.where(x.real > 0, x, alpha * np.expm1(np.minimum(x.real, 0) + 1j * x.imag if np.iscomplexobj(x)
                                                    else np.minimum(x, 0)))


elementwise("elu", _elu, lambda x, y, alpha=1.0: call("where", call("greater", x, 0.0), 1.0,
                                                      fn.exp(x) if alpha == 1 else alpha * fn.exp(x)),
            sympy=lambda sp, v, alpha=1.0: sp.Piecewise((v, v > 0), (alpha * (sp.exp(v) - 1), True)),
            literals=("alpha",), kinds={"alpha": number}, analytic=False, kink=True,
            help="x for x > 0, alpha (exp(x) - 1) below (alpha=1.0)")
elementwise("leaky_relu", lambda x, negative_slope=0.01: np.where(x >= 0, x, negative_slope * x),
            lambda x, y, negative_slope=0.01: call("where", call("greater_equal", x, 0.0), 1.0, negative_slope),
            sympy=lambda sp, v, negative_slope=0.01: sp.Piecewise((v, v >= 0), (negative_slope * v, True)),
            literals=("negative_slope",), kinds={"negative_slope": number}, analytic=False, kink=True,
            help="x for x ≥ 0, negative_slope x below (0.01, as jax.nn and PyTorch)")


# --- binary element-wise functions ----------------------------------------------------------------------------------

def binary(name, f, partials, sympy, help, example=None, aliases=(), kink=None):
    """A function of two arrays with broadcasting, from its partial derivatives partials(a, b, y) → (∂/∂a, ∂/∂b)."""
    def jvp(node, tangents):
        a, b = node.args
        pa, pb = partials(a, b, node)
        return total([times(pa, tangents[0], node), times(pb, tangents[1], node)])

    def symbolic(sp, node, a, b):
        return np.vectorize(lambda u, v: sympy(sp, u, v), otypes=[object])(a, b)

    return register(Op(name, broadcast_infer(name), lifted(f), jvp=jvp, sympy=sympy if getattr(sympy, "none", False)
                       else symbolic, analytic=False, kink=kink, sided=kink is None,
                       example=example or (f"{name}(x, y)", "x=3,y=3"), help=help, family="element-wise"),
                    spelled=(name, *aliases), operands=2, help=help)


def _atan2_domain(node, y, x):
    nd = node.ndim
    y, x = np.broadcast_arrays(lift(y, node.args[0].ndim, nd), lift(x, node.args[1].ndim, nd))
    bad = (y == 0) & (x == 0)
    if np.any(bad):
        return f"arctan2 is not differentiable at (0, 0){' (at ' + entry_text(node.shape, np.flatnonzero(bad)[0] % node.size) + ')' if node.ndim else ''}"
    return None


binary("arctan2", np.arctan2, lambda y, x, r: (x / (x ** 2 + y ** 2), -y / (x ** 2 + y ** 2)),
       lambda sp, y, x: sp.atan2(y, x), "the angle of (x, y): arctan2(y, x), in (-π, π]")
REGISTRY["arctan2"].domain = _atan2_domain
binary("hypot", np.hypot, lambda a, b, r: (a / r, b / r), lambda sp, a, b: sp.sqrt(a ** 2 + b ** 2),
       "√(a² + b²) without overflow")
binary("logaddexp", np.logaddexp, lambda a, b, r: (fn.sigmoid(a - b), fn.sigmoid(b - a)),
       lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b)), "log(exp(a) + exp(b)) without overflow")
binary("logaddexp2", np.logaddexp2, lambda a, b, r: (fn.sigmoid((a - b) * fn.log(2)), fn.sigmoid((b - a) * fn.log(2))),
       lambda sp, a, b: sp.log(2 ** a + 2 ** b, 2), "log₂(2^a + 2^b) without overflow")


# --- piecewise constant: derivative 0, jumps at the steps --------------------------------------------------------

def _jump_kink(f):
    """The signed distance from the nearest step of a rounding function (half-integers for rint, integers else)."""
    def kink(node, x, *_):
        x = np.real(x)
        if f is np.rint or f is np.round:
            return np.abs(x - np.floor(x) - 0.5) - 0.0
        return x - np.round(x)
    return kink


def _flat_sympy(name, f):
    """A rounding function as SymPy sees it: numbers evaluate, its derivative is 0 (SymPy's own floor does not
    differentiate to a number)."""
    make = _kinked(name, lambda sp, x: sp.Integer(int(f(float(x)))), lambda sp, x: sp.S.Zero)
    return lambda sp, node, x: np.vectorize(lambda v: make(sp, v), otypes=[object])(x)


for _name, _f, _aliases in (("floor", np.floor, ()), ("ceil", np.ceil, ()), ("trunc", np.trunc, ("fix",)),
                            ("rint", np.rint, ())):
    register(Op(_name, same_shape, lambda node, x, f=_f: f(np.real(x)), flat=True, kink=_jump_kink(_f), sided=False,
                analytic=False, sympy=_flat_sympy(_name, _f), example=(f"x * {_name}(x)", "x=3"), note="jumps at the steps",
                help=f"element-wise {_name} (derivative 0 between its steps)", family="element-wise"),
             spelled=(_name, *_aliases), help=f"element-wise {_name}: piecewise constant, derivative 0")

register(Op("round", same_shape, lambda node, x: np.round(np.real(x), node.params.get("decimals", 0)), flat=True,
            kink=lambda node, x: np.abs(np.real(x) * 10.0 ** node.params.get("decimals", 0) % 1 - 0.5),
            sided=False, analytic=False, show=Show(kwargs=("decimals",)), example=("x * round(x)", "x=3"),
            sympy=_flat_sympy("round", np.round),
            note="jumps halfway between its values", help="element-wise rounding (decimals=0; derivative 0)",
            family="element-wise"),
         spelled=("round", "around"), methods=("round",), literals=("decimals",), kinds={"decimals": integer()},
         help="element-wise numpy.round(x, decimals): piecewise constant, derivative 0")


# --- the identity under other names (for real arrays) -----------------------------------------------------------

for _name in ("fabs", "absolute"):
    FUNCTIONS[_name] = Fn("abs", help=f"numpy.{_name}: |x|")
_angle = _kinked("angle", lambda sp, x: sp.pi * sp.Heaviside(-x, 0), lambda sp, x: sp.S.Zero)
elementwise("angle", lambda x: np.angle(np.real(x)), sympy=_angle, note="a jump at x = 0",
            help="numpy.angle of a real number: 0 where x ≥ 0, π where x < 0 (derivative 0)", analytic=False, kink=True,
            flat=True, example=("x * angle(x - 2)", "x=3"))
elementwise("imag", lambda x: np.zeros(np.shape(x)), sympy=lambda sp, v: sp.S.Zero, flat=True,
            help="numpy.imag of a real array: zeros (derivative 0)", example=("x + imag(x)", "x=3"))
FUNCTIONS["float_power"] = Fn("power", operands=2, help="numpy.float_power: a ** b")


# --- binary: remainders and copysign -------------------------------------------------------------------------------

def _ratio_kink(node, a, b):
    """0 where a / b is a whole number: the remainder jumps there."""
    q = np.real(a) / np.real(b)
    d = np.abs(q - np.round(q))
    return np.where(d < 1e-9, 0.0, d)                 # (-0.6 / 0.3 is 2.0000000000000004: a whole number)


binary("mod", np.mod, lambda a, b, r: (1.0, -fn.floor(a / b)), no_symbolic("mod"),
       "a mod b with the sign of b (numpy.mod, remainder); derivative 1 in a, -floor(a/b) in b", aliases=("remainder",),
       kink=_ratio_kink)
binary("fmod", np.fmod, lambda a, b, r: (1.0, -fn.trunc(a / b)), no_symbolic("fmod"),
       "a mod b with the sign of a (numpy.fmod, C's); derivative 1 in a, -trunc(a/b) in b", kink=_ratio_kink)
binary("copysign", np.copysign, lambda a, b, r: (fn.sign(a) * fn.sign(b), 0.0),
       lambda sp, a, b: sp.Abs(a) * sp.sign(b), "|a| with the sign of b; derivative sign(a)·sign(b) in a, 0 in b")


# --- more of jax.nn's activations -------------------------------------------------------------------------------

_SELU_SCALE, _SELU_ALPHA = 1.0507009873554805, 1.6732632423543772


def _inside_mask(x, lo, hi, closed=False):
    """[lo < x < hi] as a node (the derivative of a clip between constants); closed: [lo ≤ x ≤ hi]."""
    if closed:
        return call("greater_equal", x, float(lo)) * call("less_equal", x, float(hi))
    return call("greater", x, float(lo)) * call("less", x, float(hi))


def _between_kink(lo, hi):
    def kink(node, x, *_):
        x = np.real(x)
        return np.minimum(x - lo, hi - x)
    return kink


for _name, _lo, _hi, _shift, _scale, _closed, _help in (            # at the bounds, jax.nn's derivatives
        ("relu6", 0.0, 6.0, 0.0, 1.0, False, "min(max(x, 0), 6)"),
        ("hard_tanh", -1.0, 1.0, 0.0, 1.0, True, "x limited to [-1, 1]"),
        ("hard_sigmoid", -3.0, 3.0, 3.0, 1 / 6, False, "relu6(x + 3) / 6")):
    register(Op(_name, same_shape,
                lambda node, x, lo=_lo, hi=_hi, sh=_shift, sc=_scale: (np.clip(np.real(x), lo, hi) + sh) * sc,
                jvp=lambda node, t, lo=_lo, hi=_hi, sc=_scale, c=_closed: _inside_mask(node.args[0], lo, hi, c) * t[0]
                if sc == 1 else sc * _inside_mask(node.args[0], lo, hi, c) * t[0],
                kink=_between_kink(_lo, _hi), sided=False, analytic=False, example=(f"{_name}(x)", "x=3"),
                sympy=lambda sp, node, x, lo=_lo, hi=_hi, sh=_shift, sc=_scale: np.vectorize(
                    lambda v: (sp.Min(sp.Max(v, lo), hi) + sh) * sc, otypes=[object])(x),
                help=_help, note="0 outside, kinks at the bounds", family="element-wise"),
             spelled=(_name,), help=f"{_help} (jax.nn.{_name})")

elementwise("selu", lambda x: _SELU_SCALE * np.where(np.real(x) > 0, x, _SELU_ALPHA * np.expm1(np.minimum(np.real(x), 0))),
            lambda x, y: call("where", call("greater", x, 0.0), _SELU_SCALE, _SELU_SCALE * _SELU_ALPHA * fn.exp(x)),
            sympy=lambda sp, v: _SELU_SCALE * sp.Piecewise((v, v > 0), (_SELU_ALPHA * (sp.exp(v) - 1), True)),
            analytic=False, kink=True, help="scale (x for x > 0, alpha (exp(x) - 1) below), jax.nn's constants")
elementwise("celu", lambda x, alpha=1.0: np.where(np.real(x) > 0, x, alpha * np.expm1(np.minimum(np.real(x), 0) / alpha)),
            lambda x, y, alpha=1.0: call("where", call("greater", x, 0.0), 1.0, fn.exp(x / alpha)),
            sympy=lambda sp, v, alpha=1.0: sp.Piecewise((v, v > 0), (alpha * (sp.exp(v / alpha) - 1), True)),
            literals=("alpha",), kinds={"alpha": number}, analytic=False, kink=True,
            help="x for x > 0, alpha (exp(x / alpha) - 1) below")
elementwise("softsign", lambda x: x / (1 + np.abs(x)), lambda x, y: 1 / (1 + fn.abs(x)) ** 2,
            sympy=lambda sp, v: v / (1 + sp.Abs(v)), analytic=False, aliases=("soft_sign",), help="x / (1 + |x|)")
elementwise("hard_silu", lambda x: x * np.clip(np.real(x) + 3, 0, 6) / 6,
            lambda x, y: call("hard_sigmoid", x) + x * _inside_mask(x, -3, 3) / 6,
            sympy=lambda sp, v: v * sp.Min(sp.Max(v + 3, 0), 6) / 6, analytic=False, kink=True,
            aliases=("hard_swish",), help="x hard_sigmoid(x)")
