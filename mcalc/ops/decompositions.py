"""Linear algebra beyond the inverse: solving and least squares, the pseudo-inverse, the Cholesky and QR
factorizations, the symmetric eigenvalue problem, singular values, and the matrix exponential, square root and
logarithm, each with its textbook differential:

    d solve(A, b) = A⁻¹ (db - dA x)                        x = A⁻¹ b
    d A⁺ = -A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I - A A⁺) + (I - A⁺A) dAᵀ A⁺ᵀA⁺      (Golub & Pereyra, full rank)
    d L = L Φ(L⁻¹ dX L⁻ᵀ)                                  X = L Lᵀ, Φ: the lower triangle, half the diagonal
    d R = (triu(M) + tril(M, -1)ᵀ) R, d Q = dA R⁻¹ - Q (triu(M) + tril(M, -1)ᵀ)     M = Qᵀ dA R⁻¹
    d λᵢ = uᵢᵀ dX uᵢ,  d U = U (F ∘ (Uᵀ dX U)), Fᵢⱼ = 1/(λⱼ - λᵢ)                    (distinct eigenvalues)
    d σᵢ = uᵢᵀ dA vᵢ                                                               (distinct, nonzero)
    d exp(X) = L(X, dX), the upper right block of exp([[X, dX], [0, X]])            (Mathias 1996)
    d f(X) = U (F ∘ (Uᵀ dX U)) Uᵀ, Fᵢⱼ = (f(λᵢ) - f(λⱼ))/(λᵢ - λⱼ), Fᵢᵢ = f'(λᵢ)     (Daleckii & Krein; sqrtm, logm)

Conventions, where numpy leaves a choice: eigh, eigvalsh, cholesky, sqrtm and logm read the symmetric part
(X + Xᵀ)/2 of their argument, as JAX does (numpy reads the lower triangle: the same for a symmetric X); each
eigenvector's entry of largest magnitude is positive; R of a QR factorization has a positive diagonal.  Functions
that numpy defines to return a tuple are indexed as in numpy: eigh(X)[1], slogdet(X)[1], qr(A)[0], svd(A)[1].
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError, UsageError
from ..printing import ATOM
from ..tree import call, fmt_shape
from . import maps
from .core import FUNCTIONS, Fn, Op, ParamError, PositiveDefinite, Refused, no_symbolic, Show, Symmetric, choice, flag, real, register, square, via
from .linalg import MAX_MATRIX_POWER, det_growth, of_determinant, solve


def _sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


def symmetric(name, why="numpy would read one triangle, JAX the symmetric part"):
    """A requirement on the problem's values: a symmetric matrix.  numpy's eigh reads one triangle, JAX's its
    symmetric part: on a symmetric matrix both agree, elsewhere mcalc refuses to choose (finite-difference
    steps, which break the symmetry by a step, are read through the symmetric part)."""
    def requires(node, x):
        x = np.real(x)
        gap = np.abs(x - np.swapaxes(x, -1, -2))
        if np.any(gap > 1e-10 * max(1.0, float(np.max(np.abs(x))))):
            i, j = np.unravel_index(int(np.argmax(gap)), gap.shape)[-2:]
            return (f"{name} needs a symmetric matrix, got [{i},{j}] = {x[..., i, j].ravel()[0]:g} but "
                    f"[{j},{i}] = {x[..., j, i].ravel()[0]:g} ({why})")
        return None
    requires.hint = "symmetrize it: (X + X.T) / 2"
    return requires


def _sym_node(d):
    return 0.5 * (d + d.T)


def _square(label):
    def infer(shapes, **_):
        square(label, shapes[0])
        return shapes[0]
    return infer


def _cube(node):
    return node.args[0].shape[0] ** 3


def _expm_work(node):
    """Scaling and squaring: about 20 matrix products of 2n³ (measured), of a 2n×2n matrix for the Fréchet
    derivative."""
    n = node.args[0].shape[0] * (2 if len(node.args) == 2 else 1)
    return 40 * n ** 3


def _sympy_matrix(f):
    def apply(sp, node, *xs):
        out = f(sp, *[sp.Matrix(x) if np.ndim(x) == 2 else sp.Matrix(list(x)) for x in xs])
        return np.array(out.tolist(), dtype=object).reshape(node.shape) if hasattr(out, "tolist") else out
    return apply


def _show_item(name, k, **kw):
    """How an item of a tuple numpy returns is written: eigh(X)[1] in mcalc syntax."""
    def show(p, node):
        extra = "".join(f", {key}={node.params[key]}" for key in kw if key in node.params)
        return f"{name}({', '.join(p(a) for a in node.args)}{extra})[{k}]", ATOM
    return show


def _gap_check(values, what, node, rel=1e-9):
    """Refuse (non-differentiable) repeated values: sorted values closer than rel of their scale."""
    v = np.sort(real(values), axis=-1)
    scale = np.maximum(1.0, np.max(np.abs(v), axis=-1, keepdims=True))
    gaps = np.diff(v, axis=-1) / scale
    if np.any(gaps <= rel):
        k = int(np.argmin(np.min(gaps.reshape(-1, gaps.shape[-1]), axis=0)))
        return (f"{what} of {node.args[0].text or 'the matrix'} repeat ({float(np.ravel(v[..., k])[0]):g} twice): "
                f"not differentiable there")
    return None


# --- solve, least squares, the pseudo-inverse -------------------------------------------------------------------

def _solve_infer(shapes, **_):
    A, b = shapes
    square("solve", A)
    if len(b) not in (1, 2) or b[0] != A[0]:
        raise ShapeError(f"solve(A, b) needs b with {A[0]} rows (a vector or a matrix), got shape {fmt_shape(b)}")
    return b


def _solve_fwd(node, A, b):
    if node.args[1].ndim == 1:
        return solve(A, b[..., None])[..., 0]
    return solve(A, b)


def _solve_jvp(node, tangents):
    A, _ = node.args
    dA, db = tangents
    parts = []
    if db is not None:
        parts.append(call("solve", A, db))
    if dA is not None:
        parts.append(-call("solve", A, dA @ node))
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def _solve_linear(node, i, order):
    A, b = node.args
    inverse = call("inv", A)
    return inverse if b.ndim == 1 else maps.sandwich(inverse, b.shape[1], order)


register(Op("solve", _solve_infer, _solve_fwd, jvp=_solve_jvp, linear=_solve_linear, needs_invertible=True, work=_cube,
            sympy=_sympy_matrix(lambda sp, A, b: A.LUsolve(b)),
            growth=lambda node: 3 * det_growth(node),                   # (SymPy's LUsolve, 4×4: 312 an entry)
            example=("solve(A, b)", "A=2x2,b=2"),
            help="x with A x = b (b a vector or a matrix)", family="matrix functions"),
         spelled=("solve",), operands=2, help="x with A x = b, as numpy.linalg.solve: d x = A⁻¹ (db - dA x)")


def _pinv_infer(shapes, **_):
    if len(shapes[0]) != 2:
        raise ShapeError(f"pinv needs a matrix, got shape {fmt_shape(shapes[0])}")
    return shapes[0][::-1]


def _full_rank(node, A):
    s = np.linalg.svd(real(A), compute_uv=False)
    if np.any(s[..., -1] <= 1e-12 * s[..., 0]):
        return "the matrix is rank deficient: not differentiable there (the rank can change)"
    return None


def _pinv_growth(node) -> float:
    """SymPy's pseudo-inverse (and least squares) of k×n or n×k: 10·k!·k·n (pinv 3×2: 92 an entry)."""
    shape = node.args[0].shape
    k = min(shape)
    return 10 * math.factorial(k) * k * max(shape)


def _pinv_jvp(node, tangents):
    (dA,) = tangents
    A, P = node.args[0], node
    m, n = A.shape
    return (-(P @ dA @ P) + P @ P.T @ dA.T @ (maps.eye(m) - A @ P) + (maps.eye(n) - P @ A) @ dA.T @ P.T @ P)


register(Op("pinv", _pinv_infer, lambda node, x: np.linalg.pinv(x), jvp=_pinv_jvp, domain=_full_rank,
            analytic=False, sympy=_sympy_matrix(lambda sp, A: A.pinv()), growth=_pinv_growth,
            example=("pinv(A)", "A=3x2"),
            show=Show(uni=lambda p, node: (p.sup(p(node.args[0], ATOM), "⁺"), ATOM),
                      tex=lambda p, node: (p.sup(p(node.args[0], ATOM), "{+}"), ATOM)),
            help="the Moore-Penrose pseudo-inverse (of a full-rank matrix)", family="matrix functions"),
         spelled=("pinv",), help="the Moore-Penrose pseudo-inverse A⁺ of a full-rank matrix (numpy.linalg.pinv)")


def _lstsq_infer(shapes, **_):
    A, b = shapes
    if len(A) != 2 or A[0] < A[1]:
        raise ShapeError(f"lstsq(A, b) needs a tall or square matrix A (m ≥ n), got shape {fmt_shape(A)}")
    if len(b) not in (1, 2) or b[0] != A[0]:
        raise ShapeError(f"lstsq(A, b) needs b with {A[0]} rows, got shape {fmt_shape(b)}")
    return (A[1],) + tuple(b[1:])


def _lstsq_fwd(node, A, b):
    P = np.linalg.pinv(A)
    return (P @ b[..., None])[..., 0] if node.args[1].ndim == 1 else P @ b


register(Op("lstsq", _lstsq_infer, _lstsq_fwd, jvp=via(lambda node: call("pinv", node.args[0]) @ node.args[1]),
            domain=lambda node, A, b: _full_rank(node, A), analytic=False,
            sympy=_sympy_matrix(lambda sp, A, b: A.pinv() * b), growth=_pinv_growth,
            show=Show(mc=_show_item("lstsq", 0)),
            example=("lstsq(A, b)[0]", "A=3x2,b=3"), help="the least-squares solution of A x ≈ b (A of full column "
                                                          "rank)", family="matrix functions"))
FUNCTIONS["lstsq"] = Fn("lstsq", operands=2, literals=("rcond",), kinds={"rcond": choice(None)},
                        parts=(("solution", "lstsq"), ("residuals", None), ("rank", None),
                               ("singular values", None)),
                        help="np.linalg.lstsq(A, b)[0]: the least-squares solution, d x = dA⁺ b + A⁺ db")


# --- determinants: slogdet --------------------------------------------------------------------------------------

register(Op("detsign", lambda shapes, **_: _square("slogdet")(shapes) and (), lambda node, x: np.sign(np.linalg.det(real(x))), flat=True,
            analytic=False, sympy=_sympy_matrix(lambda sp, A: sp.sign(A.det())), example=("slogdet(A)[0] * A", "A=2x2"),
            poly=of_determinant(lambda sp, d: sp.sign(d)), growth=det_growth,
            show=Show(mc=_show_item("slogdet", 0), uni="sign(det #)", tex="\\operatorname{sign}\\left(\\det #\\right)"),
            help="the sign of the determinant (derivative 0)", family="matrix functions"))
FUNCTIONS["slogdet"] = Fn("logdet", parts=(("sign", "detsign"), ("logabsdet", "logdet")),
                          help="np.linalg.slogdet(X): [0] the sign of det X, [1] log|det X|")


# --- Cholesky and QR ----------------------------------------------------------------------------------------------

def _not_pd(name, x) -> str | None:
    w = np.linalg.eigvalsh(_sym(real(x)))
    if np.any(w[..., 0] <= 0):
        return (f"{name} needs a symmetric positive definite matrix; the smallest eigenvalue of its symmetric "
                f"part is {float(np.min(w[..., 0])):g}")
    return None


def _pd_domain(name):
    def domain(node, x):
        try:                                         # (a Cholesky factorization is the cheapest test)
            np.linalg.cholesky(_sym(real(x)))
            return None
        except np.linalg.LinAlgError:
            return _not_pd(name, x)
    return domain


def _cholesky(node, x):
    """The factor, or (the factorization failing: its own test of the domain) what is wrong with x."""
    try:
        return np.linalg.cholesky(_sym(x))
    except np.linalg.LinAlgError:
        raise Refused(_not_pd("cholesky", x) or "cholesky: the matrix is not positive definite to working "
                      "precision") from None


def _cholesky_jvp(node, tangents):
    """dL = L Φ(L⁻¹ dX L⁻ᵀ), Φ: the lower triangle with half the diagonal (dX read symmetric)."""
    (dX,) = tangents
    L = node
    Li = call("inv", L)
    S = Li @ _sym_node(dX) @ Li.T
    return L @ (call("tril", S) - 0.5 * call("diag", call("diag", S)))


register(Op("cholesky", _square("cholesky"), _cholesky, jvp=_cholesky_jvp, requires=symmetric("cholesky"), interval=PositiveDefinite(),
            analytic=False, work=_cube, growth=lambda node: node.args[0].shape[0] ** 3,     # (3×3: 8 an entry)
            sympy=_sympy_matrix(lambda sp, X: ((X + X.T) / 2).cholesky(hermitian=False)),
            example=("cholesky(X)", "X=2x2"), help="L with L Lᵀ = X, lower triangular (X symmetric positive definite)",
            family="matrix functions"),
         spelled=("cholesky",), help="L with L Lᵀ = X (numpy.linalg.cholesky; X's symmetric part, as JAX reads it)")


def _qr_infer(shapes, **_):
    A = shapes[0]
    if len(A) != 2 or A[0] < A[1]:
        raise ShapeError(f"qr needs a tall or square matrix (m ≥ n) to differentiate, got shape {fmt_shape(A)}")
    return A


def _qr(x):
    q, r = np.linalg.qr(x)
    s = np.sign(np.diagonal(real(r), axis1=-2, axis2=-1))
    s = np.where(s == 0, 1.0, s)
    return q * s[..., None, :], r * s[..., :, None]


def _qr_m(node):
    """(Q, R, M = Qᵀ dA R⁻¹ without dA): the nodes the differentials share."""
    A = node.args[0]
    return call("qr_q", A), call("qr_r", A), call("inv", call("qr_r", A))


def _qr_growth(node) -> float:
    """SymPy's QR: Gram-Schmidt's nested square roots, 14·935^(k-2) for k columns (2×2: 14, 3×3: 13 087 an
    entry)."""
    shape = node.args[0].shape
    return 14 * 935.0 ** (min(shape) - 2) * max(shape) / min(shape)


def _qr_r_jvp(node, tangents):
    (dA,) = tangents
    Q, R, Ri = _qr_m(node)
    M = Q.T @ dA @ Ri
    return (call("triu", M) + call("tril", M, k=-1).T) @ R


def _orthonormal_columns(node):
    """Q, U (thin or square) and the eigenvectors: orthonormal columns; orthonormal rows too where square."""
    return True, node.shape[0] == node.shape[1]


def _orthonormal_rows(node):
    return node.shape[0] == node.shape[1], True


def _qr_q_jvp(node, tangents):
    (dA,) = tangents
    Q, R, Ri = _qr_m(node)
    M = Q.T @ dA @ Ri
    return dA @ Ri - Q @ (call("triu", M) + call("tril", M, k=-1).T)


register(Op("qr_q", _qr_infer, lambda node, x: _qr(x)[0], jvp=_qr_q_jvp, domain=_full_rank, analytic=False,
            orthonormal=_orthonormal_columns, growth=_qr_growth,
            sympy=_sympy_matrix(lambda sp, A: A.QRdecomposition()[0]), show=Show(mc=_show_item("qr", 0),
                                                                                 uni="Q(#)", tex="Q\\left(#\\right)"),
            example=("qr(A)[0]", "A=3x2"), help="Q of A = Q R, orthonormal columns (R's diagonal positive)",
            family="matrix functions"))
register(Op("qr_r", lambda shapes, **_: (_qr_infer(shapes)[1],) * 2, lambda node, x: _qr(x)[1], jvp=_qr_r_jvp,
            domain=_full_rank, analytic=False, sympy=_sympy_matrix(lambda sp, A: A.QRdecomposition()[1]),
            growth=_qr_growth,
            show=Show(mc=_show_item("qr", 1), uni="R(#)", tex="R\\left(#\\right)"),
            example=("qr(A)[1]", "A=3x2"), help="R of A = Q R, upper triangular with a positive diagonal",
            family="matrix functions"))
FUNCTIONS["qr"] = Fn("qr_r", literals=("mode",), kinds={"mode": choice("reduced")},
                     parts=(("Q", "qr_q"), ("R", "qr_r")),
                     help="np.linalg.qr(A): [0] Q, [1] R (reduced; R's diagonal positive)")


def _scipy_qr(shapes, given):
    """scipy.linalg.qr's default mode='full' completes Q to m×m with columns A does not determine."""
    m, n = shapes[0]
    if m > n and given.get("mode") != "economic":
        raise ParamError("of a tall A defaults to mode='full', whose Q has columns that A does not determine (no "
                         "derivative)", hint="mode='economic' (or np.linalg.qr) gives the reduced Q")
    return {"mode": None}


def _scipy_cholesky(shapes, given):
    if not given.get("lower"):
        raise ParamError("returns the upper factor U (X = Uᵀ U) unless lower=True",
                         hint="cholesky(X).T is SciPy's U; lower=True, or np.linalg.cholesky, the lower L")
    return {"lower": None}


for _module in ("scipy.linalg", "jax.scipy.linalg"):
    FUNCTIONS[f"{_module}.qr"] = Fn("qr_r", literals=("mode",), kinds={"mode": choice("economic", "full")},
                                    parts=(("Q", "qr_q"), ("R", "qr_r")), derive=_scipy_qr,
                                    help=f"{_module}.qr(A, mode='economic'): [0] Q, [1] R")
    FUNCTIONS[f"{_module}.cholesky"] = Fn("cholesky", literals=("lower",), kinds={"lower": flag},
                                          derive=_scipy_cholesky, help=f"{_module}.cholesky(X, lower=True): L")


# --- the symmetric eigenvalue problem -----------------------------------------------------------------------------

def _eigh(x):
    """Eigenvalues and eigenvectors of the symmetric part, each eigenvector's largest entry positive."""
    w, U = np.linalg.eigh(_sym(x))
    return w, U * _column_signs(U)


def _column_signs(U):
    """±1 per column (shape (..., 1, columns)) that makes each column's largest entry positive: the sign convention
    of eigenvectors and singular vectors, which numpy leaves to LAPACK."""
    big = np.take_along_axis(U, np.argmax(np.abs(U), axis=-2)[..., None, :], axis=-2)
    return np.where(np.real(big) < 0, -1.0, 1.0)


def _tie_distance(U):
    """How far each column is from a tie of its two largest entries, where its sign convention flips it."""
    a = np.sort(np.abs(U), axis=-2)
    return np.min(a[..., -1, :] - a[..., -2, :]) if U.shape[-2] > 1 else np.inf


def _sign_kink(node, x):
    return _tie_distance(_eigh(np.real(x))[1])


def _sympy_eigvalsh(sp, node, x):
    if np.shape(x) != (2, 2):
        raise UsageError("mcalc's symbolic eigenvalues stop at 2×2 matrices", hint="drop --symbolic")
    a, b, d = x[0, 0], (x[0, 1] + x[1, 0]) / 2, x[1, 1]
    r = sp.sqrt(((a - d) / 2) ** 2 + b ** 2)
    return np.array([(a + d) / 2 - r, (a + d) / 2 + r], dtype=object)


def _closed_form_growth(node) -> float:
    """SymPy's closed forms of eigen- and singular values: (k!)²·k³ for k of them (2×2: 15 and 33 an entry)."""
    k = min(node.args[0].shape)
    return math.factorial(k) ** 2 * k ** 3


def _eig_domain(node, x):
    return _gap_check(np.linalg.eigvalsh(_sym(np.real(x))), "eigenvalues", node)


register(Op("eigvalsh", lambda shapes, **_: (_square("eigvalsh")(shapes)[0],),
            lambda node, x: np.linalg.eigvalsh(_sym(x)), requires=symmetric("eigvalsh"),
            verify=lambda node, w, x: _gap_check(np.real(w), "eigenvalues", node),
            jvp=lambda node, t: call("diag", call("eigh_vectors", node.args[0]).T @ t[0] @ call("eigh_vectors",
                                                                                                 node.args[0])),
            interval=Symmetric(), analytic=False, work=_cube, sympy=_sympy_eigvalsh, growth=_closed_form_growth,
            show=Show(uni="λ(#)", tex="\\lambda\\left(#\\right)"), example=("eigvalsh(X)", "X=2x2"),
            help="the eigenvalues of a symmetric matrix, ascending", family="matrix functions"),
         spelled=("eigvalsh",), help="eigenvalues of a symmetric matrix, ascending: d λᵢ = uᵢᵀ dX uᵢ")


def _eigvec_jvp(node, tangents):
    """dU = U (F ∘ (Uᵀ dX U)), Fᵢⱼ = 1/(λⱼ - λᵢ) off the diagonal, 0 on it."""
    (dX,) = tangents
    X, U = node.args[0], node
    w = call("eigvalsh", X)
    n = X.shape[0]
    F = 1 / (call("row", w) - call("col", w) + maps.eye(n)) - maps.eye(n)
    return U @ (F * (U.T @ _sym_node(dX) @ U))


register(Op("eigh_vectors", _square("eigh"), lambda node, x: _eigh(x)[1], jvp=_eigvec_jvp, domain=_eig_domain,
            orthonormal=_orthonormal_columns,
            requires=symmetric("eigh"), kink=_sign_kink, sided=False,
            interval=Symmetric(), analytic=False, work=_cube, sympy=no_symbolic("eigenvectors"),
            show=Show(mc=_show_item("eigh", 1), uni="U(#)", tex="U\\left(#\\right)"),
            example=("eigh(X)[1]", "X=2x2"), note="each column's largest entry positive",
            help="the eigenvectors of a symmetric matrix, as columns (eigenvalues ascending)",
            family="matrix functions"))
FUNCTIONS["eigh"] = Fn("eigvalsh", parts=(("eigenvalues", "eigvalsh"), ("eigenvectors", "eigh_vectors")),
                       help="np.linalg.eigh(X): [0] the eigenvalues (ascending), [1] the eigenvectors")


# --- singular values -----------------------------------------------------------------------------------------------

def _svd_infer(which):
    def infer(shapes, full_matrices=True, **_):
        A = shapes[0]
        if len(A) != 2:
            raise ShapeError(f"svd needs a matrix, got shape {fmt_shape(A)}")
        m, n, k = A[0], A[1], min(A)
        return {"u": (m, m if full_matrices else k), "s": (k,), "vh": (n if full_matrices else k, n)}[which]
    return infer


def _svd_fwd(which):
    def fwd(node, x):
        full = node.params.get("full_matrices", True)
        if which == "s":
            return np.linalg.svd(x, compute_uv=False)
        u, vh = _svd_signs(*np.linalg.svd(x, full_matrices=full)[::2])
        return u if which == "u" else vh
    return fwd


def _svd_signs(u, vh):
    """Each column of U with its largest entry positive, and the matching row of Vᵀ flipped with it (numpy leaves
    the signs to LAPACK; uᵢ vᵢᵀ, and so A, is unchanged): a convention that is a function of A."""
    k = min(u.shape[-2], vh.shape[-1])
    sign = _column_signs(u)                                                 # (..., 1, columns of U)
    row = np.ones(vh.shape[:-1] + (1,))
    row[..., :k, 0] = sign[..., 0, :k]
    return u * sign, vh * row


def _svd_sign_kink(node, x):
    """The left singular vectors' distance from a flip of their sign convention."""
    return _tie_distance(np.linalg.svd(np.real(x), full_matrices=False)[0])


def _svd_domain(node, s, x=None):
    """Read off the singular values themselves: none repeated, none 0."""
    s = np.real(s)
    if np.any(s[..., -1] <= 1e-12 * np.maximum(s[..., 0], 1e-300)):
        return f"a singular value of {node.args[0].text or 'the matrix'} is 0: not differentiable there"
    return _gap_check(s, "singular values", node)


def _singular_vectors_jvp(node, tangents):
    """Of the thin SVD A = U S Vᵀ with distinct nonzero singular values (Townsend, "Differentiating the singular
    value decomposition", 2016): with P = Uᵀ dA V and Fᵢⱼ = 1/(sⱼ² - sᵢ²) off the diagonal, 0 on it,

        dU = U (F ∘ (P S + S Pᵀ)) + (I - U Uᵀ) dA V S⁻¹
        dV = V (F ∘ (S P + Pᵀ S)) + (I - V Vᵀ) dAᵀ U S⁻¹

    The full U or V of a rectangular A is not a function of A (any basis of the complement would do)."""
    A, (dA,) = node.args[0], tangents
    m, n = A.shape
    if node.params.get("full_matrices", True) and (m > n if node.op.name == "svd_u" else n > m):
        raise UsageError("the full U and Vᵀ of a rectangular matrix have no derivative (their extra columns are any "
                         "basis of the complement)", hint="use svd(A, full_matrices=False)")
    U = call("svd_u", A, full_matrices=False)
    V = call("svd_vh", A, full_matrices=False).T
    s = call("svdvals", A)
    k = min(m, n)
    S = call("diag", s)
    s2 = s * s
    F = 1 / (call("row", s2) - call("col", s2) + maps.eye(k)) - maps.eye(k)
    P = U.T @ dA @ V
    if node.op.name == "svd_u":
        return U @ (F * (P @ S + S @ P.T)) + (maps.eye(m) - U @ U.T) @ dA @ V @ call("diag", 1 / s)
    dV = V @ (F * (S @ P + P.T @ S)) + (maps.eye(n) - V @ V.T) @ dA.T @ U @ call("diag", 1 / s)
    return dV.T


def _svd_vectors_domain(node, v, x):
    return _svd_domain(node, np.linalg.svd(np.real(x), compute_uv=False))


def _sympy_svdvals(sp, node, x):
    """√ of the eigenvalues of the smaller Gram matrix, for two singular values."""
    A = sp.Matrix(x)
    G = A.T * A if A.shape[1] <= A.shape[0] else A * A.T
    if G.shape != (2, 2):
        raise UsageError("mcalc's symbolic singular values stop at two of them", hint="drop --symbolic")
    return np.array([sp.sqrt(v) for v in _sympy_eigvalsh(sp, node, np.array(G.tolist(), dtype=object))[::-1]],
                    dtype=object)


register(Op("svdvals", _svd_infer("s"), _svd_fwd("s"),
            jvp=lambda node, t: call("diag", call("svd_u", node.args[0], full_matrices=False).T @ t[0]
                                     @ call("svd_vh", node.args[0], full_matrices=False).T),
            verify=_svd_domain, analytic=False, work=_cube, sympy=_sympy_svdvals, growth=_closed_form_growth,
            show=Show(uni="σ(#)", tex="\\sigma\\left(#\\right)"), example=("svdvals(A)", "A=3x2"),
            help="the singular values, descending", family="matrix functions"),
         spelled=("svdvals",), help="the singular values, descending (scipy.linalg.svdvals): d σᵢ = uᵢᵀ dA vᵢ")
for _which, _k, _name in (("u", 0, "svd_u"), ("vh", 2, "svd_vh")):
    register(Op(_name, _svd_infer(_which), _svd_fwd(_which), jvp=_singular_vectors_jvp, analytic=False,
                verify=_svd_vectors_domain, kink=_svd_sign_kink, sided=False, work=_cube,
                orthonormal=_orthonormal_columns if _which == "u" else _orthonormal_rows,
                sympy=no_symbolic("singular vectors"), show=Show(mc=_show_item("svd", _k, full_matrices=True),
                                                                 uni="U(#)" if _which == "u" else "Vᵀ(#)"),
                help="the left singular vectors (each column's largest entry positive, not LAPACK's signs)"
                if _which == "u" else "the right singular vectors, as rows (each flipped with its column of U)",
                example=(f"svd(A)[{_k}]", "A=3x3"), family="matrix functions"))
FUNCTIONS["svd"] = Fn("svdvals", literals=("full_matrices",), kinds={"full_matrices": choice(True, False)},
                      derive=lambda shapes, given: {"full_matrices": None if given.get("full_matrices", True) else False},
                      parts=(("U", "svd_u"), ("singular values", "svdvals"), ("Vh", "svd_vh")),
                      help="np.linalg.svd(A): [0] U, [1] the singular values, [2] Vᵀ (each column of U with its largest "
                           "entry positive); U and Vᵀ differentiable with full_matrices=False or a square A")


# --- matrix functions: expm, sqrtm, logm --------------------------------------------------------------------------

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def expm(A: np.ndarray) -> np.ndarray:
    """exp(A) for (stacks of) square matrices: scaling and squaring with the [13/13] Padé approximant (Higham
    2005), real or complex."""
    A = np.asarray(A)
    norm = float(np.max(np.sum(np.abs(A), axis=-2))) if A.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm / _THETA13)))) if norm > _THETA13 else 0
    A = A / 2.0 ** s
    eye = np.broadcast_to(np.eye(A.shape[-1]), A.shape)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    b = _PADE13
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    R = np.linalg.solve(V - U, V + U)
    for _ in range(s):
        R = R @ R
    return R


def expm_frechet(A: np.ndarray, E: np.ndarray) -> np.ndarray:
    """L(A, E), the derivative of exp at A in the direction E: the upper right block of exp([[A, E], [0, A]])."""
    A, E = np.broadcast_arrays(A, E)
    n = A.shape[-1]
    big = np.zeros(A.shape[:-2] + (2 * n, 2 * n), dtype=np.result_type(A, E))
    big[..., :n, :n] = A
    big[..., n:, n:] = A
    big[..., :n, n:] = E
    return expm(big)[..., :n, n:]


def _frechet_linear(node, i, order):
    """No closed form; its adjoint in E is L(Aᵀ, ·): tr(Cᵀ L(A, E)) = tr(L(Aᵀ, C)ᵀ E)."""
    return call("numeric_map", of=node, argnum=i, n=node.args[i].size)


def _frechet_rules(node):
    """L(A, I) = exp(A): exp(A + tI) = exp(A) eᵗ."""
    from ..algebra import is_op, make

    A, E = node.args
    return make("expm", A) if is_op(E, "eye") else None


def _frechet_jvp(node, tangents):
    """Linear in E; in A, L(A, E) is the corner of exp(M), M = [[A, E], [0, A]], so its derivative along dA is the
    corner of L(M, [[dA, 0], [0, dA]])."""
    A, E = node.args
    dA, dE = tangents
    parts = [] if dE is None else [call("expm_frechet", A, dE)]
    if dA is not None:
        n = A.shape[0]
        Z = maps.zeros(n, n)
        M = call("vstack", call("hstack", A, E), call("hstack", Z, A))
        D = call("vstack", call("hstack", dA, Z), call("hstack", Z, dA))
        parts.append(call("index", call("expm_frechet", M, D), key=(slice(None, n), slice(n, None))))
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


register(Op("expm", _square("expm"), lambda node, x: expm(x),
            jvp=lambda node, t: call("expm_frechet", node.args[0], t[0]), work=_expm_work, sympy=no_symbolic("expm"),
            show=Show(uni="exp(#)", tex="\\exp\\left(#\\right)"), example=("expm(X)", "X=2x2"),
            help="the matrix exponential", family="matrix functions"),
         spelled=("expm",), help="the matrix exponential (scipy.linalg.expm): d exp(X) = L(X, dX), the Fréchet "
                                 "derivative")
def _frechet_infer(shapes, **_):
    square("expm_frechet", shapes[0])
    if tuple(shapes[1]) != tuple(shapes[0]):
        raise ShapeError(f"expm_frechet(A, E) needs E shaped like A {fmt_shape(shapes[0])}, got {fmt_shape(shapes[1])}")
    return shapes[0]


register(Op("expm_frechet", _frechet_infer, lambda node, a, e: expm_frechet(a, e),
            jvp=_frechet_jvp, linear=_frechet_linear, sympy=no_symbolic("expm_frechet"), work=_expm_work,
            adjoint=lambda node, i, C: call("expm_frechet", call("transpose", node.args[0]), C) if i == 1 else None,
            rewrite=(_frechet_rules,),
            show=Show(mc=_show_item("expm_frechet", 1), uni="L_exp(#0, #1)", tex="L_{\\exp}\\left(#0, #1\\right)"),
            example=("expm_frechet(X, E)[1]", "X=2x2,E=2x2"),
            help="L(A, E): the derivative of expm at A in the direction E", family="matrix functions"))
FUNCTIONS["expm_frechet"] = Fn("expm", operands=2, parts=(("expm", None), ("frechet", "expm_frechet")),
                               help="scipy.linalg.expm_frechet(A, E)[1]: the derivative of expm at A along E")


def _spectral(name, f, loewner, sympy_name):
    """A function of a symmetric positive definite matrix through its eigendecomposition, f(X) = U f(Λ) Uᵀ, and
    its Daleckii-Krein differential U (F ∘ (Uᵀ dX U)) Uᵀ with F the divided differences of f (loewner)."""

    def fwd(node, x):
        w, U = _eigh(x)
        return (U * f(w)[..., None, :]) @ np.swapaxes(U, -1, -2)

    def jvp(node, tangents):
        (dX,) = tangents
        X = node.args[0]
        U = call("eigh_vectors", X)
        F = loewner(call("eigvalsh", X), X.shape[0])
        return U @ (F * (U.T @ _sym_node(dX) @ U)) @ U.T

    register(Op(name, _square(name), fwd, jvp=jvp, domain=_pd_domain(name),
                requires=symmetric(name, f"scipy's {name} takes any square matrix; mcalc's, symmetric positive "
                                         "definite ones"),
                interval=PositiveDefinite(),
                analytic=False, work=_cube, sympy=no_symbolic(name), example=(f"{name}(X)", "X=2x2"),
                help=f"the matrix {sympy_name} of a symmetric positive definite matrix", family="matrix functions"),
             spelled=(name,), help=f"the principal matrix {sympy_name} (scipy.linalg.{name}) of a symmetric positive "
                                   "definite matrix")


def _sqrt_loewner(w, n):
    r = call("sqrt", w)
    return 1 / (call("col", r) + call("row", r))             # (√a - √b)/(a - b) = 1/(√a + √b), also at a = b


def _log_loewner(w, n):
    lw = call("log", w)
    same = call("equal", call("col", w), call("row", w))
    gap = call("where", same, 1.0, call("col", w) - call("row", w))
    return call("where", same, 1 / w, (call("col", lw) - call("row", lw)) / gap)


_spectral("sqrtm", np.sqrt, _sqrt_loewner, "square root")
_spectral("logm", np.log, _log_loewner, "logarithm")


# --- matrix powers, negative ones too -----------------------------------------------------------------------------

def _power_bound(shapes, given):
    if abs(given.get("k", 0)) > MAX_MATRIX_POWER:
        raise ParamError(f"raises to the power {given['k']}; mcalc goes up to ±{MAX_MATRIX_POWER}")
    return {}


FUNCTIONS["matrix_power"] = Fn("matpow", literals=("k",), required=1, derive=_power_bound,
                               help="X^k for an integer k (numpy.linalg.matrix_power; negative: powers of X⁻¹)")
