"""Shapes and values of variables: the ``--shape`` and ``--value`` mini-languages, and readable default values."""

from __future__ import annotations

import ast
import re
import warnings

import numpy as np

from .errors import ValueSpecError
from .ops import fmt_shape

_NAME = r"[A-Za-z_]\w*"
_SPLIT = re.compile(rf",(?=\s*{_NAME}\s*=)")        # commas that start a new NAME=... item
_DIM_SEP = re.compile(r"\s*[x×X*,]\s*")


def parse_shape(text: str, where: str = "--shape") -> tuple[int, ...]:
    """'2x3' → (2, 3); '3' → (3,) (a vector); '3x1' → (3, 1); 'scalar' or '()' → ()."""
    t = text.strip().strip("()[]").strip()
    if t.lower() in ("", "scalar", "s"):
        return ()
    parts = [p for p in _DIM_SEP.split(t)]
    if not all(p.isdigit() for p in parts) or len(parts) > 2:
        raise ValueSpecError(f"malformed shape '{text}' in {where}",
                             hint="write 2x3 for a matrix, 3 for a vector, 3x1 for a column, scalar for a scalar")
    dims = tuple(int(p) for p in parts)
    if any(d < 1 for d in dims):
        raise ValueSpecError(f"shape '{text}' in {where} has a zero dimension", hint="dimensions are at least 1")
    return dims


def split_items(specs) -> list[str]:
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [specs]
    out = []
    for s in specs:
        out.extend(p.strip() for p in _SPLIT.split(s) if p.strip())
    return out


def parse_shape_specs(specs) -> tuple[tuple | None, dict[str, tuple]]:
    """--shape items: 'NAME=SHAPE' for one variable, a bare SHAPE for every variable without its own."""
    default, named = None, {}
    for item in split_items(specs):
        name, eq, rest = item.partition("=")
        if eq:
            name = name.strip()
            if not re.fullmatch(_NAME, name):
                raise ValueSpecError(f"malformed --shape item '{item}': '{name}' is not a variable name")
            named[name] = parse_shape(rest, f"--shape {item}")
        else:
            default = parse_shape(item)
    return default, named


def parse_value_specs(specs) -> dict[str, np.ndarray]:
    values = {}
    for item in ([specs] if isinstance(specs, str) else list(specs or [])):
        name, eq, rest = item.partition("=")
        name = name.strip()
        if not eq or not re.fullmatch(_NAME, name):
            raise ValueSpecError(f"malformed --value '{item}'", hint='write NAME=VALUE, e.g. A="[[1,2],[3,4]]", '
                                 'x="1 2 3", A="1 2; 3 4" or A=@file.npy')
        values[name] = parse_value(rest, name)
    return values


def parse_value(text, name: str = "value") -> np.ndarray:
    """A value from the command line: a number, JSON/Python nested lists, '1 2; 3 4' rows, or @file."""
    if not isinstance(text, str):
        return as_value(text, name)
    t = text.strip()
    if not t:
        raise ValueSpecError(f"empty value for {name}")
    if t.startswith("@"):
        return as_value(_load(t[1:], name), name)
    if t[0] in "[(":
        return as_value(_literal(t, name), name)
    rows = [r for r in t.split(";")]
    try:
        nums = [[float(v) for v in re.split(r"[\s,]+", r.strip()) if v] for r in rows]
    except ValueError:
        raise ValueSpecError(f"cannot read the value of {name}: '{text}'",
                             hint='write a number, [[1,2],[3,4]], "1 2; 3 4" or @file') from None
    if ";" in t:
        nums = [r for r in nums if r] if t.rstrip().endswith(";") else nums
        return as_value(nums, name)
    flat = nums[0]
    return as_value(flat[0] if len(flat) == 1 else flat, name)


def _literal(t: str, name: str):
    import json

    try:
        return json.loads(t)
    except ValueError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(t, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise ValueSpecError(f"cannot read the value of {name}: not a list of numbers",
                             hint="write it like [[1, 2], [3, 4]]") from None

    def walk(n, depth=0):
        if depth > 10:
            raise ValueSpecError(f"the value of {name} is nested too deeply")
        if isinstance(n, (ast.List, ast.Tuple)):
            return [walk(e, depth + 1) for e in n.elts]
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            v = walk(n.operand, depth + 1)
            return -v if isinstance(n.op, ast.USub) else v
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
            return n.value
        if isinstance(n, ast.Name) and n.id.lower() in ("nan", "inf", "infinity"):
            return float(n.id.lower().replace("infinity", "inf"))        # refused by as_value, with its reason
        raise ValueSpecError(f"the value of {name} may hold only numbers in nested lists",
                             hint="write it like [[1, 2], [3, 4]]")

    return walk(tree)


def _load(path: str, name: str):
    try:
        if path.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        data = np.loadtxt(path, delimiter="," if path.endswith(".csv") else None, ndmin=2)
    except (OSError, ValueError, EOFError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e).splitlines()[0][:120]
        raise ValueSpecError(f"cannot read the value of {name} from '{path}': {reason}") from None
    if data.shape == (1, 1):
        return data[0, 0]
    return data[0] if data.shape[0] == 1 else data


def as_value(v, name: str = "value") -> np.ndarray:
    """A finite float array of at most 2 dimensions, or a clear error."""
    try:
        a = np.array(v, dtype=float)
    except (ValueError, TypeError) as e:
        what = "ragged (rows of different lengths)" if "inhomogeneous" in str(e) or "sequence" in str(e) else \
            "not numeric"
        raise ValueSpecError(f"the value of {name} is {what}") from None
    if a.ndim > 2:
        raise ValueSpecError(f"the value of {name} has {a.ndim} dimensions",
                             hint="mcalc works with scalars, vectors and matrices")
    if a.size == 0:
        raise ValueSpecError(f"the value of {name} is empty")
    if not np.all(np.isfinite(a)):
        raise ValueSpecError(f"the value of {name} contains nan or inf", hint="values must be finite numbers")
    return a


def resolve_shapes(variables, values, named, default) -> dict[str, tuple]:
    """Every variable's shape: its value's, else its own --shape, else the default --shape, else a scalar."""
    shapes = {}
    for v in variables:
        if v in values:
            if v in named and named[v] != values[v].shape:
                raise ValueSpecError(f"the value of {v} has shape {fmt_shape(values[v].shape)} but --shape says "
                                     f"{fmt_shape(named[v])}", hint="a value fixes the shape; drop one of the two")
            shapes[v] = values[v].shape
        else:
            shapes[v] = named.get(v, default if default is not None else ())
    return shapes


# --- default values: readable, reproducible, in the domain ------------------------------------------------------

_KINDS = {"integers": ("int", "pos", "signed", "desc", "asc"), "small": ("signed", "pos", "int", "desc", "asc")}
_DRAWS = 3
DEFAULT_ATTEMPTS = _DRAWS * 5


def default_value(name: str, shape: tuple, seed: int, attempt: int, style: str = "integers", rank: int = 0,
                  count: int = 1) -> np.ndarray:
    """Readable values, drawn in kinds tried in turn (three draws each, attempt 0..14):

    int      integers 1..5                 pos     one decimal in [0.1, 0.9]
    signed   one decimal in ±[0.1, 0.9]    desc    integers 1..5 times 10^-rank (x - y > 0 for x before y)
    asc      integers 1..5 times 10^-(count-1-rank)  (y - x > 0)

    rank is the variable's place among the count variables that need values.  Style "integers" starts with
    integers (A@B, X^2, inv(A) read best with them); "small" starts with signed decimals, for expressions with
    functions that saturate or explode away from 0 (tanh(W@x + b) with integers has a Jacobian of zeros).
    The draw depends only on (seed, attempt, name, rank), so adding a variable later in the expression does not
    change the others.  (The standard library's generator, seeded with a string, is stable across runs and costs
    no import time, unlike numpy.random.)"""
    import random

    kind = _KINDS[style][min(attempt // _DRAWS, len(_KINDS[style]) - 1)]
    rng = random.Random(f"mcalc/{seed}/{attempt}/{name}")
    n = int(np.prod(shape, dtype=np.int64))
    if kind in ("int", "desc", "asc"):
        v = np.array(rng.choices(range(1, 6), k=n), dtype=float)
        if kind != "int":
            v *= 10.0 ** -(rank if kind == "desc" else count - 1 - rank)
        return v.reshape(shape)
    v = np.array(rng.choices(range(1, 10), k=n), dtype=float) / 10.0
    if kind == "signed":
        v *= np.array(rng.choices((-1.0, 1.0), k=n))
    return v.reshape(shape)
