"""Expressions of the language as a mathematician writes them, from their syntax tree, in two notations:

    language     A@B     x*y     2*x    x**2   inv(A)   A.T    kron(A, B)   dX (a differential)
    unicode      A B     x ⊙ y   2x     x²     A⁻¹      Aᵀ     A ⊗ B        dX
    latex        A\\,B    x \\odot y  2\\,x  x^{2}  A^{-1}  A^\\top  A \\otimes B   \\mathrm{d}X

A product is written by juxtaposition when it is a matrix product or a product with a scalar, and with ⊙ when it
is element-wise.  An element-wise power of a matrix is a Hadamard power (X∘², X^{∘2}), since X² is the matrix
power X^2; a vector's is x² as usual.  What is a scalar, a vector or a matrix comes from the numbers of dimensions
given in `dims(...)`, and the shapes of what is built from them."""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar

from .ops import key_text
from .parse import Syn, parse

_DIMS: ContextVar[dict] = ContextVar("dims", default={})
_SCALAR_FUNCS = {"det", "logdet", "trace", "tr", "norm", "dot", "logsumexp"}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "neg": 2, "**": 4, "^": 4}
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ"
_SINGLE = re.compile(r"[A-Za-z][₀-₉]*[⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ∘]*")      # after a number without a space: 2x, 3x∘²


@contextmanager
def dims(ndims: dict):
    """While rendering: the number of dimensions of these names (0 for a scalar), so that a product with a scalar
    is written c x, not c ⊙ x, and a vector's square x², where a matrix's element-wise square is X∘²."""
    token = _DIMS.set(dict(ndims))
    try:
        yield
    finally:
        _DIMS.reset(token)


def sub(n) -> str:
    """n as subscript digits: I₂."""
    return str(n).translate(_SUB)


def ascii_name(name: str) -> str:
    """A name as the language spells it: y₂ → y2 (which the notations set as y₂ and y_{2} again)."""
    return name.translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))


def latex(text: str, differentials: tuple[str, ...] = ()) -> str:
    """LaTeX for an expression of the language; names in `differentials` (dX) are set as d X."""
    try:
        tree = parse(text).tree
    except Exception:  # noqa: BLE001 - not our syntax (a name legend): set it as text
        return f"\\text{{{text}}}"
    return _Tex(set(differentials)).go(tree)


def unicode(text: str) -> str:
    """An expression of the language as the terminal shows it (x**2 → x², A@B → A B, x*y → x ⊙ y)."""
    try:
        tree = parse(text).tree
    except Exception:  # noqa: BLE001 - not our syntax: shown as it is
        return text
    return _Unicode().go(tree)


def _number(v) -> str:
    """A number exactly as it is (the shortest text that reads back as it): 2, 0.123456789, 1e-09."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def _constant(s: Syn) -> bool:
    return s.kind == "num" or s.kind == "name" and s.value in ("pi", "e")


def _is_integer(s: Syn) -> bool:
    return s.kind == "num" and float(s.value).is_integer() and abs(s.value) < 1e6 or \
        s.kind == "neg" and _is_integer(s.args[0])


def _int_value(s: Syn) -> int:
    return -_int_value(s.args[0]) if s.kind == "neg" else int(s.value)


class _Notation:
    """What both notations share: precedence, parentheses, and which operands are surely scalars."""

    open, close = "(", ")"

    def go(self, s: Syn) -> str:
        return getattr(self, "_" + s.kind)(s)

    def wrap(self, s: Syn, prec: int) -> str:
        t = self.go(s)
        return t if self.prec(s) >= prec else f"{self.open}{t}{self.close}"

    @staticmethod
    def prec(s: Syn) -> int:
        if s.kind == "binop":
            return _PREC[s.value]
        return 2 if s.kind == "neg" else 5

    def ndim(self, s: Syn) -> int | None:
        """The number of dimensions of an operand, where it is sure (None where it is not)."""
        known = _DIMS.get()
        if s.kind == "num" or s.kind == "name" and s.value in ("pi", "e"):
            return 0
        if s.kind == "name":
            return known.get(s.value)
        if s.kind in ("neg", "T"):
            return self.ndim(s.args[0])
        if s.kind == "call" and (s.value in _SCALAR_FUNCS or s.value in ("sum", "mean") and not s.kwargs):
            return 0
        if s.kind == "call" and s.value in ("inv", "col", "row", "outer", "kron", "eye", "commutation"):
            return 2
        if s.kind == "call" and s.value == "vec":
            return 1
        if s.kind == "call" and s.value in ("diag", "softmax") and s.args:
            inner = self.ndim(s.args[0])
            return inner if s.value == "softmax" or inner is None else 3 - inner     # diag: vector ↔ matrix
        if s.kind == "call" and s.value in _ELEMENTWISE or s.kind == "binop" and s.value != "@":
            args = [self.ndim(a) for a in s.args]
            return None if None in args else max(args)
        if s.kind == "binop":
            a, b = (self.ndim(a) for a in s.args)
            return None if a is None or b is None else max(a - 1, 0) + max(b - 1, 0)
        return None

    def scalar(self, s: Syn) -> bool:
        return self.ndim(s) == 0

    def matrix(self, s: Syn) -> bool:
        """Whether an operand may be a matrix: then its element-wise square is X∘², not X²."""
        n = self.ndim(s)
        return n is None or n >= 2

    def _num(self, s):
        return _number(s.value)

    def _T(self, s):
        """Aᵀ; but x.T of a 1-D x is x itself (as in numpy), and (Aᵀ)ᵀ is A."""
        a = s.args[0]
        if self.ndim(a) == 1:
            return self.go(a)
        if a.kind == "T" or a.kind == "call" and a.value == "row":    # (Aᵀ)ᵀ = A; row(x)ᵀ is the column x
            return self.go(a.args[0])
        return self.sup(self.wrap(a, 5), self.TOP)

    def _neg(self, s):
        return f"-{self.wrap(s.args[0], 3)}"

    def vector_product(self, s: Syn) -> str | None:
        """v@M for a 1-D v is the column Mᵀv, u@v for 1-D u and v the number uᵀv (and x@A@y is xᵀAy): how a
        mathematician, whose vectors are columns, writes them.  None for other products."""
        a, b = s.args
        if self.ndim(a) != 1 or self.ndim(b) not in (1, 2):
            return None
        if self.ndim(b) == 1:
            return f"{self.as_row(a)}{self.JUX}{self.wrap(b, 3)}"
        bt = self.wrap(b.args[0], 5) if b.kind == "T" else self.sup(self.wrap(b, 5), self.TOP)
        return f"{bt}{self.JUX}{self.wrap(a, 3)}"

    def as_row(self, v: Syn) -> str:
        """A 1-D v written as the row vᵀ: (w@M)ᵀ is wᵀM."""
        if v.kind == "binop" and v.value == "@" and self.ndim(v.args[0]) == 1 and self.ndim(v.args[1]) == 2:
            return f"{self.as_row(v.args[0])}{self.JUX}{self.wrap(v.args[1], 3)}"
        return self.sup(self.wrap(v, 5), self.TOP)

    def operands(self, s: Syn) -> tuple[str, str]:
        op = s.value
        a, b = s.args
        return self.wrap(a, _PREC[op]), self.wrap(b, _PREC[op] + (op in "-/@*"))


_ELEMENTWISE = {"exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
                "sigmoid", "sqrt", "abs", "relu", "softplus", "square", "sign", "step"}


class _Tex(_Notation):
    open, close = "\\left(", "\\right)"
    TOP, JUX = "\\top", "\\,"
    FUNCS = {"exp": "\\exp", "log": "\\log", "sin": "\\sin", "cos": "\\cos", "tan": "\\tan", "sinh": "\\sinh",
             "cosh": "\\cosh", "tanh": "\\tanh", "arcsin": "\\arcsin", "arccos": "\\arccos", "arctan": "\\arctan",
             "det": "\\det", "sigmoid": "\\sigma"}
    OPERATORS = {"trace": "tr", "tr": "tr", "diag": "diag", "vec": "vec", "softmax": "softmax",
                 "logsumexp": "logsumexp", "relu": "relu", "softplus": "softplus", "sign": "sign", "sum": "sum", "mean": "mean"}

    def __init__(self, differentials=frozenset()):
        self.differentials = differentials

    @staticmethod
    def sup(t: str, sup: str) -> str:
        """A superscript, with braces when t already carries one: {A^{-1}}^\\top."""
        return f"{{{t}}}^{sup}" if "^" in t and not t.endswith("\\right)") else f"{t}^{sup}"

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


    def _index(self, s):
        return f"{self.wrap(s.args[0], 5)}_{{[{key_text(s.value, ',')}]}}"

    def _list(self, s):
        if all(a.kind == "list" for a in s.args):
            rows = [" & ".join(self.go(e) for e in row.args) for row in s.args]
        else:
            rows = [self.go(e) for e in s.args]
        return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"

    def _binop(self, s):
        a, b = s.args
        op = s.value
        if op in ("**", "^"):                   # the Hadamard power X^{∘2} of a matrix
            ring = "\\circ " if op == "**" and self.matrix(a) else ""
            return self.sup(self.wrap(a, 5), f"{{{ring}{self.go(b)}}}")
        if op == "/":
            return f"\\frac{{{self.go(a)}}}{{{self.go(b)}}}"
        left, right = self.operands(s)
        if op == "@":
            return self.vector_product(s) or f"{left}\\,{right}"
        if op == "*":
            return f"{left}\\,{right}" if self.scalar(a) or self.scalar(b) else f"{left} \\odot {right}"
        return f"{left} {op} {right}"

    def _call(self, s):
        name, args = s.value, s.args
        x = [self.go(a) for a in args]
        if name == "inv":
            return self.sup(self.wrap(args[0], 5), "{-1}")
        if name == "transpose":
            return self.sup(self.wrap(args[0], 5), "\\top")
        if name == "square":
            return self.sup(self.wrap(args[0], 5), "{\\circ 2}" if self.matrix(args[0]) else "{2}")
        if name == "sqrt":
            return f"\\sqrt{{{x[0]}}}"
        if name == "abs":
            return f"\\left\\lvert {x[0]} \\right\\rvert"
        if name == "step":                                   # the Iverson bracket
            return f"\\left[{x[0]} > 0\\right]"
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
            return self.sup(self.wrap(args[0], 5), "\\top")
        if name == "commutation":
            return f"K_{{{x[0]},{x[1]}}}"
        if name in ("hstack", "vstack"):
            sep = " & " if name == "hstack" else " \\\\ "
            return "\\begin{bmatrix} " + sep.join(x) + " \\end{bmatrix}"
        head = self.FUNCS.get(name) or f"\\operatorname{{{self.OPERATORS.get(name, name)}}}"
        keywords = [f"\\text{{{k}}}={self.go(v)}" for k, v in s.kwargs.items()]
        return f"{head}\\left({', '.join(x + keywords)}\\right)"


class _Unicode(_Notation):
    FUNCS = {"trace": "tr", "sigmoid": "σ"}
    TOP, JUX = "ᵀ", " "

    @staticmethod
    def sup(t: str, sup: str) -> str:
        """A superscript, after parentheses when t already ends in one: (X²)ᵀ."""
        return f"({t}){sup}" if t[-1] in _SUPERSCRIPTS else f"{t}{sup}"

    def _name(self, s):
        n = s.value
        if n == "pi":
            return "π"
        m = re.fullmatch(r"(d?[A-Za-z])(\d+)", n)
        return f"{m.group(1)}{m.group(2).translate(_SUB)}" if m else n


    def _index(self, s):
        return f"{self.wrap(s.args[0], 5)}[{key_text(s.value, ',')}]"

    def _list(self, s):
        return "[" + ", ".join(self.go(e) for e in s.args) + "]"

    def _binop(self, s):
        a, b = s.args
        op = s.value
        if op in ("**", "^"):                   # x∘² is x ⊙ x, where X² could be mistaken for X X
            ring = "∘" if op == "**" and self.matrix(a) else ""
            if _is_integer(b):
                return self.sup(self.wrap(a, 5), ring + str(_int_value(b)).translate(_SUP))
            return f"{self.wrap(a, 5)}^{ring}{self.wrap(b, 5)}"
        if op == "*" and _constant(b) and not _constant(a):          # scalars commute: dx * 2 is 2 dx
            a, b = b, a
            s = Syn("binop", s.col, s.end, "*", [a, b])
        if op == "@" and self.vector_product(s) is not None:
            return self.vector_product(s)
        left, right = self.operands(s)
        if op == "/" and a.kind == "num" and b.kind == "num":
            return f"{left}/{right}"                                  # 1/3, read as one number
        if op == "@" or op == "*" and (self.scalar(a) or self.scalar(b)):
            if a.kind == "binop" and a.value == "/" and not (a.args[0].kind == a.args[1].kind == "num"):
                left = f"({left})"                                    # (1 / y) x, not 1 / y x
            short = a.kind == "num" and re.fullmatch(r"\d+(\.\d{1,2})?", left)       # 2x, 0.5x; not 1e-09x
            glue = "" if short and _SINGLE.fullmatch(right) else " "
            return f"{left}{glue}{right}"
        if op == "+" and b.kind == "neg":
            return f"{left} - {self.wrap(b.args[0], 2)}"
        if op == "+" and left == right:                               # x + x.T of a vector x: 2x
            return f"2{left}" if _SINGLE.fullmatch(left) else f"2 {self.wrap(a, 3)}"
        if op == "*":
            return f"{left} ⊙ {right}"
        if op == "/" and not self.scalar(b):
            return f"{left} ⊘ {right}"
        return f"{left} {op} {right}"

    def _call(self, s):
        name, args = s.value, s.args
        x = [self.go(a) for a in args]
        if name == "inv":
            return self.sup(self.wrap(args[0], 5), "⁻¹")
        if name in ("transpose", "row"):
            return self.sup(self.wrap(args[0], 5), "ᵀ")
        if name == "square":
            return self.sup(self.wrap(args[0], 5), "∘²" if self.matrix(args[0]) else "²")
        if name == "abs":
            return f"|{x[0]}|"
        if name == "step":                                   # the Iverson bracket
            return f"[{x[0]} > 0]"
        if name == "norm":
            return f"‖{x[0]}‖"
        if name == "logdet":
            return f"log|det {self.wrap(args[0], 5)}|"
        if name == "kron":
            return f"{self.wrap(args[0], 3)} ⊗ {self.wrap(args[1], 3)}"
        if name == "outer":
            return f"{self.wrap(args[0], 5)} {self.sup(self.wrap(args[1], 5), 'ᵀ')}"
        if name == "dot":
            return f"{self.sup(self.wrap(args[0], 5), 'ᵀ')}{self.wrap(args[1], 5)}"
        if name == "eye" and args[0].kind == "num":
            return "I" + x[0].translate(_SUB)
        if name == "col":
            return x[0]
        if name == "commutation":
            return f"K{x[0].translate(_SUB)},{x[1].translate(_SUB)}"
        if name in ("hstack", "vstack"):
            return "[" + (" " if name == "hstack" else "; ").join(x) + "]"
        keywords = [f"{k}={self.go(v)}" for k, v in s.kwargs.items()]
        return f"{self.FUNCS.get(name, name)}({', '.join(x + keywords)})"
