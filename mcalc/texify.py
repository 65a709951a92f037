"""Expressions of the language as LaTeX, from their syntax tree: A@B → A\\,B, inv(A) → A^{-1}, x**2 → x^{2},
A.T → A^\\top, exp(x) → \\exp(x), kron(A, B) → A \\otimes B, eye(2) → I_{2}, dX → \\mathrm{d}X (differentials)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar

from .parse import Syn, parse

_SCALARS: ContextVar[frozenset] = ContextVar("scalars", default=frozenset())
_SCALAR_FUNCS = {"det", "logdet", "trace", "tr", "norm", "dot", "logsumexp"}


@contextmanager
def scalars(names):
    """While rendering: these variables are scalars, so a product with them is written c x, not c ⊙ x."""
    token = _SCALARS.set(frozenset(names))
    try:
        yield
    finally:
        _SCALARS.reset(token)


def _sup(t: str, sup: str) -> str:
    """A superscript, with braces when t already carries one: {A^{-1}}^\\top."""
    return f"{{{t}}}^{sup}" if "^" in t and not t.endswith("\\right)") else f"{t}^{sup}"

_FUNCS = {"exp": "\\exp", "log": "\\log", "sin": "\\sin", "cos": "\\cos", "tan": "\\tan", "sinh": "\\sinh",
          "cosh": "\\cosh", "tanh": "\\tanh", "arcsin": "\\arcsin", "arccos": "\\arccos", "arctan": "\\arctan",
          "det": "\\det", "sigmoid": "\\sigma"}
_OPERATORS = {"trace": "tr", "tr": "tr", "diag": "diag", "vec": "vec", "softmax": "softmax",
              "logsumexp": "logsumexp", "relu": "relu", "softplus": "softplus", "sum": "sum", "mean": "mean"}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "neg": 2, "**": 4, "^": 4}


def latex(text: str, differentials: tuple[str, ...] = ()) -> str:
    """LaTeX for an expression of the language; names in `differentials` (dX) are set as d X."""
    try:
        tree = parse(text).tree
    except Exception:  # noqa: BLE001 - not our syntax (a name legend): set it as text
        return f"\\text{{{text}}}"
    return _Tex(set(differentials)).go(tree)


class _Tex:
    def __init__(self, differentials):
        self.differentials = differentials

    def go(self, s: Syn) -> str:
        return getattr(self, "_" + s.kind)(s)

    def wrap(self, s: Syn, prec: int) -> str:
        t = self.go(s)
        return t if self.prec(s) >= prec else f"\\left({t}\\right)"

    @staticmethod
    def prec(s: Syn) -> int:
        if s.kind == "binop":
            return _PREC[s.value]
        return 2 if s.kind == "neg" else 5

    def _num(self, s):
        v = s.value
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"

    def _name(self, s):
        n = s.value
        if n in self.differentials:
            return f"\\mathrm{{d}}{self._name(Syn('name', 0, 0, n[1:]))}"
        if n == "pi":
            return "\\pi"
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", n)
        if m and len(m.group(1)) == 1:
            return f"{m.group(1)}_{{{m.group(2)}}}"
        return n if len(n) == 1 else f"\\mathrm{{{n}}}"

    def _neg(self, s):
        return f"-{self.wrap(s.args[0], 3)}"

    def _T(self, s):
        return _sup(self.wrap(s.args[0], 5), "\\top")

    def scalar(self, s: Syn) -> bool:
        """Whether an operand is surely a scalar: a number, a scalar variable, det(...), a product of those."""
        if s.kind == "num" or s.kind == "name" and (s.value in _SCALARS.get() or s.value in ("pi", "e")):
            return True
        if s.kind == "call":
            return s.value in _SCALAR_FUNCS or s.value in ("sum", "mean") and not s.kwargs and len(s.args) == 1 \
                or s.value in _FUNCS and all(self.scalar(a) for a in s.args)
        if s.kind == "neg":
            return self.scalar(s.args[0])
        if s.kind == "binop" and s.value in "+-*/**^":
            return all(self.scalar(a) for a in s.args)
        return False

    def _index(self, s):
        def one(k):
            if isinstance(k, slice):
                return ":".join("" if v is None else str(v) for v in (k.start, k.stop)) + (
                    f":{k.step}" if k.step is not None else "")
            return str(k)
        return f"{self.wrap(s.args[0], 5)}_{{[{','.join(one(k) for k in s.value)}]}}"

    def _list(self, s):
        if all(a.kind == "list" for a in s.args):
            rows = [" & ".join(self.go(e) for e in row.args) for row in s.args]
        else:
            rows = [self.go(e) for e in s.args]
        return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"

    def _binop(self, s):
        a, b = s.args
        op = s.value
        p = _PREC[op]
        if op in ("**", "^"):
            return _sup(self.wrap(a, 5), f"{{{self.go(b)}}}")
        if op == "/":
            return f"\\frac{{{self.go(a)}}}{{{self.go(b)}}}"
        left, right = self.wrap(a, p), self.wrap(b, p + (op in "-/@*"))
        if op == "@":
            return f"{left}\\,{right}"
        if op == "*":
            return f"{left}\\,{right}" if self.scalar(a) or self.scalar(b) else f"{left} \\odot {right}"
        return f"{left} {op} {right}"

    def _call(self, s):
        name, args = s.value, s.args
        x = [self.go(a) for a in args]
        if name == "inv":
            return _sup(self.wrap(args[0], 5), "{-1}")
        if name in ("transpose",):
            return _sup(self.wrap(args[0], 5), "\\top")
        if name == "square":
            return _sup(self.wrap(args[0], 5), "{2}")
        if name == "sqrt":
            return f"\\sqrt{{{x[0]}}}"
        if name == "abs":
            return f"\\left\\lvert {x[0]} \\right\\rvert"
        if name == "norm":
            return f"\\left\\lVert {x[0]} \\right\\rVert"
        if name == "logdet":
            return f"\\log\\left\\lvert\\det {self.wrap(args[0], 5)}\\right\\rvert"
        if name == "kron":
            return f"{self.wrap(args[0], 3)} \\otimes {self.wrap(args[1], 3)}"
        if name == "outer":
            return f"{self.wrap(args[0], 5)}\\,{self.wrap(args[1], 5)}^\\top"
        if name == "dot":
            return f"{self.wrap(args[0], 5)}^\\top {self.wrap(args[1], 5)}"
        if name == "eye":
            return f"I_{{{x[0]}}}"
        if name in ("ones", "zeros"):
            sym = "\\mathbf{1}" if name == "ones" else "\\mathbf{0}"
            times = " \\times "
            return f"{sym}_{{{times.join(x)}}}"
        if name == "col":
            return x[0]
        if name == "row":
            return _sup(self.wrap(args[0], 5), "\\top")
        if name == "commutation":
            return f"K_{{{x[0]},{x[1]}}}"
        if name in ("hstack", "vstack"):
            sep = " & " if name == "hstack" else " \\\\ "
            return "\\begin{bmatrix} " + sep.join(x) + " \\end{bmatrix}"
        head = _FUNCS.get(name) or f"\\operatorname{{{_OPERATORS.get(name, name)}}}"
        keywords = [f"\\text{{{k}}}={self.go(v)}" for k, v in s.kwargs.items()]
        return f"{head}\\left({', '.join(x + keywords)}\\right)"
