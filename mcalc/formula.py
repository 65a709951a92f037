"""Closed forms of Jacobians: a small algebra of matrix formulas (identities, Kronecker products, diagonals,
products, sums) that renders three ways: mcalc's own syntax (so that the formula can be evaluated and checked),
Unicode for the terminal (I₂ ⊗ Bᵀ) and LaTeX.

The constructors simplify as they build: identities are dropped from products, I ⊗ I is folded, Kronecker products
meet by the mixed-product rule (A ⊗ B)(C ⊗ D) = AC ⊗ BD, diagonals merge, scalars move to the front and transposes
move to the leaves.  Pieces of the user's expression appear as Text: a template with slots filled by the user's
own subexpressions, so that the terminal can name a long or repeated one (y = tanh(W@x + b)).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .notation import ascii_name, latex, sub, unicode

_ATOM = re.compile(r"[A-Za-z_]\w*|\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?")


def _closes_at_end(s: str) -> bool:
    """Whether the bracket opening at s's first bracket closes at its very end."""
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                return i == len(s) - 1
    return False


def atomic(s: str) -> bool:
    """A name, a number, a call f(...), or something already in brackets (possibly transposed: A.T, A'): safe
    to juxtapose or raise."""
    s = s.strip()
    while s.endswith(".T") or s.endswith("'"):
        s = s[:-2] if s.endswith(".T") else s[:-1]
    if not s:
        return False
    if _ATOM.fullmatch(s):
        return True
    if s[:1] in "([":
        return _closes_at_end(s)
    m = re.match(r"[A-Za-z_]\w*(?=\()", s)
    return bool(m) and _closes_at_end(s[m.end():]) if m else False


def paren(s: str) -> str:
    return s if atomic(s) else f"({s})"


def _one(template: str) -> bool:
    """A template that is one slot or atomic (possibly transposed): safe to juxtapose, transpose or raise."""
    t = template
    while t.endswith(".T"):
        t = t[:-2]
    return bool(re.fullmatch(r"\{\d+\}", t)) or atomic(template)


def tidy(template: str) -> str:
    """Text-level simplifications: Xᵀᵀ = X, X + X = 2*X."""
    t = template
    while ".T.T" in t:
        t = t.replace(".T.T", "")
    m = re.fullmatch(r"(.+) \+ (.+)", t)
    if m and m.group(1) == m.group(2) and _one(m.group(1)):
        t = f"2*{m.group(1)}"
    return t


def _part(template: str) -> str:
    return template if _one(template) else f"({template})"


def vec_inner(template: str) -> str | None:
    """X when the template is exactly vec(X)."""
    if template.startswith("vec(") and _closes_at_end(template[3:]):
        return template[4:-1]
    return None


def _sup(t: str, sup: str) -> str:
    """LaTeX t with a superscript: in parentheses when t is a product or a sum (A\\,B, A + B), braced when it is
    already in parentheses or carries a superscript (X^{2} transposed is {X^{2}}^\\top)."""
    t = t.strip()
    compound = " " in t or "\\," in t
    if compound and not _in_parentheses(t):
        return f"\\left({t}\\right)^{sup}"
    return f"{{{t}}}^{sup}" if "^" in t or compound else f"{t}^{sup}"


def _in_parentheses(t: str) -> bool:
    """Whether LaTeX t is one \\left( ... \\right) group."""
    if not t.startswith("\\left(") or not t.endswith("\\right)"):
        return False
    depth = 0
    for m in re.finditer(r"\\left\(|\\right\)", t):
        depth += 1 if m.group().startswith("\\left") else -1
        if depth == 0:
            return m.end() == len(t)
    return False


@dataclass(frozen=True)
class Text:
    """A piece of the user's expression language: a template whose slots {0}, {1}, ... hold subexpressions."""

    template: str
    slots: tuple[str, ...] = ()

    def __post_init__(self):
        """Keep only the slots the template uses, numbered in order."""
        used = sorted({int(k) for k in re.findall(r"\{(\d+)\}", self.template)})
        if used != list(range(len(self.slots))):
            renumber = {old: new for new, old in enumerate(used)}
            object.__setattr__(self, "template", re.sub(r"\{(\d+)\}", lambda m: "{" + str(renumber[int(
                m.group(1))]) + "}", self.template))
            object.__setattr__(self, "slots", tuple(self.slots[k] for k in used))

    def _fill(self, show) -> str:
        """The template with its slots shown (show: slot → (text, needs no parentheses)), in parentheses unless
        they are already enclosed in their own, as f({0}) is."""
        def slot(m):
            text, bare = show(self.slots[int(m.group(1) or m.group(2))])
            before = self.template[m.start() - 1:m.start()]
            if m.group(1) and (before.isalnum() or before == "_"):       # a call's own parentheses
                return f"({text})"
            return text if bare else paren(text)

        return re.sub(r"\(\{(\d+)\}\)|\{(\d+)\}", slot, self.template)

    def mc(self) -> str:
        return self._fill(lambda s: (s, False))

    def _named(self, names: dict) -> str:
        return self._fill(lambda s: (ascii_name(names[s]), True) if s in names else (s, False))

    def pretty(self, names: dict) -> str:
        return unicode(self._named(names))

    def tex(self, names: dict) -> str:
        return latex(self._named(names))


# --- the formulas ----------------------------------------------------------------------------------------------

class Formula:
    """A matrix of a known shape; prec is how tightly its rendering binds (3 atom, 2 product, 1 sum)."""

    shape: tuple[int, int]
    prec = 3

    def mc(self) -> str:
        raise NotImplementedError

    def pretty(self, names: dict) -> str:
        raise NotImplementedError

    def tex(self, names: dict) -> str:
        raise NotImplementedError

    def texts(self):
        """The user subexpressions this formula mentions, with repetition."""
        return []

    def __eq__(self, other):
        return isinstance(other, Formula) and self.shape == other.shape and self.mc() == other.mc()

    def __hash__(self):
        return hash(self.mc())


def _wrap(f: Formula, prec: int, how: str, *args) -> str:
    """f rendered by its method `how`, in parentheses when it binds less tightly than prec."""
    s = getattr(f, how)(*args)
    own = f.prec if how == "mc" else getattr(f, "pretty_prec", f.prec)
    return s if own >= prec else f"({s})"


class Eye(Formula):
    def __init__(self, n: int):
        self.n, self.shape = n, (n, n)

    def mc(self):
        return f"eye({self.n})"

    def pretty(self, names):
        return f"I{sub(self.n)}" if self.n > 1 else "1"

    def tex(self, names):
        return f"I_{{{self.n}}}" if self.n > 1 else "1"


class Zero(Formula):
    def __init__(self, m: int, n: int):
        self.shape = (m, n)

    def mc(self):
        return f"zeros({self.shape[0]}, {self.shape[1]})"

    def pretty(self, names):
        return _filled("0", self.shape)

    def tex(self, names):
        return _filled_tex("0", self.shape)


class Ones(Formula):
    """A column (m×1), row (1×n) or matrix of ones: what broadcasting and sums are made of."""

    def __init__(self, m: int, n: int):
        self.shape = (m, n)

    def mc(self):
        return f"ones({self.shape[0]}, {self.shape[1]})"

    def pretty(self, names):
        return _filled("1", self.shape)

    def tex(self, names):
        return _filled_tex("1", self.shape)


def _filled(c: str, shape) -> str:
    """A matrix of ones or zeros with its size: 1₃ (a column), 1₃ᵀ (a row), 0₂ₓ₃; 0 alone for 1×1."""
    m, n = shape
    return c if (m, n) == (1, 1) else f"{c}{sub(m)}" if n == 1 else f"{c}{sub(n)}ᵀ" if m == 1 else \
        f"{c}{sub(m)}ₓ{sub(n)}"


def _filled_tex(c: str, shape) -> str:
    m, n = shape
    b = f"\\mathbf{{{c}}}"
    return c if (m, n) == (1, 1) else f"{b}_{{{m}}}" if n == 1 else f"{b}_{{{n}}}^\\top" if m == 1 else \
        f"{b}_{{{m}\\times{n}}}"


class Commutation(Formula):
    """K with K vec(X) = vec(Xᵀ) for m×n X (in the current order; the language's commutation(m, n))."""

    def __init__(self, m: int, n: int):
        self.m, self.n, self.shape = m, n, (m * n, m * n)

    def __new__(cls, m: int, n: int):
        if m == 1 or n == 1:                            # the transpose of a vector only reshapes it
            return Eye(m * n)
        return super().__new__(cls)

    def mc(self):
        return f"commutation({self.m}, {self.n})"

    def pretty(self, names):
        return f"K{sub(self.m)},{sub(self.n)}"

    def tex(self, names):
        return f"K_{{{self.m},{self.n}}}"


class Mat(Formula):
    """A subexpression as a matrix: view 'mat' (a matrix), 'col' (a vector or scalar as a column), 'row'."""

    def __init__(self, text: Text, shape: tuple[int, int], view: str = "mat", order: str | None = None,
                 scalar: bool = False, inner: tuple | None = None):
        self.text, self.shape, self.view, self.order = text, shape, view, order    # order: of a vec(...) text
        self.scalar = scalar                                                       # the text is 0-D
        self.inner = inner                                # the shape of X in a text vec(X), where known
        self.prec = 3 if view != "mat" or atomic(text.mc()) else 2
        transposed = view == "row" and shape != (1, 1)               # shown as (t)ᵀ: one piece
        self.pretty_prec = 3 if transposed or atomic(text.mc()) or re.fullmatch(r"[A-Za-z_]\w*[²³]",
                                                                                 text.pretty({})) else 2

    def mc(self):
        t = self.text.mc()
        return t if self.view == "mat" else f"{self.view}({t})"

    def pretty(self, names):
        t = self.text.pretty(names)
        return f"{paren(t)}ᵀ" if self.view == "row" and self.shape != (1, 1) else t

    def tex(self, names):
        t = self.text.tex(names)
        return _sup(t, "\\top") if self.view == "row" and self.shape != (1, 1) else t

    def texts(self):
        return list(self.text.slots)


class Select(Formula):
    """Rows of an identity matrix: eye(n)[key], a selection (its transpose embeds)."""

    def __init__(self, n: int, key: str, rows: int):
        self.n, self.key, self.shape = n, key, (rows, n)

    def mc(self):
        return f"eye({self.n})[{self.key}]"

    def pretty(self, names):
        return f"I{sub(self.n)}[{self.key}]"

    def tex(self, names):
        return f"I_{{{self.n}}}[{self.key}]"


class Diag(Formula):
    """diag(v) for a vector-valued Text v of n entries."""

    def __init__(self, v: Text, n: int):
        self.v, self.shape = v, (n, n)

    def mc(self):
        return f"diag({self.v.mc()})"

    def pretty(self, names):
        return f"diag({self.v.pretty(names)})"

    def tex(self, names):
        return f"\\operatorname{{diag}}({self.v.tex(names)})"

    def texts(self):
        return list(self.v.slots)


class T(Formula):
    def __init__(self, f: Formula):
        self.f, self.shape = f, (f.shape[1], f.shape[0])

    def mc(self):
        return f"{_wrap(self.f, 3, 'mc')}.T"

    def pretty(self, names):
        return f"{_wrap(self.f, 3, 'pretty', names)}ᵀ"

    def tex(self, names):
        return _sup(_wrap(self.f, 3, 'tex', names), "\\top")

    def texts(self):
        return self.f.texts()


class Kron(Formula):
    prec = 2

    def __init__(self, a: Formula, b: Formula):
        self.a, self.b = a, b
        self.shape = (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])

    def mc(self):
        return f"kron({self.a.mc()}, {self.b.mc()})"

    def pretty(self, names):
        return f"{_wrap(self.a, 3, 'pretty', names)} ⊗ {_wrap(self.b, 3, 'pretty', names)}"

    def tex(self, names):
        return f"{_wrap(self.a, 3, 'tex', names)} \\otimes {_wrap(self.b, 3, 'tex', names)}"

    def texts(self):
        return self.a.texts() + self.b.texts()


class Prod(Formula):
    prec = 2

    def __init__(self, items: list[Formula]):
        self.items = items
        self.shape = (items[0].shape[0], items[-1].shape[1])

    def mc(self):
        return " @ ".join(_wrap(f, 2, 'mc') for f in self.items)

    def pretty(self, names):
        return " ".join(_wrap(f, 3, 'pretty', names) for f in self.items)

    def tex(self, names):
        return " ".join(_wrap(f, 3, 'tex', names) for f in self.items)

    def texts(self):
        return [t for f in self.items for t in f.texts()]


class Coef:
    """A scalar factor: a number (kept exact as a fraction) or a scalar Text such as det(X)."""

    def __init__(self, number: Fraction | None = None, text: Text | None = None):
        self.number, self.text = number, text

    def mc(self):
        if self.text is not None:
            return self.text.mc()
        n = self.number
        return str(n.numerator) if n.denominator == 1 else f"({n.numerator}/{n.denominator})"

    def pretty(self, names):
        if self.text is not None:
            t = self.text.pretty(names)
            return t if atomic(self.text.mc()) else f"({t})"
        n = self.number
        if n.denominator == 1:
            return str(n.numerator)
        if (n.denominator > 12 or abs(n.numerator) > 99) and Fraction(float(n)) == n and len(repr(float(n))) <= 12:
            return repr(float(n))                         # 100000.5, not (200001/2); but (1/3), (1/4)
        return f"({n.numerator}/{n.denominator})"

    def tex(self, names):
        if self.text is not None:
            t = self.text.tex(names)
            return t if atomic(self.text.mc()) else f"\\left({t}\\right)"
        n = self.number
        return str(n.numerator) if n.denominator == 1 else f"\\tfrac{{{n.numerator}}}{{{n.denominator}}}"


class Scale(Formula):
    prec = 2

    def __init__(self, c: Coef, f: Formula):
        self.c, self.f, self.shape = c, f, f.shape

    def _neg(self):
        return self.c.text is None and self.c.number == -1

    def mc(self):
        return f"-{_wrap(self.f, 3, 'mc')}" if self._neg() else f"{paren(self.c.mc())} * {_wrap(self.f, 3, 'mc')}"

    def pretty(self, names):
        body = _wrap(self.f, 2, 'pretty', names)
        return f"-{body}" if self._neg() else f"{self.c.pretty(names)} {body}"

    def tex(self, names):
        body = _wrap(self.f, 2, 'tex', names)
        return f"-{body}" if self._neg() else f"{self.c.tex(names)}\\, {body}"

    def texts(self):
        return (list(self.c.text.slots) if self.c.text else []) + self.f.texts()


class Stack(Formula):
    """Blocks one above the other (vertical) or side by side: the Jacobian of [a, b, ...] from those of its
    elements, and several wrt variables."""

    def __init__(self, blocks: list[Formula], vertical: bool = True):
        self.blocks, self.vertical = blocks, vertical
        self.shape = ((sum(b.shape[0] for b in blocks), blocks[0].shape[1]) if vertical
                      else (blocks[0].shape[0], sum(b.shape[1] for b in blocks)))

    def grid(self) -> list[list[Text]] | None:
        """The entries, when every block is a single entry (the Jacobian of [r*cos(t), r*sin(t)])."""
        return _grid(self)

    def mc(self):
        g = self.grid()
        if g is not None:
            return "[" + ", ".join("[" + ", ".join(e.mc() for e in row) + "]" for row in g) + "]"
        return ("vstack" if self.vertical else "hstack") + "(" + ", ".join(b.mc() for b in self.blocks) + ")"

    def pretty(self, names):
        g = self.grid()
        if g is not None:
            return "[" + "; ".join(", ".join(e.pretty(names) for e in row) for row in g) + "]"
        return "[" + ("; " if self.vertical else " | ").join(b.pretty(names) for b in self.blocks) + "]"

    def tex(self, names):
        g = self.grid()
        if g is not None:
            rows = [" & ".join(e.tex(names) for e in row) for row in g]
            return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"
        sep = " \\\\ " if self.vertical else " & "
        return "\\begin{bmatrix} " + sep.join(b.tex(names) for b in self.blocks) + " \\end{bmatrix}"

    def texts(self):
        return [t for b in self.blocks for t in b.texts()]


def _grid(f: Formula) -> list[list[Text]] | None:
    """A formula made of single entries, as rows of entries (None otherwise)."""
    if f.shape == (1, 1):
        if isinstance(f, Mat):
            return [[f.text]] if f.scalar else None
        if isinstance(f, (Eye, Zero)):
            return [[Text("1" if isinstance(f, Eye) else "0")]]
        if isinstance(f, Scale) and f.c.text is None and isinstance(f.f, Eye):
            return [[Text(f.c.mc())]]
        return None
    if not isinstance(f, Stack):
        return None
    parts = [_grid(b) for b in f.blocks]
    if any(p is None for p in parts):
        return None
    if f.vertical:
        return [row for p in parts for row in p]
    return [[e for p in parts for e in p[r]] for r in range(len(parts[0]))]


def stack(blocks: list[Formula], vertical: bool = True) -> Formula:
    blocks = [b for f in blocks for b in (f.blocks if isinstance(f, Stack) and f.vertical == vertical else [f])]
    if len(blocks) == 1:
        return blocks[0]
    if all(isinstance(b, Zero) for b in blocks):
        return Zero(*Stack(blocks, vertical).shape)
    return Stack(blocks, vertical)


class Add(Formula):
    prec = 1

    def __init__(self, terms: list[Formula]):
        self.terms, self.shape = terms, terms[0].shape

    def _join(self, parts):
        out = parts[0]
        for p in parts[1:]:
            out += f" - {p[1:]}" if p.startswith("-") else f" + {p}"
        return out

    def mc(self):
        return self._join([t.mc() for t in self.terms])

    def pretty(self, names):
        return self._join([t.pretty(names) for t in self.terms])

    def tex(self, names):
        return self._join([t.tex(names) for t in self.terms])

    def texts(self):
        return [t for f in self.terms for t in f.texts()]


# --- simplifying constructors -------------------------------------------------------------------------------------

def scale(c, f: Formula) -> Formula:
    """c·f, with c a number or a scalar Text; scalar factors meet as one monomial, so that ‖x‖ and 1/‖x‖ cancel."""
    if isinstance(f, Zero):
        return f
    if isinstance(f, Scale) and (isinstance(c, Text) or f.c.text is not None):
        merged = _coef_times(c, f.c.text if f.c.text is not None else f.c.number)
        if merged is not None:
            return scale(merged, f.f)
    if isinstance(f, Mat) and not f.scalar and f.view in ("row", "col") and f.order is None:
        number, rest = _split_number(f.text)                 # (1/2)·row(2*x) = row(x)
        if number != 1:
            return scale(_coef_times(c, number), Mat(rest, f.shape, f.view))
    if isinstance(f, Mat) and f.scalar and f.shape == (1, 1) and isinstance(c, Text):
        merged = _coef_times(c, f.text)
        if merged is not None:
            return Mat(merged if isinstance(merged, Text) else Text(_fraction_text(merged)), (1, 1), "row",
                       scalar=True)
    if not isinstance(c, Text):
        exact = Fraction(c).limit_denominator(1000)
        if float(exact) != float(c):                    # 1e-9, pi: kept as written, never approximated
            return scale(Text(repr(float(c))), f)
        c = exact
        if c == 1:
            return f
        if c == 0:
            return Zero(*f.shape)
        if isinstance(f, Scale) and f.c.text is None:
            return scale(c * f.c.number, f.f)
        if isinstance(f, Add):
            return add(*(scale(c, t) for t in f.terms))
        return Scale(Coef(number=c), f)
    if isinstance(f, Eye) and f.n == 1:                 # a scalar factor of a 1×1 matrix is the entry itself
        return Mat(c, (1, 1), "row", scalar=True)
    if isinstance(f, Scale):
        inner = scale(c, f.f)
        return Scale(f.c, inner) if f.c.text is None else Scale(Coef(text=c), f)
    return Scale(Coef(text=c), f)


# --- scalar coefficients as monomials: c·∏ aᵢ^kᵢ over factors aᵢ (texts), so that products cancel -------------

def _monomial(text: str) -> tuple[Fraction, dict] | None:
    """A scalar text as (number, {factor text: exponent}): 2*norm(x) → (2, {norm(x): 1}), 1/norm(x) →
    (1, {norm(x): -1}); a sum or a call is one factor.  None for a number that is not exact (1e-9, pi)."""
    from .parse import parse

    try:
        tree = parse(text).tree
    except Exception:  # noqa: BLE001 - not the language: no algebra
        return None

    def walk(s):
        if s.kind == "num":
            exact = Fraction(s.value).limit_denominator(1000)
            return (exact, {}) if float(exact) == float(s.value) else None
        if s.kind == "neg":
            inner = walk(s.args[0])
            return None if inner is None else (-inner[0], inner[1])
        if s.kind == "binop" and s.value in ("*", "/"):
            a, b = walk(s.args[0]), walk(s.args[1])
            if a is None or b is None or s.value == "/" and b[0] == 0:
                return None
            sign = 1 if s.value == "*" else -1
            factors = dict(a[1])
            for k, e in b[1].items():
                factors[k] = factors.get(k, 0) + sign * e
            return (a[0] * b[0] if sign == 1 else a[0] / b[0]), {k: e for k, e in factors.items() if e}
        if s.kind == "binop" and s.value == "**" and s.args[1].kind == "num" and float(s.args[1].value).is_integer():
            base = walk(s.args[0])
            k = int(s.args[1].value)
            if base is None or base[0] == 0 and k < 0:
                return None
            return base[0] ** k, {f: e * k for f, e in base[1].items()}
        return Fraction(1), {text[s.col:s.end].strip(): 1}

    return walk(tree)


def _coef_times(c1, c2) -> Text | Fraction | None:
    """The product of two scalar coefficients (numbers or Texts) as one, or None when either is not a monomial."""
    terms = []
    for c in (c1, c2):
        m = (Fraction(c), {}) if not isinstance(c, Text) else _monomial(c.mc())
        if m is None:
            return None
        terms.append(m)
    number = terms[0][0] * terms[1][0]
    factors = dict(terms[0][1])
    for k, e in terms[1][1].items():
        factors[k] = factors.get(k, 0) + e
    factors = {k: e for k, e in factors.items() if e}
    if not factors:
        return number
    up = [f"{{{i}}}" + (f"**{e}" if e > 1 else "") for i, (k, e) in enumerate(factors.items()) if e > 0]
    down = [f"{{{i}}}" + (f"**{-e}" if e < -1 else "") for i, (k, e) in enumerate(factors.items()) if e < 0]
    head = "*".join(([_fraction_text(number)] if number != 1 or not up else []) + up)
    head = f"-{head[3:]}" if head.startswith("-1*") else head
    template = head if not down else f"{head}/{down[0] if len(down) == 1 else '(' + '*'.join(down) + ')'}"
    return Text(template, tuple(factors))           # slots as the user's subexpressions: parenthesised when shown


def _split_number(t: Text) -> tuple[Fraction, Text]:
    """(c, u) with t = c·u: the number in front of a monomial text (2*x → 2, x); (1, t) otherwise."""
    m = _monomial(t.mc())
    if m is None or m[0] == 1 or not m[1]:
        return Fraction(1), t
    rest = _coef_times(1, Text(t.template, t.slots))
    if not isinstance(rest, Text):
        return Fraction(1), t
    inverse = _coef_times(Fraction(1) / m[0], rest)
    return (m[0], inverse) if isinstance(inverse, Text) else (Fraction(1), t)


def _fraction_text(n: Fraction) -> str:
    return str(n.numerator) if n.denominator == 1 else f"({n.numerator}/{n.denominator})"


def kron(a: Formula, b: Formula) -> Formula:
    if isinstance(a, Zero) or isinstance(b, Zero):
        return Zero(a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])
    if isinstance(a, Eye) and isinstance(b, Eye):
        return Eye(a.n * b.n)
    if a.shape == (1, 1) and isinstance(a, Eye):
        return b
    if b.shape == (1, 1) and isinstance(b, Eye):
        return a
    if isinstance(a, Scale):
        return _scale_like(a, kron(a.f, b))
    if isinstance(b, Scale):
        return _scale_like(b, kron(a, b.f))
    return Kron(a, b)


def _scale_like(s: Scale, f: Formula) -> Formula:
    return scale(s.c.text if s.c.text is not None else s.c.number, f)


def prod(*fs: Formula) -> Formula:
    """The matrix product, simplified: identities dropped, mixed products of Kroneckers, diagonals merged."""
    items: list[Formula] = []
    coefs = []
    for f in fs:
        while isinstance(f, Scale):
            coefs.append(f.c)
            f = f.f
        if isinstance(f, Zero):
            return Zero(fs[0].shape[0], fs[-1].shape[1])
        for g in (f.items if isinstance(f, Prod) else [f]):
            if isinstance(g, Eye):
                continue
            if isinstance(g, Mat) and g.scalar and g.shape == (1, 1) and len(fs) > 1:
                coefs.append(Coef(text=g.text))              # a 1×1 factor of a product is a scalar
                continue
            if items:
                merged = _merge(items[-1], g)
                if merged is not None:
                    items.pop()
                    if isinstance(merged, Scale):
                        coefs.append(merged.c)
                        merged = merged.f
                    if not isinstance(merged, Eye):
                        items.append(merged)
                    continue
            items.append(g)
    out: Formula = (items[0] if len(items) == 1 else Prod(items)) if items else Eye(fs[0].shape[0])
    for c in reversed(coefs):
        out = scale(c.text if c.text is not None else c.number, out)
    return out


def _merge(a: Formula, b: Formula) -> Formula | None:
    """a @ b as one factor, when the algebra allows."""
    if isinstance(a, Kron) and isinstance(b, Kron) and a.a.shape[1] == b.a.shape[0] and a.b.shape[1] == b.b.shape[0]:
        return kron(prod(a.a, b.a), prod(a.b, b.b))
    if isinstance(a, Diag) and isinstance(b, Diag):
        return Diag(Text(*_times(a.v, b.v)), a.shape[0])
    if isinstance(a, Mat) and isinstance(b, Mat) and a.shape == b.shape == (1, 1) and a.scalar and b.scalar:
        return Mat(Text(*_times(a.text, b.text)), (1, 1), "row", scalar=True)
    if isinstance(a, Ones) and a.shape[0] == 1 and isinstance(b, Diag):      # 1ᵀ diag(v) = vᵀ
        return Mat(b.v, (1, b.shape[0]), "row")
    if isinstance(a, Mat) and a.view == "row" and a.shape[1] > 1 and a.order is None and isinstance(b, Mat) \
            and b.view == "mat":                                             # uᵀ M = (u@M)ᵀ for a vector u,
        number, u = _split_number(a.text)                                    # a number in u kept in front
        row = Mat(Text(*_joined(u, "@", b.text)), (1, b.shape[1]), "row")
        return row if number == 1 else scale(number, row)
    if isinstance(a, Mat) and a.view == "row" and a.order is not None and isinstance(b, Kron):
        return _vec_kron(a, b)
    if isinstance(a, Mat) and a.view == "row" and a.order is not None and isinstance(b, Commutation):
        inner = vec_inner(a.text.template)                  # vec(X)ᵀ K = vec(Xᵀ)ᵀ
        if inner is not None:
            return Mat(Text(f"vec({tidy(_part(inner) + '.T')})", a.text.slots), (1, b.shape[1]), "row", a.order,
                       inner=a.inner and a.inner[::-1])
    if isinstance(a, Mat) and a.view == "row" and a.order is not None and isinstance(b, Add):
        return add(*(prod(a, t) for t in b.terms))          # a row distributes over a sum
    return None


def _joined(u: Text, op: str, v: Text) -> tuple[str, tuple]:
    """The template and slots of u op v (slots renumbered, compound parts of a product in parentheses; equal
    slots merged, so that identical terms can be recognised)."""
    shift = len(u.slots)
    vt = re.sub(r"\{(\d+)\}", lambda m: "{" + str(int(m.group(1)) + shift) + "}", v.template)
    slots = u.slots + v.slots
    for k in range(shift, len(slots)):                  # a slot v shares with u: use u's number
        if slots[k] in u.slots:
            vt = vt.replace("{" + str(k) + "}", "{" + str(u.slots.index(slots[k])) + "}")
    if op.strip() == "+":
        return tidy(f"{u.template} + {vt}"), slots
    return tidy(f"{_part(u.template)}{op}{_part(vt)}"), slots


def _vec_kron(a: Mat, k: Kron) -> Formula | None:
    """vec(X)ᵀ (A ⊗ B) = vec(Aᵀ X B)ᵀ row-major, vec(Bᵀ X A)ᵀ column-major: a row stays a row."""
    inner = vec_inner(a.text.template)
    if inner is None:
        return None
    left, right = (transpose(k.a), k.b) if a.order == "row" else (transpose(k.b), k.a)
    factors = [f.mc().replace("{", "{{").replace("}", "}}") for f in (left,) if not isinstance(f, Eye)]
    if not re.fullmatch(r"eye\(\d+\)", inner):
        factors.append(_part(inner))
    factors += [f.mc().replace("{", "{{").replace("}", "}}") for f in (right,) if not isinstance(f, Eye)]
    if not factors:
        return None
    shape = (left.shape[0], right.shape[1])
    vector = _as_vector(factors, shape)
    if vector is not None:                               # a vector: M@col(x) is M@x, row(x)@M is x@M
        return Mat(Text(tidy(vector), a.text.slots), (1, k.shape[1]), "row")
    template = "@".join(f if atomic(f.replace("{{", "").replace("}}", "")) or len(factors) == 1 else f"({f})"
                        for f in factors)
    return Mat(Text(f"vec({tidy(template)})", a.text.slots), (1, k.shape[1]), "row", a.order, inner=shape)


def _as_vector(factors: list[str], shape: tuple) -> str | None:
    """A product that is a column (or a row) ending in col(x) (or starting with row(x)) for a vector x, as the 1-D
    vector it is: M@col(x) → M@x, row(x)@M → x@M; None otherwise."""
    def vector_of(f, kind):
        m = re.fullmatch(kind + r"\((.*)\)", f)
        return _part(m.group(1)) if m and _closes_at_end(f[3:]) else None
    parts = [f if atomic(f.replace("{{", "").replace("}}", "")) else f"({f})" for f in factors]
    if shape[1] == 1 and vector_of(factors[-1], "col") is not None:
        parts[-1] = vector_of(factors[-1], "col")
    elif shape[0] == 1 and vector_of(factors[0], "row") is not None:
        parts[0] = vector_of(factors[0], "row")
    else:
        return None
    return "@".join(parts)


def _times(u: Text, v: Text) -> tuple[str, tuple]:
    """The template and slots of u * v (slots renumbered)."""
    shift = len(u.slots)
    vt = re.sub(r"\{(\d+)\}", lambda m: "{" + str(int(m.group(1)) + shift) + "}", v.template)

    return f"{_part(u.template)} * {_part(vt)}", u.slots + v.slots


def add(*fs: Formula) -> Formula:
    terms: list[Formula] = []
    for f in fs:
        for t in (f.terms if isinstance(f, Add) else [f]):
            if isinstance(t, Zero):
                continue
            rows = [k for k, old in enumerate(terms) if _row_of_vector(old) and _row_of_vector(t)
                    and old.shape == t.shape and old.order == t.order]
            if rows:                                        # uᵀ + vᵀ = (u + v)ᵀ, vec(X)ᵀ + vec(Y)ᵀ = vec(X + Y)ᵀ
                old = terms[rows[0]]
                x, y = vec_inner(old.text.template), vec_inner(t.text.template)
                if x is None and y is None or x is not None and y is not None and old.inner and old.inner == t.inner:
                    u = old.text if x is None else Text(x, old.text.slots)
                    v = t.text if y is None else Text(y, t.text.slots)
                    joined, slots = _joined(u, " + ", v)
                    template = joined if x is None else f"vec({joined})"
                    terms[rows[0]] = Mat(Text(template, slots), t.shape, "row", t.order, inner=t.inner)
                    continue
            for k, old in enumerate(terms):                 # X + X = 2 X
                if _base(old) == _base(t):
                    terms[k] = scale(_number(old) + _number(t), _base(t))
                    break
            else:
                terms.append(t)
    terms = [t for t in terms if not isinstance(t, Zero)]
    if not terms:
        return Zero(*fs[0].shape)
    return terms[0] if len(terms) == 1 else Add(terms)


def _row_of_vector(f: Formula) -> bool:
    return isinstance(f, Mat) and f.view == "row" and f.shape[1] > 1


def _base(f: Formula) -> Formula:
    return f.f if isinstance(f, Scale) and f.c.text is None else f


def _number(f: Formula) -> Fraction:
    return f.c.number if isinstance(f, Scale) and f.c.text is None else Fraction(1)


def transpose(f: Formula) -> Formula:
    if isinstance(f, (Eye, Diag)):
        return f
    if isinstance(f, (Zero, Ones)):
        return type(f)(f.shape[1], f.shape[0])
    if isinstance(f, T):
        return f.f
    if isinstance(f, Commutation):
        return Commutation(f.n, f.m)
    if isinstance(f, Kron):
        return kron(transpose(f.a), transpose(f.b))
    if isinstance(f, Stack):
        return stack([transpose(b) for b in f.blocks], not f.vertical)
    if isinstance(f, Prod):
        return prod(*(transpose(g) for g in reversed(f.items)))
    if isinstance(f, Add):
        return add(*(transpose(t) for t in f.terms))
    if isinstance(f, Scale):
        return Scale(f.c, transpose(f.f))
    if isinstance(f, Mat) and f.view in ("col", "row"):
        return Mat(f.text, (f.shape[1], f.shape[0]), "row" if f.view == "col" else "col", f.order, f.scalar)
    if isinstance(f, Mat):                                  # Aᵀ as text: A.T, and (A.T).T is A
        t = f.text.template
        if t == "{0}" and f.text.slots[0].endswith(".T") and atomic(f.text.slots[0][:-2]):
            return Mat(Text(t, (f.text.slots[0][:-2],)), (f.shape[1], f.shape[0]))
        m = re.fullmatch(r"(.*)\.T", t)
        inner = m.group(1) if m and _one(m.group(1)) else f"{_part(t)}.T"
        return Mat(Text(inner, f.text.slots), (f.shape[1], f.shape[0]))
    return T(f)


def unvec_row(f: Formula, shape: tuple) -> Formula | None:
    """M for a Jacobian c·row(vec(M)) of a scalar function of a matrix (c·row(v) of a vector): the gradient, in
    the variable's own shape.  None when the formula is not of that form."""
    c = None
    if isinstance(f, Scale):
        c, f = f.c, f.f
    if not (isinstance(f, Mat) and f.view == "row"):
        return None
    inner = vec_inner(f.text.template)
    if (inner is None) != (len(shape) < 2):
        return None
    g = Mat(Text(inner, f.text.slots) if inner is not None else f.text,
            shape if len(shape) == 2 else (max(shape or (1,)), 1))
    return g if c is None else Scale(c, g)
