"""Element-wise functions.  Each is one entry: its numpy function and its derivative f'(x) as an expression of the
language in x (the argument) and y (the value), from which the differential f'(x) ⊙ dx, the structured map
diag(f'(x)), the closed form and the steps of explain all follow.  Derivatives are written to stay accurate near the
edges of their domains ((1 - x)(1 + x), not 1 - x², which cancels near x = 1)."""

from __future__ import annotations

import numpy as np

from ..printing import CALL, POWER
from ..tree import fn
from .core import Interval, Op, Show, above, at_least, between, register, same_shape


def elementwise(name, f, deriv=None, *, domain: Interval | None = None, sympy=None, uni=None, tex=None,
                tex_name=None, prec=CALL, help="", note="", example=None, analytic=True, saturates=False, kink=False,
                flat=False, symbol=None, aliases=()):
    """Register an element-wise function f with derivative deriv(x, y) (a node, or a number); flat: piecewise
    constant, so that its derivative is 0 wherever it has one (sign, step)."""

    def jvp(node, tangents):
        (dx,) = tangents
        if dx is None or flat:
            return None
        return deriv(node.args[0], node) * dx

    def symbolic(sp, node, x):
        return np.vectorize(lambda v: sympy(sp, v), otypes=[object])(x)

    return register(Op(name, same_shape, lambda node, x: f(x), jvp=jvp,
                       domain=None if domain is None else domain.check(name), interval=domain,
                       show=Show(uni=uni, tex=tex, tex_name=tex_name, prec=prec), sympy=symbolic if sympy else None,
                       example=example or (f"{name}(x)", "x=3"), help=help or f"element-wise {name}", note=note,
                       analytic=analytic, saturates=saturates, kink_at_zero=kink, flat=flat, symbol=symbol,
                       family="element-wise"),
                    spelled=(name, *aliases), help=help or f"element-wise {name}")


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
elementwise("square", np.square, lambda x, y: 2 * x, sympy=lambda sp, v: v ** 2)
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
