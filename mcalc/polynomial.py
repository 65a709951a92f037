"""Sparse polynomials with rational coefficients, for the symbolic entries of polynomial expressions (A@B, X^3,
x@A@x): a product of two entries costs one small tuple merge per pair of terms, whatever the number of symbols,
where SymPy's expressions (unexpanded trees, differentiated node by node) or its dense-exponent rings (a tuple as
long as the number of symbols per term) cost ten to a hundred times more at 8×8 and beyond.

A monomial is the sorted tuple of its symbols' indices, one per power (x₀²x₃ is (0, 0, 3)); a polynomial maps
monomials to nonzero coefficients (int or Fraction).  Numbers mix with polynomials as numpy's object arrays need
(0 + p, p * 2, p / 3).  No SymPy here: symbolic.py turns the results into SymPy's expressions.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

_LAST = float("inf")


def _tidy(c):
    return c.numerator if isinstance(c, Fraction) and c.denominator == 1 else c


def rational(x):
    """x as an int or a Fraction (numpy's integers, and floats that are whole numbers, included); TypeError for
    anything else, so that no rounded number enters a polynomial."""
    if isinstance(x, (int, Fraction)):
        return x
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real) and float(x).is_integer():
        return int(x)
    raise TypeError(f"not a rational number: {x!r}")


class Poly:
    __slots__ = ("expr", "terms")

    def __init__(self, terms: dict):
        self.terms = terms          # {monomial: coefficient}, no zero coefficients
        self.expr = None            # its SymPy expression, once built (symbolic.py)

    @classmethod
    def symbol(cls, index: int) -> Poly:
        return cls({(index,): 1})

    @classmethod
    def constant(cls, c) -> Poly:
        return cls({(): c} if c else {})

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def degree(self) -> int:
        return max(map(len, self.terms), default=0)

    # --- arithmetic, with numbers on either side -----------------------------------------------------------------

    def __add__(self, other):
        if not isinstance(other, Poly):
            other = rational(other)
            if not other:
                return self
            other = Poly.constant(other)
        big, small = (other, self) if len(other.terms) > len(self.terms) else (self, other)
        out = dict(big.terms)
        for m, c in small.terms.items():
            s = out.get(m, 0) + c
            if s:
                out[m] = _tidy(s)
            else:
                del out[m]
        return Poly(out)

    __radd__ = __add__

    def __neg__(self) -> Poly:
        return Poly({m: -c for m, c in self.terms.items()})

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if not isinstance(other, Poly):
            other = rational(other)
            if not other:
                return Poly({})
            return Poly({m: _tidy(c * other) for m, c in self.terms.items()})
        out = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                m = m2 if not m1 else m1 if not m2 else tuple(sorted(m1 + m2))
                out[m] = out.get(m, 0) + c1 * c2
        return Poly({m: _tidy(c) for m, c in out.items() if c})

    __rmul__ = __mul__

    def __truediv__(self, other):
        """By a nonzero number (or a constant polynomial) only."""
        if isinstance(other, Poly):
            if set(other.terms) != {()}:
                raise TypeError("division by a polynomial")
            other = other.terms[()]
        return self * (1 / Fraction(rational(other)))

    def __pow__(self, k):
        if isinstance(k, Poly):
            if set(k.terms) - {()}:
                raise TypeError("a polynomial exponent")
            k = k.terms.get((), 0)
        k = rational(k)
        if not isinstance(k, int) or k < 0:
            raise TypeError("a power that is not a polynomial")
        out, base = Poly.constant(1), self
        while k:
            if k & 1:
                out = out * base
            k >>= 1
            if k:
                base = base * base
        return out

    # --- calculus and text --------------------------------------------------------------------------------------

    def derivatives(self, wanted=None) -> dict:
        """{symbol index: ∂p/∂symbol} for every symbol p contains (of those wanted, a set), in one pass over its
        terms."""
        out = {}
        for m, c in self.terms.items():
            for i in set(m) if wanted is None else wanted.intersection(m):
                k = m.index(i)
                d = out.setdefault(i, {})
                r = m[:k] + m[k + 1:]
                d[r] = d.get(r, 0) + c * m.count(i)
        return {i: Poly({m: c for m, c in d.items() if c}) for i, d in out.items()}

    def ordered(self) -> list:
        """(monomial, coefficient) in SymPy's printing order (lex, descending, symbols in the order of their
        indices), the constant last."""
        out = sorted(self.terms.items(), key=lambda t: t[0] + (_LAST,))
        if len(out) == 2 and out[1][0] == () and out[1][1] > 0 and out[0][1] < 0 and len(set(out[0][0])) == 1:
            out.reverse()               # (SymPy's one exception: 1 - x, 2 - 3*y**2/2)
        return out

    def text(self, names: list) -> str:
        """As SymPy's str() writes the same polynomial (given names in sorted order): 3*x11**2*x12/2 - x21 + 1."""
        out = []
        for m, c in self.ordered():
            t = _term(m, c, names)
            if not out:
                out.append(t)
            elif t[0] == "-":
                out.append(" - " + t[1:])
            else:
                out.append(" + " + t)
        return "".join(out) or "0"


def _term(m: tuple, c, names: list) -> str:
    factors, i = [], 0
    while i < len(m):
        j = i
        while j < len(m) and m[j] == m[i]:
            j += 1
        factors.append(names[m[i]] if j - i == 1 else f"{names[m[i]]}**{j - i}")
        i = j
    sign = "-" if c < 0 else ""
    c = abs(c)
    num, den = (c.numerator, c.denominator) if isinstance(c, Fraction) else (c, 1)
    if not factors:
        return f"{sign}{num}" + (f"/{den}" if den != 1 else "")
    body = "*".join(factors if num == 1 else [str(num)] + factors)
    return sign + body + (f"/{den}" if den != 1 else "")


def text(v, names: list) -> str:
    """A polynomial or a number as SymPy writes it."""
    return v.text(names) if isinstance(v, Poly) else Poly.constant(v).text(names)


def determinant(rows: list) -> Poly | int | Fraction:
    """det of a square matrix of polynomials and numbers, by Laplace expansion along the rows with every minor
    (the rows below, a set of columns) computed once: n·2ⁿ⁻¹ products and no division."""
    from itertools import combinations

    n = len(rows)
    below = {(): 1}
    for k in range(n - 1, -1, -1):
        here = {}
        for cols in combinations(range(n), n - k):
            total = 0
            for pos, j in enumerate(cols):
                a = rows[k][j]
                if not a:
                    continue
                term = a * below[cols[:pos] + cols[pos + 1:]]
                total = total - term if pos % 2 else total + term
            here[cols] = total
        below = here
    return below[tuple(range(n))]


# --- counting, for the estimates of mcalc.symbolic --------------------------------------------------------------

def monomials(symbols: float, degree: int) -> float:
    """How many monomials of degree at most `degree` there are in `symbols` symbols: C(symbols + degree, degree)."""
    if symbols <= 0 or degree <= 0:
        return 1.0
    return math.exp(min(700.0, math.lgamma(symbols + degree + 1) - math.lgamma(symbols + 1)
                        - math.lgamma(degree + 1)))


def determinant_pairs(n: int, terms: float, degree: int, symbols: float) -> float:
    """The term pairs determinant() multiplies for n×n entries of `terms` terms of degree `degree` in `symbols`
    symbols: for each r, C(n, r) minors of r rows, each the sum of r products of an entry and a minor of r - 1 rows
    (at most (r-1)!·terms^(r-1) terms, and at most the monomials of its degree)."""
    total = 0.0
    for r in range(1, n + 1):
        minor = min(math.factorial(r - 1) * terms ** (r - 1), monomials(symbols, (r - 1) * degree))
        total += math.comb(n, r) * r * terms * minor
    return total
