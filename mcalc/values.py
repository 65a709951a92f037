"""Shapes and values of variables: the ``--shape`` and ``--value`` mini-languages, and readable default values."""

from __future__ import annotations

import os
import re
import warnings

import numpy as np

from .errors import Text, UsageError, ValueSpecError, phrase, setting
from .linops import all_entries_finite
from .ops import fmt_shape

_NAME = r"[^\W\d]\w*"                                # a Python name (α too, as expressions have them)
_SPLIT = re.compile(rf",(?=\s*{_NAME}\s*=)")        # commas that start a new NAME=... item
_NUMBERS = re.compile(r"[\s,;]*[-+.\deE]+([\s,;]+[-+.\deE]+)*[\s,;]*")   # '1 2; 3 4', '1,2,3', '-0.5'


def identifier(name: str) -> str:
    """A variable's name as Python reads it in an expression, NFKC-normalised: ℌ is H there, and so here."""
    if name.isascii():
        return name
    import unicodedata

    return unicodedata.normalize("NFKC", name)


def _by_identifier(items, setting_name: str) -> dict:
    """A dict name → item with each name as the expression reads it; two names that read alike are one name given
    twice."""
    out, given = {}, {}
    for k, v in items:
        name = identifier(str(k))
        if name in out:
            other = next((g for g in (str(k), given[name]) if g != name), None)
            raise ValueSpecError(lambda w: f"{getattr(w, setting_name)} gives {name} twice" +
                                 (f" ('{other}' reads as {name}, as in Python)" if other else ""))
        out[name], given[name] = v, str(k)
    return out


def parse_shape(text: str, where: Text = setting("shape")) -> tuple[int, ...]:
    """'2x3' → (2, 3); '3' → (3,) (a vector); '3x1' → (3, 1); 'scalar' or '()' → (); '(2,3)' or '2,3' → (2, 3).  where: the
    setting it was given in, for messages."""
    t = text.strip()
    bracketed = len(t) >= 2 and t[0] in "([" and t[-1] in ")]"
    t = t[1:-1].strip().rstrip(",").strip() if bracketed else t          # (3,) as Python writes it
    if t.lower() == "scalar" or (bracketed and not t):
        return ()
    parts = re.split(r"\s*[,x×X*]\s*", t)                            # (2,2 as numpy's shape is written too)
    if not t or not all(p.isascii() and p.isdigit() for p in parts) or len(parts) > 2:
        raise ValueSpecError(lambda w: f"malformed shape '{text}' in {phrase(where, w)}",
                             hint="write 2x3 for a matrix, 3 for a vector, 3x1 for a column, scalar for a scalar")
    dims = tuple(int(p) for p in parts)
    if any(d < 1 for d in dims):
        raise ValueSpecError(lambda w: f"shape '{text}' in {phrase(where, w)} has a zero dimension",
                             hint="dimensions are at least 1")
    return dims


def split_items(specs) -> list[str]:
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [specs]
    out = []
    for s in specs:
        if not isinstance(s, str):
            raise ValueSpecError(f"shape items must be text like 'A=2x3', got {s!r}")
        out.extend(p.strip() for p in _SPLIT.split(s))
    return out


def parse_shape_specs(specs) -> tuple[tuple | None, dict[str, tuple]]:
    """--shape items: 'NAME=SHAPE' for one variable, a bare SHAPE for every variable without its own."""
    default, named = None, []
    for item in split_items(specs):
        name, eq, rest = item.partition("=")
        if eq:
            name = name.strip()
            if not re.fullmatch(_NAME, identifier(name)):
                raise ValueSpecError(lambda w: f"malformed {w.shape} item '{item}': '{name}' is not a variable name")
            named.append((name, parse_shape(rest, lambda w: w.eg("shape", item))))
        else:
            if default is not None:
                raise ValueSpecError(lambda w: f"{w.shape} gives two default shapes ('{item}' is the second)",
                                     hint=lambda w: f"name the variable: {w.eg('shape', 'A=2x3')}")
            default = parse_shape(item)
    return default, _by_identifier(named, "shape")


def parse_value_specs(specs) -> dict[str, np.ndarray]:
    given = []
    for item in ([specs] if isinstance(specs, str) else list(specs or [])):
        if not isinstance(item, str):
            raise ValueSpecError(f"value items must be text like 'x=1', got {item!r}",
                                 hint="or pass a dict name → array")
        name, eq, rest = item.partition("=")
        name = name.strip()
        if not eq or not re.fullmatch(_NAME, identifier(name)):
            raise ValueSpecError(lambda w: f"malformed {w.value} '{item}'",
                                 hint='write NAME=VALUE, e.g. A="[[1,2],[3,4]]", x="1 2 3", A="1 2; 3 4", t=pi/4 or '
                                      'A=@file.npy')
        given.append((name, rest))
    return {name: parse_value(rest, name) for name, rest in _by_identifier(given, "value").items()}


def parse_value(text, name: Text = "value") -> np.ndarray:
    """A value: '1 2; 3 4' rows, '1 2 3' or '1,2,3' (a vector), @file (.npy, .csv, .txt), or a constant expression
    of the language: 0.5, pi/4, [[1, 2], [3, 4]], eye(3).  name: the variable's, or a setting's (lambda w:
    w.cotangent), for messages."""
    if not isinstance(text, str):
        return as_value(text, name)
    t = text.strip()
    if not t:
        raise ValueSpecError(lambda w: f"empty value for {phrase(name, w)}")
    if t.startswith("@"):
        return as_value(_load(t[1:].strip(), name), name)
    if _depth(t) > MAX_NESTING:
        raise ValueSpecError(lambda w: f"{w.value_of(name)} is nested more than {MAX_NESTING} brackets deep",
                             hint="values are numbers, vectors and matrices: [[1, 2], [3, 4]]")
    if _NUMBERS.fullmatch(t):
        return as_value(_rows(t, name), name)
    if t.startswith("["):                              # plain JSON lists: fast, and ragged ones say so
        import json

        try:
            return as_value(json.loads(t), name)
        except ValueError:
            pass
    return as_value(_constant(t, name), name)


MAX_NESTING = 64


def _depth(t: str) -> int:
    """How deep brackets and parentheses nest (without building anything)."""
    from itertools import accumulate

    return max(accumulate(1 if c in "([{" else -1 if c in ")]}" else 0 for c in t), default=0)


def _rows(t: str, name: Text):
    """'1 2; 3 4' → a matrix (rows split by ';', or by lines as in a file: mcalc's -f plain pasted back), '1 2 3'
    → a vector, '3' → a scalar."""
    lines = [line for line in t.strip().splitlines() if line.strip()]
    if len(lines) > 1 and ";" not in t and any(len(re.split(r"[\s,]+", line.strip())) > 1 for line in lines):
        t = ";".join(lines)                           # (one number a line stays a vector, as it always was)
    rows = [[v for v in re.split(r"[\s,]+", r.strip()) if v] for r in t.split(";")]
    try:
        nums = [[float(v) for v in r] for r in rows]
    except ValueError:
        raise ValueSpecError(lambda w: f"cannot read {w.value_of(name)}: '{t}'",
                             hint='write a number, "1 2; 3 4", [[1,2],[3,4]] or @file') from None
    if ";" in t:
        return [r for r in nums if r] if t.rstrip().endswith(";") else nums
    return nums[0][0] if len(nums[0]) == 1 else nums[0]


def _constant(t: str, name: Text):
    """A constant expression of the language, evaluated like any other (never by Python's eval)."""
    from .errors import McalcError
    from .expr import build, evaluate, topo_order
    from .parse import parse

    try:
        parsed = parse(t)
        names = parsed.variables()
        if names:
            if any(n.lower() in ("nan", "inf", "infinity") for n in names):
                raise ValueSpecError(lambda w: f"{w.value_of(name)} contains nan or inf", hint="values must be finite")
            raise ValueSpecError(lambda w: f"{w.value_of(name)} cannot refer to variables ({', '.join(names)})",
                                 hint="values are numbers, lists like [[1, 2], [3, 4]], or constants like pi/4")
        nodes = topo_order(build(parsed, {}))
        from .budget import check_evaluation

        check_evaluation(nodes, "evaluating it")
        return evaluate(nodes, {})[id(nodes[-1])]
    except ValueSpecError:
        raise
    except McalcError as e:
        if getattr(e, "not_finite", False):
            raise ValueSpecError(lambda w: f"{w.value_of(name)} contains nan or inf", hint="values must be finite") \
                from None
        inner = e
        raise ValueSpecError(lambda w: f"cannot read {w.value_of(name)}: {inner.line(w)}") from None


NO_FILES_OPTION = False        # --no-files, set by the command line for each command


def files_allowed() -> bool:
    """Whether @file may be read: not under --no-files or MCALC_NO_FILES=1 (graders passing untrusted answers)."""
    import os

    return not NO_FILES_OPTION and os.environ.get("MCALC_NO_FILES", "").strip().lower() in ("", "0", "false", "no")


class _Unreadable(Exception):
    """Why a file is not read, in words that never quote its content."""


def _load(path: str, name: Text):
    if not path:
        raise ValueSpecError(lambda w: f"no file name after '@' in {w.value_of(name)}", hint="write A=@file.npy")
    if not files_allowed():
        raise ValueSpecError(lambda w: f"{w.value_of(name)} names a file ('@{path}'), and files are not read here "
                                       "(--no-files or MCALC_NO_FILES=1)", hint="write the numbers themselves")
    try:
        _readable(path)
        with open(path, "rb") as f:
            magic = f.read(6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            binary = magic == b"\x93NUMPY" or magic[:4] == b"PK\x03\x04"     # (by content, whatever the name says)
            if magic == b"\x93NUMPY":
                data = _real(np.load(path, allow_pickle=False))
            elif binary:
                data = _npz(path)
            else:
                size = os.path.getsize(path)
                if size > MAX_TEXT_BYTES:
                    raise _Unreadable(f"a text file of {size:,} bytes, more than the {MAX_TEXT_BYTES:,} mcalc reads "
                                      "as text (save large arrays with numpy.save as .npy)")
                data = _loadtxt(path)
    except OSError as e:
        reason = e.strerror or "not a valid file"
        raise ValueSpecError(lambda w: f"cannot read {w.value_of(name)} from '{path}': {reason}") from None
    except _Unreadable as e:
        reason = str(e)
        raise ValueSpecError(lambda w: f"cannot read {w.value_of(name)} from '{path}': {reason}") from None
    except (ValueError, EOFError, UnicodeError, KeyError, IndexError, __import__("zipfile").BadZipFile) as e:
        reason = "not a valid .npy or .npz file" if magic == b"\x93NUMPY" or magic[:4] == b"PK\x03\x04" or \
            isinstance(e, EOFError) else "not a file of numbers"
        raise ValueSpecError(lambda w: f"cannot read {w.value_of(name)} from '{path}': {reason}",
                             hint="numbers separated by blanks or commas, one row per line, or a .npy or .npz "
                                  "file") from None
    if data.size == 0:
        raise ValueSpecError(lambda w: f"the file '{path}' for {phrase(name, w)} holds no numbers")
    if binary:                                   # (an array keeps its shape: (1, 3) is a row, () a scalar)
        return data
    if data.shape == (1, 1):                     # (text is read as --value reads it: one line is a vector)
        return data[0, 0]
    return data[0] if data.shape[0] == 1 else data


MAX_FILE_BYTES = 1 << 30       # a value file larger than this is refused before it is read
MAX_TEXT_BYTES = 64 << 20      # a text file of numbers (read by numpy.loadtxt, ~10 s per 100 MB): .npy beyond


def _readable(path: str) -> None:
    """A regular file of a bounded size (a device such as /dev/zero, or a pipe, would never end)."""
    import os
    import stat

    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(0, "not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise OSError(0, f"{info.st_size:,} bytes, more than the {MAX_FILE_BYTES:,} mcalc reads")


def _real(data: np.ndarray) -> np.ndarray:
    if data.dtype.kind not in "iuf":
        raise _Unreadable(f"it holds {data.dtype} data, not real numbers")
    return data


def _npz(path: str) -> np.ndarray:
    """The one array of an .npz archive (read without pickles)."""
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.keys())
        if len(names) != 1:
            raise _Unreadable(f"an .npz archive of {len(names)} arrays; mcalc reads one array per file")
        return _real(archive[names[0]])


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _loadtxt(path: str):
    """Numbers separated by commas (.csv) or blanks; a first line with words in it (a header) is skipped.  What
    goes wrong is said without quoting the file."""
    with open(path, encoding="utf-8-sig", errors="strict") as f:
        first = f.readline(4096)
    header = not all(_is_number(w) for w in re.split(r"[\s,;]+", first.strip()) if w)   # (a first row of inf
    #                                                              or nan is numbers, refused as such, not skipped)
    try:
        return np.loadtxt(path, delimiter="," if path.endswith(".csv") else None, ndmin=2, skiprows=int(header),
                          encoding="utf-8-sig")                     # (a BOM, as Excel writes CSV)
    except ValueError as e:
        message = str(e).splitlines()[0]
        if "columns" in message or "number of" in message:
            raise _Unreadable("the rows have different lengths") from None
        raise _Unreadable("not a file of numbers") from None


def as_value(v, name: Text = "value", scan: bool = True) -> np.ndarray:
    """A finite float array of at most 2 dimensions, or a clear error.  Scanned once, for nan and inf (one
    pass: linops.all_entries_finite); subnormal entries are numbers like any other here, as in numpy, and refused only where mcalc judges
    (refuse_subnormal).  scan=False: not scanned (a caller that knows it finite otherwise, plan.py)."""
    if type(v) is np.ndarray and v.dtype == np.float64:        # (the usual case: nothing to convert or refuse)
        a = v.view()
        a.flags.writeable = False
    else:
        a = _converted(v, name)
    if a.ndim > 2:
        raise ValueSpecError(lambda w: f"{w.value_of(name)} has {a.ndim} dimensions",
                             hint="mcalc works with scalars, vectors and matrices")
    if a.size == 0:
        raise ValueSpecError(lambda w: f"{w.value_of(name)} is empty")
    if scan and not all_entries_finite(a):
        raise ValueSpecError(lambda w: f"{w.value_of(name)} contains nan or inf", hint="values must be finite numbers")
    return a


def _converted(v, name: Text) -> np.ndarray:
    """Anything else as a read-only float array: None, complex, dates, text and masked entries refused."""
    try:
        a = np.asarray(v)
        if a.dtype.kind == "O" and any(e is None for e in a.flat):     # (as float, None would be nan)
            raise ValueSpecError(lambda w: f"{w.value_of(name)} is None" if a.ndim == 0 else
                                 f"{w.value_of(name)} has None in it", hint="values must be real numbers")
        if np.iscomplexobj(a):
            raise ValueSpecError(lambda w: f"{w.value_of(name)} is complex", hint="values must be real numbers")
        if a.dtype.kind in "mMUSV":                   # (dates, durations, text, records: numbers only by accident)
            raise ValueSpecError(lambda w: f"{w.value_of(name)} is not numeric (numpy dtype {a.dtype})",
                                 hint="values must be real numbers: convert it first, e.g. x.astype(float)")
        if type(v).__name__ == "MaskedArray" and v.mask is not np.False_ and np.any(v.mask):
            raise ValueSpecError(lambda w: f"{w.value_of(name)} is a masked array with masked entries, whose "
                                           "values would be used as they are", hint="fill them first: x.filled(0)")
        a = np.asarray(a, dtype=float).view()       # (no copy: a read-only view, so the caller's array is never
        a.flags.writeable = False                   # written to; what mcalc writes it copies first)
    except OverflowError:
        raise ValueSpecError(lambda w: f"{w.value_of(name)} has a number too large for floating point") from None
    except (ValueError, TypeError) as e:
        what = "ragged (rows of different lengths)" if "inhomogeneous" in str(e) or "sequence" in str(e) else \
            "not numeric"
        raise ValueSpecError(lambda w: f"{w.value_of(name)} is {what}") from None
    return a


def refuse_subnormal(values: dict, judged: str = "finite differences", nodes=()) -> None:
    """Refuses subnormal entries (0 < |x| < 2.2e-308) where mcalc judges a derivative (by finite differences, or
    an answer in check): arithmetic on such an entry has lost digits already (y*0.3*0.9 at y = 3e-320 is off by
    3e-4), so a verdict could be wrong.  Elsewhere (the API, --fd none) numpy's arithmetic on them is what mcalc
    computes, as JAX's and PyTorch's is.  values: name -> array (a name, or a setting's lambda w: ..., for the message);
    nodes: the expression's, whose constants as written (x * 1e-320) are refused alike."""
    tiny = np.finfo(float).tiny
    for c in nodes:
        value, text = getattr(c, "value", None), getattr(c, "text", "")
        if value is not None and text and value.size and _smallest(value) < tiny and _subnormal(value):
            raise ValueSpecError(f"the constant {text} is below {tiny:.3g} in size (a subnormal number), where "
                                 f"{judged} lose their digits", col=c.col, hint="scale the problem, or write 0")
    for name, a in values.items():
        a = np.asarray(a)
        if a.dtype.kind == "f" and a.size and _smallest(a) < tiny and _subnormal(a):
            hint = (lambda w: f"scale the problem, write 0, or skip the check with {w.eg('fd', 'none')}") \
                if judged == "finite differences" else "scale the problem, or write 0"
            raise ValueSpecError(lambda w: f"{w.value_of(name)} has an entry below {tiny:.3g} in size (a subnormal "
                                           f"number), where {judged} lose their digits", hint=hint)


def _smallest(a: np.ndarray) -> float:
    """min |x| in one pass over the array, a cache-sized piece at a time through one buffer (no array of its
    size)."""
    r = a.reshape(-1)
    if r.size <= 1 << 12:                              # (small: one array of magnitudes costs less than the loop)
        return float(np.abs(r).min())
    buf = np.empty(min(r.size, 1 << 16))
    smallest = np.inf
    for i in range(0, r.size, buf.size):
        piece = buf[: min(buf.size, r.size - i)]
        np.abs(r[i:i + piece.size], out=piece)
        smallest = min(smallest, float(piece.min()))
    return smallest


def _subnormal(a: np.ndarray) -> bool:
    """Whether an entry is subnormal, 0 < |x| < tiny (asked only when the smallest magnitude is below tiny)."""
    tiny = np.finfo(float).tiny
    return bool(np.any((a != 0) & (np.abs(a) < tiny)))


def resolve_shapes(variables, values, named, default) -> dict[str, tuple]:
    """Every variable's shape: its value's, else its own --shape, else the default --shape, else a scalar."""
    shapes = {}
    for v in variables:
        if v in values:
            if v in named and named[v] != values[v].shape:
                given, said = fmt_shape(values[v].shape), fmt_shape(named[v])
                raise ValueSpecError(lambda w: f"the value of {v} has shape {given} but {w.shape} says {said}",
                                     hint="a value fixes the shape; drop one of the two")
            shapes[v] = values[v].shape
        else:
            shapes[v] = named.get(v, default if default is not None else ())
    return shapes


# --- the API's arguments: shapes and values as Python objects or as --shape/--value texts ----------------------

def read_values(values) -> dict[str, np.ndarray]:
    """The API's values: a dict name → array-like or value text, or --value items."""
    if values is None:
        return {}
    if isinstance(values, (str, list, tuple)):
        return parse_value_specs(values)
    if not isinstance(values, dict):
        raise UsageError(f"values must be a dict of name → array, got {type(values).__name__}")
    return {k: parse_value(v, k) for k, v in _by_identifier(values.items(), "value").items()}


def read_shapes(shapes) -> tuple[tuple | None, dict[str, tuple]]:
    """The API's shapes: a dict name → shape (tuple, int or '2x3'), one shape for every variable, or --shape items
    ('2x2', 'A=2x3', ...), where a bare shape is the default for every variable without its own.  Returns (the
    default shape or None, the named shapes)."""
    if shapes is None:
        return None, {}
    if isinstance(shapes, (str, list, tuple)) and not (isinstance(shapes, tuple) and all(
            isinstance(d, int) for d in shapes)):
        return parse_shape_specs(shapes)
    if isinstance(shapes, tuple):
        return _as_shape(shapes, "shape"), {}
    if not isinstance(shapes, dict):
        raise UsageError(f"shapes must be a dict of name → shape, got {type(shapes).__name__}")
    return None, {k: _as_shape(s, k) for k, s in _by_identifier(shapes.items(), "shape").items()}


def _as_shape(s, name) -> tuple:
    if isinstance(s, str):
        return parse_shape(s, f"the shape of {name}")
    if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
        s = (int(s),)
    if not isinstance(s, (tuple, list)) or len(s) > 2 or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1 for d in s):
        raise UsageError(f"the shape of {name} must be a tuple of at most 2 positive integers, got {s!r}")
    return tuple(int(d) for d in s)


# --- default values: readable, reproducible, in the domain ------------------------------------------------------

_KINDS = {"integers": ("int", "pos", "signed", "desc", "asc"), "small": ("signed", "pos", "int", "desc", "asc")}
DRAWS = 3
DEFAULT_ATTEMPTS = DRAWS * 5


def default_value(name: str, shape: tuple, seed: int, attempt: int, style: str = "integers", rank: int = 0,
                  count: int = 1) -> np.ndarray:
    """Readable values, drawn in kinds tried in turn (three draws each, attempt 0..14):

    int      integers 1..5, distinct while they can be
    pos      one decimal in [0.1, 0.9] (more decimals for more than 9 entries: distinct)
    signed   the same, signed              desc    integers 1..5 times 10^-rank (x - y > 0 for x before y)
    asc      integers 1..5 times 10^-(count-1-rank)  (y - x > 0)

    rank is the variable's place among the count variables that need values.  Style "integers" starts with
    integers (A@B, X^2, inv(A) read best with them); "small" starts with signed decimals, for expressions with
    functions that saturate or explode away from 0 (tanh(W@x + b) with integers has a Jacobian of zeros).
    The draw depends only on (seed, attempt, name, rank), so adding a variable later in the expression does not
    change the others.  (The standard library's generator, seeded with a string, is stable across runs and costs
    no import time, unlike numpy.random.)"""
    kind = _KINDS[style][min(attempt // DRAWS, len(_KINDS[style]) - 1)]
    n = int(np.prod(shape, dtype=np.int64))
    draw, signs = _drawing(f"mcalc/{seed}/{attempt}/{name}", n)

    if kind in ("int", "desc", "asc"):
        v = np.array(draw(range(1, 6)), dtype=float)      # small: tan(8) is near a pole, exp(9) is large
        if kind != "int":
            v *= 10.0 ** -(rank if kind == "desc" else count - 1 - rank)
        return v.reshape(shape)
    digits = len(str(n)) if n > 9 else 1              # more decimals where one would repeat (ties in max(x))
    v = np.array(draw(range(1, 10 ** digits)), dtype=float) / 10.0 ** digits
    if kind == "signed":
        v *= signs()
    return v.reshape(shape)


BULK = 4096        # entries beyond which values are drawn by numpy (the standard library takes ~3 µs an entry)


def _drawing(key: str, n: int):
    """(draw(pool): n entries of a range, distinct where the pool allows, so that x[0] and x[1] are told apart;
    signs(): n of ±1), reproducible from the key."""
    if n <= BULK:
        import random

        rng = random.Random(key)
        return ((lambda pool: np.array(rng.sample(pool, n) if n <= len(pool) else rng.choices(pool, k=n),
                                       dtype=float)),
                lambda: np.array(rng.choices((-1.0, 1.0), k=n)))
    import hashlib

    g = np.random.default_rng(int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little"))
    return ((lambda pool: (pool.start + (g.choice(len(pool), n, replace=False) if n <= len(pool) else
                                         g.integers(0, len(pool), n))).astype(float)),
            lambda: g.choice((-1.0, 1.0), n))
