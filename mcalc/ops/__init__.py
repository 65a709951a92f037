"""The registry: one entry per operation, grouped by family as JAX groups its primitives.

    arithmetic     - + * / ** and negation, with broadcasting
    elementwise    exp, log, tanh, ...: one line each (a numpy function and f'(x) in the language)
    products       @, dot, outer, kron: bilinear, one linear map per operand
    einsum         einsum, tensordot, inner, vdot: lowered into the products for their differentials
    structural     transpose, indexing, diag, vec, col/row, [a, b], hstack/vstack: linear, they move entries
    piecewise      comparisons, heaviside, maximum, minimum, where, clip: derivatives through their branches
    reductions     sum, mean, trace, norm, softmax, logsumexp
    linalg         inv, det, logdet, matrix powers
    decompositions solve, lstsq, pinv, cholesky, qr, eigh, svd, expm, sqrtm, logm
    constants      eye, ones, zeros, commutation

Everything else (the numeric Jacobian, explain's differentials and closed forms, SymPy entries, the printers,
`mcalc ops`, the generic tests) reads these entries.  See README "Adding an operation".
"""

from ..tree import BINARY, REGISTRY, fmt_shape, size_of
from . import (arithmetic, constants, decompositions, einsum, elementwise, linalg, piecewise,  # noqa: F401
               products, reductions, structural)
from .constants import commutation
from .core import CONSTANTS, FUNCTIONS, LITERALS, METHODS, MODULES, VOCABULARY, Fn, Op, key_text

OPS = REGISTRY

__all__ = ["OPS", "REGISTRY", "BINARY", "FUNCTIONS", "LITERALS", "METHODS", "MODULES", "VOCABULARY", "CONSTANTS", "Fn", "Op", "fmt_shape",
           "size_of", "key_text", "commutation"]
