"""Trees as text, in three notations, by one precedence-aware printer each:

    mcalc     A @ B     x * y     2 * x    x**2   inv(A)   A.T    kron(A, B)   (the language: it parses back)
    unicode   A B       x ⊙ y     2x       x²     A⁻¹      Aᵀ     A ⊗ B        (as a mathematician writes)
    latex     A\\,B      x \\odot y  2\\,x     x^{2}  A^{-1}   A^\\top A \\otimes B

The printer knows no operation: each registry entry says how it is printed (``Op.show``); the printer supplies
precedence and parentheses, names for long subexpressions, numbers, variables, sub- and superscripts.  Shapes come
from the tree, so a product with a scalar is juxtaposed and an element-wise one gets ⊙ without guessing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .tree import SYMBOLS, Const, Node, Var, topo_order

if TYPE_CHECKING:
    from fractions import Fraction

SUM, PRODUCT, OPERAND, POWER, ATOM, CALL = 1, 2, 3, 4, 5, 6
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ"
_OPEN, _CLOSE = "([{", ")]}"


def number(v) -> str:
    """A number exactly as it is (the shortest text that reads back as it): 2, 0.123456789, 1e-09."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def exact(node: Const) -> Fraction | None:
    """The exact rational a constant is, where it is one with a small denominator (1/3, not 1e-9 or π)."""
    if node.value.shape or node.named:
        return None
    v = float(node.value)
    from fractions import Fraction

    f = Fraction(v).limit_denominator(1000)
    return f if float(f) == v else None


MAX_CHARS = 200_000     # a printed formula longer than this is refused (a chain of shared subexpressions doubles)


class Printer:
    limit = MAX_CHARS
    """The base of the three printers: precedence, parentheses, names, numbers and templates."""

    notation = ""
    open, close = "(", ")"

    def __init__(self, names: dict | None = None):
        self.names = names or {}           # node key → a short name (y, Y, s, ...) printed instead of the node
        self.memo: dict = {}

    # --- the entry point -------------------------------------------------------------------------------------
    def __call__(self, node: Node, prec: int = 0) -> str:
        if node.key not in self.memo and node.args:
            for n in topo_order(node):                   # arguments first: a deep tree never recurses deeply
                self.raw(n)
        text, p = self.raw(node)
        return text if p >= prec else self.paren(text)

    def raw(self, node: Node) -> tuple[str, int]:
        """(text, precedence) of a node."""
        out = self.memo.get(node.key)
        if out is None:
            out = self._raw(node)
            if len(out[0]) > self.limit:                 # (a tree that shares its parts prints them every time)
                from .errors import TooLargeError

                raise TooLargeError(f"the formula is too long to print (more than {self.limit:,} characters)")
            self.memo[node.key] = out
        return out

    def _raw(self, node: Node) -> tuple[str, int]:
        if node.key in self.names:
            return self.name(self.names[node.key]), ATOM
        if node.label is not None and self.notation != "mc":          # the user's own name for it
            return self.name(node.label), ATOM
        if isinstance(node, Var):
            return self.var(node), ATOM
        if isinstance(node, Const):
            return self.const(node)
        show = node.op.show
        how = getattr(show, self.notation)
        if node.op.expand is not None and (how is None or self.notation == "mc"):
            return self.raw(node.op.expand(node))           # an operation inside derivatives: its meaning
        if how is None:
            return self.call(node), CALL
        if isinstance(how, str):
            return self.template(how, node), show.prec
        out = how(self, node)
        return out if isinstance(out, tuple) else (out, show.prec)

    def paren(self, text: str) -> str:
        return f"{self.open}{text}{self.close}"

    # --- pieces the operations' notations use ---------------------------------------------------------------------
    def call(self, node: Node, name: str | None = None) -> str:
        show = node.op.show
        parts = [self(a) for a in node.args]
        text = lambda v: repr(v) if isinstance(v, str) else str(v)      # noqa: E731 ('fro', inf, True, (1, 3))
        parts += [text(node.params[k]) for k in show.literals if node.params.get(k) is not None]
        parts += [f"{k}={text(node.params[k])}" for k in show.kwargs if node.params.get(k) is not None]
        return self.function(name or show.name, ", ".join(parts), node)

    def function(self, name: str, inner: str, node: Node) -> str:
        return f"{name}({inner})"

    def template(self, template: str, node: Node) -> str:
        """A template with # (or #0, #1, ...) for the arguments, in parentheses unless the template encloses them."""
        out, depth, i = [], 0, 0
        bars = {"|": False, "‖": False}
        while i < len(template):
            ch = template[i]
            m = re.match(r"\\(left|right)(\\[A-Za-z]+|.)", template[i:])     # LaTeX's \left\lVert ... \right\rVert
            if m:
                depth += 1 if m.group(1) == "left" else -1
                out.append(m.group(0))
                i += len(m.group(0))
                continue
            if ch == "#":
                m = re.match(r"#(\d?)", template[i:])
                k = int(m.group(1) or 0)
                enclosed = depth > 0 or any(bars.values())
                out.append(self(node.args[k], 0 if enclosed else ATOM))
                i += len(m.group(0))
                continue
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth -= 1
            elif ch in bars:
                bars[ch] = not bars[ch]
            out.append(ch)
            i += 1
        return "".join(out)

    def sub(self, n) -> str:
        return str(n)

    def sup(self, text: str, s: str) -> str:
        return f"{text}{s}"

    def name(self, name: str) -> str:
        return name

    def var(self, node: Var) -> str:
        return node.name

    def const(self, node: Const) -> tuple[str, int]:
        if node.value.shape:
            return "[" + ", ".join(self.const(Const(v))[0] for v in node.value) + "]", ATOM
        if node.named:
            return SYMBOLS[node.text][self.notation], ATOM
        text = number(node.value)
        f = None if node.text else exact(node)           # the user's numbers as they are; computed ones exact
        if f is not None and f.denominator > 1 and f.denominator <= 12 and abs(f.numerator) <= 99:
            return self.fraction(f), PRODUCT             # 1/3, not 0.3333333333333333
        return text, (PRODUCT if text.startswith("-") else ATOM)

    def fraction(self, f: Fraction) -> str:
        return f"{f.numerator}/{f.denominator}"


class Mcalc(Printer):
    """mcalc's own syntax: what the parser reads back to an equal tree."""

    notation = "mc"
    jux, top = " @ ", ".T"


class Unicode(Printer):
    notation = "uni"
    jux, top = " ", "ᵀ"

    def sub(self, n) -> str:
        return str(n).translate(_SUB)

    def sup(self, text: str, s: str) -> str:
        """A superscript, after parentheses when the text already ends in one: (X²)ᵀ."""
        return f"({text}){s}" if text[-1:] in _SUPERSCRIPTS else f"{text}{s}"

    def superscript(self, n: int) -> str:
        return str(n).translate(_SUP)

    def var(self, node: Var) -> str:
        m = re.fullmatch(r"(d?[A-Za-z])(\d+)", node.name)
        return f"{m.group(1)}{m.group(2).translate(_SUB)}" if m else node.name


def _letter(c: str) -> str:
    """A letter as LaTeX writes it: Greek ones by their commands (θ: \\theta, Σ: \\Sigma; those without one, as Α,
    by their Latin look-alike), others as they are."""
    import unicodedata

    words = unicodedata.name(c, "").split()
    if words == ["GREEK", "SMALL", "LETTER", "OMICRON"]:         # (LaTeX has no \omicron)
        return "o"
    if words == ["GREEK", "SMALL", "LETTER", "FINAL", "SIGMA"]:
        return "\\varsigma "
    if len(words) == 4 and words[:2] == ["GREEK", "SMALL"] and words[2] == "LETTER":
        return "\\" + words[3].lower().replace("lamda", "lambda") + " "
    if len(words) == 4 and words[:2] == ["GREEK", "CAPITAL"] and words[2] == "LETTER":
        greek = words[3].capitalize().replace("Lamda", "Lambda")
        return "\\" + greek + " " if greek in _CAPITALS else c.translate(_LOOK_ALIKE)
    return c


_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
_LOOK_ALIKE = str.maketrans("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX")


class Latex(Printer):
    notation = "tex"
    open, close = "\\left(", "\\right)"
    jux, top = "\\,", "\\top"

    def function(self, name: str, inner: str, node: Node) -> str:
        head = node.op.show.tex_name or f"\\operatorname{{{name}}}"
        return f"{head}\\left({inner}\\right)"

    def sub(self, n) -> str:
        return f"_{{{n}}}"

    def sup(self, text: str, s: str) -> str:
        """A superscript, with braces when the text already carries one: {A^{-1}}^\\top."""
        return f"{{{text}}}^{s}" if "^" in text and not text.endswith("\\right)") else f"{text}^{s}"

    def name(self, name: str) -> str:
        """x, x_{1} (x1, x₁), W_{\\mathrm{out}} (W_out), \\theta and \\Sigma (θ, Σ), \\mathrm{rate}: LaTeX that
        pdflatex reads (no raw Unicode letters, no underscore inside \\mathrm)."""
        m = re.fullmatch(r"([^\W\d_])([₀-₉]+|\d+)", name)
        if m:
            return f"{_letter(m.group(1))}_{{{m.group(2).translate(str.maketrans('₀₁₂₃₄₅₆₇₈₉', '0123456789'))}}}"
        base, _, sub = name.partition("_")
        single = re.fullmatch(r"[^\W\d_]", base) is not None          # (h1_prev: \mathrm, never h_{1}_{prev})
        if single and sub and all(p.isdigit() for p in sub.split("_")):   # (entries x_1, x_10_11: x_{10,11})
            return f"{_letter(base)}_{{{sub.replace('_', ',')}}}"
        if single and sub and not sub.endswith("_"):
            return f"{self.name(base)}_{{{sub if sub.isdigit() else self.name(sub)}}}"
        if len(name) == 1:
            return _letter(name)
        text = "".join(_letter(c) if c.isalpha() else "\\_" if c == "_" else c for c in name)
        return f"\\mathrm{{{text}}}"

    def var(self, node: Var) -> str:
        if node.tangent:
            return f"\\mathrm{{d}}{self.name(node.name[1:])}"
        return self.name(node.name)

    def fraction(self, f: Fraction) -> str:
        return f"\\tfrac{{{f.numerator}}}{{{f.denominator}}}"


PRINTERS = {"mc": Mcalc, "uni": Unicode, "tex": Latex}


def mcalc(node: Node) -> str:
    return Mcalc()(node)


def unicode(node: Node, names: dict | None = None) -> str:
    return Unicode(names)(node)


def latex(node: Node, names: dict | None = None) -> str:
    return Latex(names)(node)


def shown(node: Node) -> Node:
    """The node as it is printed: an operation used inside derivatives only is printed as its meaning (unless it
    has a notation of its own, as adj(X) has)."""
    while node.op is not None and node.op.expand is not None and node.op.show.uni is None:
        node = node.op.expand(node)
    return node


def is_call(node: Node, printer: Printer | None = None) -> bool:
    """Whether the node prints as a function call f(...) (so that its differential reads d f(...))."""
    return not isinstance(node, (Var, Const)) and (printer or Unicode()).raw(node)[1] == CALL



