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

A family is imported when one of its entries is first looked up (index.py, generated from the families, says which
family fills which key; tree.Table does the looking up): `mcalc jac "A@B"` loads products and what they use, not
the decompositions.
"""

from importlib import import_module

from ..tree import BINARY, REGISTRY, fmt_shape, size_of
from . import index
from .core import CONSTANTS, FUNCTIONS, LITERALS, METHODS, MODULES, VOCABULARY, Fn, Op, key_text


def _load(family: str) -> None:
    import_module(f"{__name__}.{family}")


for _table, _index in ((REGISTRY, index.OPS), (FUNCTIONS, index.FUNCTIONS), (METHODS, index.METHODS),
                       (BINARY, index.BINARY)):
    _table.lazy(_index, _load)

OPS = REGISTRY

__all__ = ["OPS", "REGISTRY", "BINARY", "FUNCTIONS", "LITERALS", "METHODS", "MODULES", "VOCABULARY", "CONSTANTS", "Fn",
           "Op", "fmt_shape", "size_of", "key_text"]
