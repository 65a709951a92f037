"""Hypothesis: random compositions over random shapes agree with finite differences, in both orders and layouts."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from helpers import fd_check
from mcalc.parse import parse

UNARY = ["exp", "sin", "cos", "tanh", "sigmoid", "softplus", "arctan", "square", "-"]
DIM = st.integers(1, 3)


def var(shape):
    return "s" if not shape else ("v%d" % shape[0] if len(shape) == 1 else "M%d%d" % shape)


@st.composite
def expr_of(draw, shape, depth):
    """An expression string whose value has the given shape."""
    if depth <= 0 or draw(st.integers(0, 5)) == 0:
        return var(shape) if draw(st.integers(0, 6)) else ("0.5" if not shape else var(shape))
    sub = lambda s: expr_of(s, depth - 1)  # noqa: E731
    kinds = ["unary", "binary", "matmul", "broadcast"]
    if len(shape) == 2:
        kinds += ["transpose"] + (["square"] if shape[0] == shape[1] else []) + ["outer"]
    if len(shape) <= 1:
        kinds += ["sum", "index", "stack"]
    if len(shape) == 1:
        kinds += ["softmax"]
    if not shape:
        kinds += ["det", "logsumexp", "dot"]
    kind = draw(st.sampled_from(kinds))
    if kind == "unary":
        f = draw(st.sampled_from(UNARY))
        inner = draw(sub(shape))
        if f == "exp":                                       # damped, so that exp(exp(exp(x))) stays tame
            return f"exp(0.5*{inner})"
        return f"-({inner})" if f == "-" else f"{f}({inner})"
    if kind == "binary":
        op = draw(st.sampled_from(["+", "-", "*"]))
        return f"({draw(sub(shape))} {op} {draw(sub(shape))})"
    if kind == "broadcast":                                  # a smaller operand broadcast against this shape
        small = draw(st.sampled_from([(), shape[1:], (shape[0], 1) if len(shape) == 2 else shape]))
        op = draw(st.sampled_from(["+", "*", "-"]))
        a, b = draw(sub(shape)), draw(sub(small))
        return f"({a} {op} {b})" if draw(st.booleans()) else f"({b} {op} {a})"
    if kind == "matmul":
        q = draw(DIM)
        left = (shape[0], q) if len(shape) >= 1 else (q,)
        right = (q, shape[-1]) if len(shape) == 2 else (q,)
        if len(shape) == 1 and draw(st.booleans()):        # vector @ matrix
            left, right = (q,), (q, shape[0])
        return f"({draw(sub(left))} @ {draw(sub(right))})"
    if kind == "transpose":
        inner = draw(sub((shape[1], shape[0])))
        return f"({inner})'" if draw(st.booleans()) else f"({inner}).T"
    if kind == "square":
        return f"({draw(sub(shape))})^2"
    if kind == "outer":
        return f"outer({draw(sub(shape[:1]))}, {draw(sub(shape[1:]))})"
    if kind == "sum":
        if not shape:
            return f"sum({draw(sub((draw(DIM), draw(DIM))))})"
        return f"sum({draw(sub((draw(DIM), shape[0])))}, axis=0)"
    if kind == "index":
        k = draw(DIM)
        if not shape:
            return f"({draw(sub((k,)))})[{draw(st.integers(0, k - 1))}]"
        return f"({draw(sub((k, shape[0])))})[{draw(st.integers(0, k - 1))}]"
    if kind == "stack":
        if not shape:
            return f"({draw(sub((2,)))})[1]"
        return "[" + ", ".join(draw(sub(())) for _ in range(shape[0])) + "]"
    if kind == "softmax":
        return f"softmax({draw(sub(shape))})"
    if kind == "det":
        k = draw(DIM)
        return f"det({draw(sub((k, k)))})"
    if kind == "logsumexp":
        return f"logsumexp({draw(sub((draw(DIM),)))})"
    if kind == "dot":
        k = draw(DIM)
        return f"dot({draw(sub((k,)))}, {draw(sub((k,)))})"
    raise AssertionError(kind)


@st.composite
def problems(draw):
    shape = draw(st.sampled_from([(), (2,), (3,), (2, 2), (2, 3), (1, 3), (3, 1)]))
    text = draw(expr_of(shape, draw(st.integers(1, 4))))
    names = parse(text).variables()
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    values = {}
    for name in names:
        shp = () if name == "s" else (int(name[1]),) if name[0] == "v" else (int(name[1]), int(name[2]))
        values[name] = rng.normal(scale=0.6, size=shp)
    return text, values


@given(problems(), st.sampled_from(["row", "col"]), st.sampled_from(["numerator", "denominator"]))
def test_random_compositions_agree_with_the_complex_step(problem, order, layout):
    text, values = problem
    if not values:
        return
    fd_check(text, values=values, order=order, layout=layout, method="complex", tol=1e-9)


@given(problems())
def test_random_compositions_agree_with_richardson(problem):
    text, values = problem
    if not values:
        return
    fd_check(text, values=values, method="richardson", tol=1e-6)
