"""mcalc: exact Jacobians of matrix expressions, cross-checked by finite differences.

    >>> from mcalc import jacobian
    >>> jacobian("A@B", wrt="A", values={"A": [[1, 2], [3, 4]], "B": [[5, 6], [7, 8]]})
    array([[5., 7., 0., 0.],
           [6., 8., 0., 0.],
           [0., 0., 5., 7.],
           [0., 0., 6., 8.]])

Row-major flattening (numpy, PyTorch) and numerator layout (one row per output entry) unless asked otherwise:
this is I ⊗ Bᵀ; with order="col" it is Bᵀ ⊗ I, the vec of the Kronecker identities.
"""

import sys as _sys
from contextlib import contextmanager as _contextmanager
from types import ModuleType as _ModuleType

from .errors import (API as _API, DomainError, InternalError, McalcError, ParseError, ShapeError, TooLargeError,
                     UnknownNameError, UsageError, ValueSpecError)

__version__ = "0.1.0"
__all__ = ["jacobian", "gradient", "hessian", "hvp", "vjp", "jvp", "evaluate", "explain", "check", "Explanation",
           "Verdict", "WrongEntry", "McalcError", "ParseError", "UnknownNameError", "ShapeError",
           "ValueSpecError", "DomainError", "TooLargeError", "UsageError", "InternalError"]


def __getattr__(name):
    """The result classes of explain() and check(), loaded when first named (import mcalc stays light)."""
    if name in ("Explanation", "Verdict", "WrongEntry"):
        from . import api_results

        return getattr(api_results, name)
    raise AttributeError(f"module 'mcalc' has no attribute '{name}'")


@_contextmanager
def _only_mcalc_errors():
    """The API's promise: bad input raises McalcError, in the API's words (shapes="A=2x2", not --shape A=2x2);
    anything else is a bug, reported as InternalError."""
    try:
        yield
    except McalcError as e:
        raise e.phrased(_API) from None
    except RecursionError:
        raise ParseError("the expression is nested too deeply") from None
    except MemoryError:
        raise TooLargeError("mcalc ran out of memory", hint="use smaller shapes") from None
    except Exception as e:  # noqa: BLE001 - converting is the point
        raise InternalError(f"{type(e).__name__}: {e}", hint="this is a bug in mcalc; please report it") from e


def jacobian(expr, wrt=None, values=None, shapes=None, order="row", layout="numerator", *, seed=0, sparse=False):
    """The exact Jacobian of expr as a 2-D array: one row per output entry and one column per entry of the wrt
    variables (concatenated in the order given), both flattened in `order` ("row"/"C" or "col"/"F"); transposed
    for layout="denominator".  Variables without a value get reproducible defaults drawn with `seed`.
    sparse=True: a scipy.sparse array built from the Jacobian's structure, never dense (needs SciPy)."""
    from .plan import run
    from .problem import prepare

    with _only_mcalc_errors():
        if sparse:
            _need_scipy()
            return prepare(expr, wrt, values, shapes, order, layout, seed).analytic_sparse()

        def full():
            return prepare(expr, wrt, values, shapes, order, layout, seed).analytic()

        out = run("jacobian", expr, wrt, values, shapes, seed, order=order, layout=layout, full=full)
        return full() if out is None else out


def evaluate(expr, values=None, shapes=None, *, seed=0):
    """The value of expr, as mcalc computes it (the function whose Jacobian jacobian() gives), at the given
    values (defaults drawn with `seed` for the others)."""
    import numpy as np

    from .problem import prepare
    from .tree import topo_order

    with _only_mcalc_errors():
        from .expr import build, evaluate as values_of
        from .parse import parse

        parsed = parse(expr)
        if not parsed.variables():                            # a constant: nothing to choose values for
            root = build(parsed, {})
            return np.array(values_of(topo_order(root), {})[id(root)], dtype=float)
        p = prepare(expr, None, values, shapes, "row", "numerator", seed)
        return np.array(p.node_values[id(p.root)], dtype=float)


def vjp(expr, wrt, cotangent, values=None, shapes=None, *, seed=0):
    """vᵀJ for a cotangent v shaped like expr's value: the gradient of sum(v * expr) with respect to the one wrt
    variable, shaped like it, computed in reverse without forming J."""
    return _product("vjp", expr, wrt, cotangent, values, shapes, seed)


def jvp(expr, wrt, tangent, values=None, shapes=None, *, seed=0):
    """J u for a tangent u shaped like the one wrt variable: the derivative of expr along u, shaped like expr's
    value, computed forward without forming J."""
    return _product("jvp", expr, wrt, tangent, values, shapes, seed)


def _product(kind, expr, wrt, direction, values, shapes, seed):
    from .plan import run
    from .problem import prepare
    from .products import product

    with _only_mcalc_errors():
        def full():
            return product(prepare(expr, wrt, values, shapes, seed=seed, evaluate=False), kind, direction,
                           fd="none").value

        out = run(kind, expr, wrt, values, shapes, seed, direction, full=full)
        return full() if out is None else out


def hessian(expr, wrt=None, values=None, shapes=None, order="row", *, seed=0):
    """The exact Hessian of a scalar expr: the n×n matrix of second derivatives for the n entries of the wrt
    variables (concatenated in the order given, each flattened in `order`), the Jacobian of the gradient."""
    from .second import hessian_problem
    from .problem import prepare

    with _only_mcalc_errors():
        return hessian_problem(prepare(expr, wrt, values, shapes, order, seed=seed)).analytic()


def explain(expr, wrt=None, values=None, shapes=None, order="row", layout="numerator", *, hessian=False, seed=0):
    """The derivation, as `mcalc explain` gives it, with the numbers: an Explanation holding the Jacobian at the
    values used (.jacobian, a numpy array, with .row_labels and .col_labels), the values (.values; .chosen: those
    mcalc chose), the differential and the steps, and the closed form (.closed_form in mcalc's syntax, as
    `mcalc explain -f plain` prints it; .latex; .verified).  It displays as the command line's coloured view in a
    terminal (rich.print), as HTML or LaTeX in Jupyter, and as that view in plain text (print).
    hessian=True: the Hessian of a scalar expr, as the Jacobian of its gradient (its closed form, where known)."""
    from .api_results import explanation

    with _only_mcalc_errors():
        return explanation(expr, wrt, values, shapes, order, layout, seed, hessian)


def check(expr, expect, wrt=None, values=None, shapes=None, order="row", layout="numerator", *, hessian=False,
          tol=None, seed=0):
    """Is expect the Jacobian of expr (or its gradient, shaped like the one wrt variable; hessian=True: its
    Hessian)?  expect: an array, or text as `mcalc check --expect` takes it (a formula in the same variables,
    kron(eye(2), B.T), checked at other values too; numbers, '1 2; 3 4').  A Verdict: .right (also bool()),
    .expected and .given arrays, .wrong (the wrong entries by label, with both values), .diagnosis (which usual
    slip: the other order, the transpose, a sign, a factor), displayed as `mcalc check` shows it (see explain).
    tol: the relative tolerance (default 1e-8)."""
    from .api_results import verdict

    with _only_mcalc_errors():
        return verdict(expr, expect, wrt, values, shapes, order, layout, seed, hessian, tol)


def hvp(expr, wrt, vector, values=None, shapes=None, *, seed=0):
    """H v for a scalar expr and a direction v shaped like the one wrt variable, shaped like it: the derivative of
    the gradient along v, computed without forming H."""
    from .second import hessian_problem
    from .problem import prepare
    from .products import product

    with _only_mcalc_errors():
        hp = hessian_problem(prepare(expr, wrt, values, shapes, seed=seed))
        if len(hp.wrt) != 1:
            raise UsageError(f"hvp takes one wrt variable, and there are {len(hp.wrt)}",
                             hint="ask once per variable, or use hessian()")
        return product(hp, "jvp", vector, fd="none").value


def _need_scipy():
    from importlib.util import find_spec

    if find_spec("scipy") is None:
        raise UsageError("sparse Jacobians need SciPy", hint="pip install scipy")


def gradient(expr, wrt, values=None, shapes=None, *, seed=0):
    """The gradient of a scalar-valued expr with respect to one variable, shaped like that variable."""
    from .plan import run

    with _only_mcalc_errors():
        def full():
            from .problem import prepare
            from .results import require_gradient

            p = prepare(expr, wrt, values, shapes, seed=seed)
            require_gradient(p)
            return p.analytic().reshape(p.wrt[0].shape)

        out = run("gradient", expr, wrt, values, shapes, seed, full=full)
        return full() if out is None else out


# --- explain and check: functions of the API, and modules of the package -------------------------------------------

class _Package(_ModuleType):
    """mcalc, whose explain and check are the API's functions and also name modules of the package (explain.py,
    check.py).  Python makes an imported submodule an attribute of its package, in the function's place; so that
    mcalc.check(...) still works, the module is made callable as the function when that happens.  Its other
    attributes stay the module's (mcalc.check.check_text, read or patched as code written for the module
    expects)."""

    def __setattr__(self, name, value):
        function = _ALSO_MODULES.get(name)
        if function is not None and type(value) is _ModuleType:
            value.__class__ = _callable_module(name, function)
        super().__setattr__(name, value)


def _callable_module(name: str, function):
    """A class for a module that, called, is the function (with its signature and help)."""
    from inspect import Parameter, signature

    def __call__(self, *args, **kwargs):
        return function(*args, **kwargs)

    own = signature(function)
    __call__.__signature__ = own.replace(parameters=[Parameter("self", Parameter.POSITIONAL_ONLY),
                                                     *own.parameters.values()])
    __call__.__doc__ = function.__doc__
    return type(f"{name}_module", (_ModuleType,), {"__call__": __call__})


_ALSO_MODULES = {"explain": explain, "check": check}
_sys.modules[__name__].__class__ = _Package
