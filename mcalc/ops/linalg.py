"""Matrix functions: the inverse, the determinant and its logarithm, integer matrix powers.  Their differentials
are the Matrix Cookbook's: d X⁻¹ = -X⁻¹ dX X⁻¹, d det X = tr(adj(X) dX) = det(X) tr(X⁻¹ dX),
d log|det X| = tr(X⁻¹ dX), d(Xᵏ) = Σⱼ Xʲ dX Xᵏ⁻¹⁻ʲ."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..algebra import make
from ..printing import ATOM, POWER
from ..tree import call
from . import maps
from .core import Op, PolyRule, Refused, Show, real, register, square


MAX_MATRIX_POWER = 100          # X^k builds k terms of its differential
MAX_CONDITION = 1e14            # beyond it (1-norm) a matrix is refused as singular: X⁻¹ has few correct digits
SINGULAR = "the matrix is singular (or numerically so)"
OVERFLOW = "the inverse of the matrix overflows (entries beyond floating point): the matrix is too small in size, or singular"


def _square_infer(label, scalar=False):
    def infer(shapes, **_):
        square(label, shapes[0])
        return () if scalar else shapes[0]
    return infer


def _cube(node):
    return node.args[0].shape[0] ** 3


def _norm1(x):
    """The 1-norm (largest column sum) of each matrix of a batch."""
    return np.abs(x).sum(axis=-2).max(axis=-1)


def _refuse_ill_conditioned(cond, inverse_norm=None) -> None:
    """Refuses a condition number past MAX_CONDITION (or not finite); an inverse whose norm is not finite has
    overflowed (1e-309 I: well conditioned, and its inverse 1e309 I is not a number)."""
    if inverse_norm is not None and not np.all(np.isfinite(inverse_norm)):
        raise Refused(OVERFLOW)
    with np.errstate(invalid="ignore"):
        if np.any(~np.isfinite(cond) | (cond > MAX_CONDITION)):
            raise Refused(SINGULAR)


def inverse(x: np.ndarray) -> np.ndarray:
    """X⁻¹, refusing a singular X: its 1-norm condition number ‖X‖₁ ‖X⁻¹‖₁ comes with the inverse.  Kept while
    X lives (linops.remember_inverse): the maps that apply X⁻¹ to X's value multiply by it."""
    from ..linops import known_inverse, remember_inverse

    y = known_inverse(x)
    if y is not None:
        return _checked(x, y)
    try:
        y = np.linalg.inv(x.T).T if x.ndim == 2 else np.linalg.inv(x)     # (the same work, and X⁻ᵀ, which a
    except np.linalg.LinAlgError:                                          # gradient wants, is then contiguous)
        raise Refused(SINGULAR) from None
    _checked(x, y)
    return remember_inverse(x, y) if np.isrealobj(x) else y


def _checked(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y, the inverse of x, unless x is refused by its 1-norm condition number ‖x‖₁ ‖y‖₁.  Also for a kept
    inverse: it was checked for the matrix it was computed for, and x may be that matrix's transpose, whose 1-norm
    condition number (the ∞-norm one of the matrix) can be far larger; two passes over n² numbers, against the
    n³ it saves."""
    norm = _norm1(y)
    _refuse_ill_conditioned(_norm1(x) * norm, norm)
    return y


PROBES = 4                      # random right-hand sides solved with every linear system, to find it singular


@lru_cache(maxsize=16)
def _probes(n: int) -> np.ndarray:
    z = np.random.default_rng().standard_normal((n, PROBES))      # (fresh entropy per process: no input can be
    #                                                                   made to avoid them; drawn once per size)
    z.flags.writeable = False
    return z


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A⁻¹ B (B: a matrix, or a batch), refusing a singular A as inv does (1-norm condition number > 10¹⁴)
    without its cost for the others.  Random right-hand sides z are solved with B, at little more than the cost
    of B's: ‖A⁻¹z‖₁/‖z‖₁ bounds ‖A⁻¹‖₁ from below, within a factor of about n (Dixon's randomized estimate; the
    probes are drawn afresh by each process, so no matrix can be built to hide from them).  Only a matrix whose
    estimate comes within that factor of the limit pays for its exact condition number.  An A whose inverse is
    kept (linops.remember_inverse: inv(A) of the expression, checked) is multiplied by."""
    from ..linops import known_inverse

    inverse = known_inverse(a) if a.ndim == 2 else None
    if inverse is not None:
        return _checked(a, inverse) @ b
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n = a.shape[-1]
    z = np.broadcast_to(_probes(n), (*batch, n, PROBES))
    k = b.shape[-1]
    try:
        x = np.linalg.solve(a, np.concatenate([np.broadcast_to(b, (*batch, *b.shape[-2:])), z], axis=-1))
    except np.linalg.LinAlgError:
        raise Refused(SINGULAR) from None
    with np.errstate(all="ignore"):
        grows = (np.abs(x[..., k:]).sum(axis=-2) / np.abs(z).sum(axis=-2)).max(axis=-1)    # (≤ ‖A⁻¹‖₁)
        est = _norm1(a) * grows
        if np.any(~np.isfinite(est) | (est * 10 * n > MAX_CONDITION)):
            if np.all(np.isfinite(est)):
                inv_norm = _norm1(np.linalg.inv(a))
                _refuse_ill_conditioned(_norm1(a) * inv_norm, inv_norm)
            _refuse_ill_conditioned(est, grows)
    return x[..., :k]


def _matrix_sympy(f):
    def apply(sp, node, x):
        out = f(sp, sp.Matrix(x))
        return np.array(out.tolist(), dtype=object).reshape(node.shape) if hasattr(out, "tolist") else out
    return apply


def _show_inverse(p, node):
    (X,) = node.args
    if p.notation == "mc":
        return p.call(node), ATOM
    if p.notation == "uni":
        inner, s = (X.args[0], "⁻ᵀ") if X.op is not None and X.op.name == "transpose" and X.ndim == 2 else (X, "⁻¹")
        return p.sup(p(inner, ATOM), s), ATOM
    inner, s = (X.args[0], "{-\\top}") if X.op is not None and X.op.name == "transpose" else (X, "{-1}")
    return p.sup(p(inner, ATOM), s), ATOM


def _inverse_map(node, read):
    """inv(A) inside a map (solve's, a Cholesky factor's): applied by solving, never formed."""
    from ..linops import Inverse

    return Inverse(read.value(node.args[0]))


def _inv_rules(node):
    """(X⁻¹)⁻¹ = X, (Xᵏ)⁻¹ = X⁻ᵏ."""
    (a,) = node.args
    if a.op is not None and a.op.name == "inv":
        return a.args[0]
    if a.op is not None and a.op.name == "matpow":
        return make("matpow", a.args[0], k=-a.params["k"])
    return None


def det_growth(node) -> float:
    """SymPy's determinant of an n×n matrix: n!·n operations per operation of an entry (det 5×5: 599; growths are
    counted for n = 2..5, Op.growth)."""
    n = node.args[0].shape[0]
    return math.factorial(n) * n


def _inverse_growth(node) -> float:
    """SymPy's inverse (and negative powers): 1.2·n!·n (inv 5×5: 695 an entry)."""
    return 1.2 * det_growth(node)


register(Op("inv", _square_infer("inv"), lambda node, x: inverse(x), as_linop=_inverse_map, rewrite=(_inv_rules,),
            jvp=lambda node, t: None if t[0] is None else -node @ t[0] @ node,
            needs_invertible=True, work=_cube, sympy=_matrix_sympy(lambda sp, M: M.inv()), growth=_inverse_growth,
            show=Show(mc=_show_inverse, uni=_show_inverse, tex=_show_inverse, prec=ATOM),
            example=("inv(A)", "A=2x2"), help="matrix inverse", family="matrix functions"),
         spelled=("inv",), help="matrix inverse")


def adjugate(a: np.ndarray) -> np.ndarray:
    """adj(A), also for singular A: with A = U S Vᵀ, adj(A) = det(U) det(V) V adj(S) Uᵀ."""
    n = a.shape[0]
    if n == 1:
        return np.ones((1, 1))
    u, s, vt = np.linalg.svd(a)
    others = np.array([np.prod(np.delete(s, i)) for i in range(n)])
    return np.linalg.det(u) * np.linalg.det(vt) * (vt.conj().T * others) @ u.conj().T     # (Vᴴ, Uᴴ: complex too)


def _adj_fwd(node, x):
    """det(X) X⁻¹ where X is well conditioned and det X a normal number (more accurate), the SVD formula where
    it is not: a singular X, or a determinant that underflows or overflows (diag(1e-170, 1e-170): det X is 0 in
    floating point, and adj X = 1e-170 I is not)."""
    with np.errstate(all="ignore"):
        if np.linalg.cond(x) < 1e8:
            d = np.linalg.det(x)
            if np.finfo(float).tiny <= abs(d) < np.inf:
                return d * np.linalg.inv(x)
    return adjugate(x)


register(Op("adj", _square_infer("adj"), _adj_fwd,
            expand=lambda node: call("det", node.args[0]) * call("inv", node.args[0]),
            growth=det_growth, show=Show(uni="adj(#)", tex="\\operatorname{adj}\\left(#\\right)"),
            help="the adjugate det(X) X⁻¹, also of a singular X (d det X = tr(adj(X) dX))",
            family="matrix functions"))

def _det_poly_cost(S, node, x):
    """Laplace expansion (polynomial.determinant): n! products of n entries at most."""
    n = node.args[0].shape[0]
    size = S.size(math.factorial(n) * x.terms ** n, n * x.degree)
    return size, S.P.determinant_pairs(n, x.terms, x.degree, S.symbols) * S.C_PAIR


def of_determinant(f) -> PolyRule:
    """f(sympy, d) of the determinant d of polynomial entries (log|det|, its sign): SymPy's function of the
    expanded polynomial determinant, which costs that determinant and the writing of its terms."""
    def value(S, node, x):
        return S.objects(f(S.sympy, S.expression(S.determinant(x))))

    def cost(S, node, x):
        det, seconds = _det_poly_cost(S, node, x)
        return S.expression_size(det.ops + 2), seconds + det.terms * S.write_cost(det.degree)
    return PolyRule(value, cost)


register(Op("det", _square_infer("det", scalar=True), lambda node, x: np.linalg.det(x),
            jvp=lambda node, t: None if t[0] is None else call("trace", call("adj", node.args[0]) @ t[0]),
            needs_invertible=True, work=_cube, sympy=_matrix_sympy(lambda sp, M: M.det()), growth=det_growth,
            poly=PolyRule(lambda S, node, x: S.objects(S.determinant(x)), _det_poly_cost),
            show=Show(tex_name="\\det"), example=("det(A)", "A=3x3"), help="determinant",
            family="matrix functions"),
         spelled=("det",), help="determinant")


def _logdet_fwd(node, x):
    if np.iscomplexobj(x):       # analytic continuation of log|det| near the real axis (for the complex step):
        sign, logabs = np.linalg.slogdet(x)          # log(±det), the determinant kept in logs (1e-200 I: det
        return logabs + np.log(sign * np.sign(sign.real))    # 1e-400 underflows, its log does not)
    return np.linalg.slogdet(x)[1]


_LOGDET_SINGULAR = f"logdet of a singular or numerically singular matrix (condition number beyond " \
                   f"{MAX_CONDITION:.0e}): its derivative X⁻ᵀ is not computable"


def _logdet_refusal(e: Refused) -> str:
    if e.message == OVERFLOW:
        return "logdet of a matrix whose inverse overflows (entries beyond floating point: the matrix is too " \
               "small in size, or singular): its derivative X⁻ᵀ is not a number"
    return _LOGDET_SINGULAR


def _logdet_domain(node, x):
    """Singular, or numerically so: its derivative X⁻ᵀ is refused where inv(X) is (condition number > 10¹⁴), by
    an estimate at a finite-difference step; at the problem's own values _logdet_exact has computed X⁻¹."""
    from ..linops import known_inverse

    x = real(x)
    if known_inverse(x) is not None:
        return None
    try:
        solve(x, np.zeros(x.shape[:-1] + (0,)))          # (the condition estimate alone; singular: refused too)
    except Refused as e:
        return _logdet_refusal(e)
    return None


def _logdet_exact(node, x):
    """At the problem's own values: X⁻¹ itself, whose exact condition number is checked, and which the
    derivative X⁻ᵀ then uses (one factorization less than an estimate and a solve).  Checked before the domain
    (whose estimate it makes needless), and computed whether or not X⁻ᵀ is then asked for (evaluate(), another
    variable's derivative): about 3 LUs' work where the estimate takes one."""
    from ..linops import REMEMBERED_INVERSE

    if np.iscomplexobj(x) or x.ndim != 2 or x.shape[0] < REMEMBERED_INVERSE:
        return None                                       # (small: the estimate costs less than keeping X⁻¹)
    try:
        inverse(x)
    except Refused as e:
        return _logdet_refusal(e)
    return None


_logdet_exact.first = True


def _show_logdet(p, node):
    (X,) = node.args
    if p.notation == "tex":
        return f"\\log\\left\\lvert\\det {p(X, ATOM)}\\right\\rvert", ATOM
    return f"log|det {p(X, ATOM)}|", ATOM


register(Op("logdet", _square_infer("logdet", scalar=True), _logdet_fwd,
            jvp=lambda node, t: None if t[0] is None else call("trace", call("inv", node.args[0]) @ t[0]),
            domain=_logdet_domain, requires=_logdet_exact, needs_invertible=True, work=_cube,
            sympy=_matrix_sympy(lambda sp, M: sp.log(M.det())),      # d log|det| = d log det where both exist
            poly=of_determinant(lambda sp, d: sp.log(d)), growth=det_growth,
            show=Show(uni=_show_logdet, tex=_show_logdet), example=("logdet(A)", "A=2x2"),
            help="log|det X|, as numpy.linalg.slogdet", family="matrix functions"),
         spelled=("logdet",), help="log|det X|, as numpy.linalg.slogdet")


def _matpow_jvp(node, tangents):
    """d(Xᵏ) = Σⱼ Xʲ dX Xᵏ⁻¹⁻ʲ, the powers as products X X ... that share their prefixes; X⁻ᵏ is (X⁻¹)ᵏ with
    d X⁻¹ = -X⁻¹ dX X⁻¹."""
    (dX,) = tangents
    X, k = node.args[0], node.params["k"]
    if dX is None or k == 0:
        return None
    if k < 0:
        X = call("inv", X)
        dX, k = -(X @ dX @ X), -k
    chain = [None, X]
    for _ in range(2, k):
        chain.append(chain[-1] @ X)
    total = None
    for j in range(k):
        t = dX if j == 0 else chain[j] @ dX
        if k - 1 - j:
            t = t @ chain[k - 1 - j]
        total = t if total is None else total + t
    return total


def _matpow_rules(node):
    k = node.params["k"]
    if k == 1:
        return node.args[0]
    if k == -1:
        return call("inv", node.args[0])
    if k == 0:
        return maps.eye(node.shape[0])
    return None


def _show_matpow(p, node):
    X, k = node.args[0], node.params["k"]
    if p.notation == "mc":
        return f"{p(X, ATOM)}^{k if k >= 0 else f'({k})'}", POWER
    if p.notation == "tex":
        return p.sup(p(X, ATOM), f"{{{k}}}"), POWER
    return p.sup(p(X, ATOM), p.superscript(k)), POWER


def _matpow_fwd(node, x):
    k = node.params["k"]
    return np.linalg.matrix_power(inverse(x) if k < 0 else x, abs(k))


def power_steps(k: int) -> list[tuple[int, int]]:
    """The products (a, b) → a + b of X^k by squaring, from X^1."""
    steps, result, base = [], None, 1
    while True:
        if k & 1:
            if result is not None:
                steps.append((result, base))
            result = base if result is None else result + base
        k >>= 1
        if not k:
            return steps
        steps.append((base, base))
        base *= 2


def _matpow_poly(S, node, x):
    """X^k of polynomial entries by squaring, each product counted from its operands' real terms before it is
    computed (k < 0: none, an inverse)."""
    k = node.params["k"]
    if k < 0:
        return None
    if k == 0:
        return np.eye(x.shape[0], dtype=int).astype(object)
    powers = {1: x}
    for a, b in power_steps(k):
        S.afford(float(np.sum(S.terms(powers[a]) @ S.terms(powers[b]))) * S.C_PAIR,
                 f"the matrix power X^{a + b} on the way to X^{k}")
        powers[a + b] = powers[a] @ powers[b]
    return powers[k]


def _matpow_poly_cost(S, node, x):
    """X^k by squaring, as _matpow_poly computes it.  The terms of an entry of a product of powers are bounded by
    the walks through the matrix (n^(k-1) for a matrix of symbols) and by the monomials of that degree; a monomial
    of X^k is a multiset of k entries that forms a walk from the entry's row to its column, which n - 1 balance
    conditions cut by about a factor k each (measured on 3×3, k = 10 and 20: within 3× of the real count)."""
    k, n = node.params["k"], node.shape[0]
    if k < 0:
        return None
    if k == 0:
        return S.size(1, 0, symbols=0), node.size * S.C_ENTRY
    powers, seconds = {1: x.terms}, 0.0

    def terms(j):
        walks = n ** (j - 1) * x.terms ** j
        return max(1.0, min(walks, S.P.monomials(S.symbols, j * x.degree) / j ** min(n - 1, j)))

    for a, b in power_steps(k):
        seconds += n ** 3 * powers[a] * powers[b] * S.C_PAIR
        powers[a + b] = terms(a + b)
    return S.size(powers[k], k * x.degree), seconds


def _matpow_sympy(sp, node, x):
    k = node.params["k"]
    M = sp.Matrix(x) ** k if k else sp.eye(node.shape[0])
    return np.array(M.tolist(), dtype=object)


register(Op("matpow", _square_infer("^"), _matpow_fwd,
            jvp=_matpow_jvp, rewrite=(_matpow_rules,), sympy=_matpow_sympy, growth=_inverse_growth,
            poly=PolyRule(_matpow_poly, _matpow_poly_cost),
            work=lambda node: _cube(node) * max(1, abs(node.params["k"])).bit_length(),
            show=Show(mc=_show_matpow, uni=_show_matpow, tex=_show_matpow, prec=POWER),
            example=("X^3", "X=2x2"), operator="X ^ k",
            help="matrix power, k an integer literal (negative: powers of X⁻¹; binds like **)",
            family="matrix functions"))
