"""A problem set: many answers checked at once (mcalc check --set problems.toml, or .json).

A set is a TOML or JSON file: an optional title, an optional ``[defaults]`` table that every problem starts from,
and the problems (TOML ``[[problem]]``, JSON ``"problems": [...]`` or a bare list), each with the keys of one
``mcalc check`` command::

    [[problem]]
    name = "A@B wrt A"              # shown in its row (default: the expression)
    expr = "A@B"                    # required (here or in [defaults])
    wrt = "A"                       # or ["r", "t"], or "r,t" (default: every variable)
    shape = "A=2x3,B=3x2"           # --shape's syntax, a list of its items, or a table { A = "2x3", x = 3 }
    value = { B = "1 2; 3 4; 5 6" } # a table name → --value's text, a number or a list of lists
    order = "row"                   # the words --order and --layout take: col, column-major, F, denom ...
    layout = "numerator"
    hessian = false                 # true: expect is the Hessian (--hessian)
    tol = 1e-8
    seed = 0
    expect = "kron(eye(2), B.T)"    # the answer: a formula, numbers ("1 2; 3 4"), or (JSON) a list of lists

A problem's keys replace its defaults' (a shape or a value table is not merged).  The set's structure is checked
before anything runs: a file that is not TOML or JSON, without problems, with an unknown key (said with a
did-you-mean) or a key of the wrong type is refused as a whole (exit 2).  What a problem's own text gets wrong (its
expression, shapes, values, answer: a parse or shape error, too much work, an @file) refuses that problem alone, in
its row.  A set never reads files: its answers are untrusted text, so @file is refused in every value and answer.
Each problem has the work budget of one command (budget.py), its answer included, and the set is bounded in size
(MAX_SET_BYTES, MAX_PROBLEMS).  The verdicts come from the same path as one ``mcalc check``: prepare, then
check_text (hessian_problem first for a Hessian).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field

from .errors import CLI, McalcError, printable

MAX_SET_BYTES = 16 << 20       # a set file larger than this is refused before it is parsed
MAX_PROBLEMS = 10_000

KEYS = ("name", "expr", "wrt", "shape", "value", "order", "layout", "hessian", "tol", "seed", "expect")
ALIASES = {"expression": "expr", "shapes": "shape", "values": "value", "answer": "expect"}   # (the API's words)
TOP_KEYS = ("title", "defaults", "problem", "problems")

# How messages name the settings in a set: as its keys (shape = "A=2x2"), not as options (--shape A=2x2).
SET_WORDS = CLI._replace(shape="shape", value="value", with_value="in value", wrt="wrt", order="order",
                         layout="layout", tol="tol", seed="seed", separator=" = ", quote='"')


@dataclass(frozen=True)
class BadAnswer:
    """An answer of a type no answer has (a table, null): refused in its problem's row, not as the set's error."""

    reason: str


SET_SECONDS = 120.0            # a set runs at most this long (MCALC_SET_SECONDS); the problems left are refused


def _set_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get("MCALC_SET_SECONDS", SET_SECONDS)))
    except ValueError:
        return SET_SECONDS


class SetError(McalcError):
    """The set file itself is wrong: the whole set is refused (exit 2)."""

    kind = "problem set"


@dataclass
class Spec:
    """One problem as the set gives it, its keys checked and its defaults applied."""

    index: int                      # 1-based
    name: str | None
    expr: str
    wrt: object = None
    shape: object = None
    value: object = None
    order: str = "row"
    layout: str = "numerator"
    hessian: bool = False
    tol: float | None = None
    seed: int = 0
    expect: object = None

    @property
    def label(self) -> str:
        return self.name if self.name is not None else self.expr


@dataclass
class Row:
    """A problem's verdict: right, wrong (with the check's result) or refused (with the reason)."""

    spec: Spec
    verdict: str                    # "right", "wrong" or "refused"
    code: int                       # as one mcalc check would exit: 0, 1, 2 (3: a bug in mcalc)
    message: str                    # one line
    result: object = None           # check.CheckResult, unless refused
    note: str | None = None


@dataclass
class SetResult:
    source: str
    title: str | None
    rows: list = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.rows)

    @property
    def all_right(self) -> bool:
        return all(r.verdict == "right" for r in self.rows)

    @property
    def exit_code(self) -> int:
        return 0 if self.all_right else 1

    def summary(self) -> str:
        n, right = len(self.rows), self.count("right")
        if right == n:
            return f"all {n} right" if n > 1 else "1 of 1 right"
        return f"{right} of {n} right, {self.count('wrong')} wrong, {self.count('refused')} refused"


# --- reading the set ------------------------------------------------------------------------------------------

def read_set(path: str) -> tuple[str | None, list[Spec]]:
    """The set's title and its problems, each checked for unknown keys and wrong types; a set that cannot be read
    is a SetError.  path '-' reads standard input."""
    doc = _parse(_read_bytes(path), path)
    if isinstance(doc, list):
        doc = {"problems": doc}
    if not isinstance(doc, dict):
        raise SetError(f"'{_shown(path)}' holds a {_type_name(doc)}, not a table of problems",
                       hint='give a list of problems: [[problem]] tables in TOML, {"problems": [...]} in JSON')
    for key in doc:
        if key not in TOP_KEYS:
            raise SetError(f"'{_shown(path)}' has an unknown key '{_shown(key)}' at the top level"
                           f"{_did_you_mean(key, TOP_KEYS)}", hint="a set has title, [defaults] and [[problem]]")
    if "problem" in doc and "problems" in doc:
        raise SetError(f"'{_shown(path)}' has both 'problem' and 'problems'", hint="put every problem in one list")
    title = doc.get("title")
    if title is not None and not isinstance(title, str):
        raise SetError(f"the title in '{_shown(path)}' must be text")
    problems = doc.get("problems", doc.get("problem"))
    if isinstance(problems, dict):                  # (a TOML [problem] table: one problem)
        problems = [problems]
    if not problems:
        raise SetError(f"'{_shown(path)}' has no problems",
                       hint='add [[problem]] tables (TOML) or a "problems" list (JSON), each with expr and expect')
    if not isinstance(problems, list):
        raise SetError(f"the problems in '{_shown(path)}' must be a list, not a {_type_name(problems)}")
    if len(problems) > MAX_PROBLEMS:
        raise SetError(f"'{_shown(path)}' has {len(problems):,} problems, more than the {MAX_PROBLEMS:,} mcalc "
                       "checks in one set", hint="split it into several sets")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise SetError("[defaults] must be a table of keys, as a problem's")
    defaults = _keys(defaults, "[defaults]", allowed=tuple(k for k in KEYS if k not in ("name", "expect")))
    return title, [_spec(k, p, defaults) for k, p in enumerate(problems, 1)]


def _read_bytes(path: str) -> bytes:
    import stat

    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_SET_BYTES + 1)
        else:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(0, "not a regular file")
            with open(path, "rb") as f:
                data = f.read(MAX_SET_BYTES + 1)
    except OSError as e:
        raise SetError(f"cannot read '{_shown(path)}': {e.strerror or 'not a valid file'}") from None
    if len(data) > MAX_SET_BYTES:
        raise SetError(f"'{_shown(path)}' is larger than the {MAX_SET_BYTES:,} bytes mcalc reads",
                       hint="split it into several sets")
    return data


def _parse(data: bytes, path: str):
    """TOML or JSON, by the file's extension, else by its content (JSON starts with { or [, but not as a TOML table
    header does, [defaults] or [[problem]]; other valid JSON, null or 42, is read as JSON, and refused as a set)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SetError(f"'{_shown(path)}' is not UTF-8 text") from None
    ext = os.path.splitext(path)[1].lower()
    first = text.lstrip().split("\n", 1)[0].strip()
    header = re.fullmatch(r"\[\[?\s*[A-Za-z_][\w-]*(\s*\.\s*[\w-]+)*\s*\]\]?\s*(#.*)?", first) is not None
    as_json = ext == ".json" or ext != ".toml" and first[:1] in ("{", "[") and not header
    if not as_json and ext != ".toml" and not header:
        try:
            return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_once)
        except (ValueError, RecursionError):
            pass
    if as_json:
        try:
            return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_once)
        except (ValueError, RecursionError) as e:
            reason = e.msg if isinstance(e, json.JSONDecodeError) else "nested too deeply" \
                if isinstance(e, RecursionError) else str(e)
            where = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
            raise SetError(f"'{_shown(path)}' is not valid JSON: {reason}{where}") from None
    toml = _toml(path)
    try:
        return toml.loads(text)
    except (toml.TOMLDecodeError, RecursionError) as e:
        reason = str(e).splitlines()[0] if str(e) else "nested too deeply"
        what = "TOML" if ext == ".toml" else "TOML (nor JSON)"
        raise SetError(f"'{_shown(path)}' is not valid {what}: {reason}",
                       hint="a set is [[problem]] tables of key = value lines (or JSON)") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _once(pairs: list) -> dict:
    """A JSON object whose keys are each given once (json keeps the last of two silently; TOML refuses them)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key '{k}' is given twice in one object")
        out[k] = v
    return out


def _toml(path: str):
    """The standard library's TOML reader (Python ≥ 3.11), or tomli where it is installed."""
    try:
        import tomllib
        return tomllib
    except ImportError:
        pass
    try:
        import tomli
        return tomli
    except ImportError:
        raise SetError(f"reading TOML ('{_shown(path)}') needs Python 3.11 or later (this is "
                       f"{sys.version_info.major}.{sys.version_info.minor})",
                       hint='write the set as JSON: {"problems": [{"expr": ..., "expect": ...}]}') from None


def _spec(index: int, raw, defaults: dict) -> Spec:
    if not isinstance(raw, dict):
        raise SetError(f"problem {index} is a {_type_name(raw)}, not a table of keys",
                       hint="each problem has keys: expr, wrt, shape, value, expect ...")
    where = f"problem {index}" + (f" ('{_shown(raw['name'])}')" if isinstance(raw.get("name"), str) else "")
    keys = {**defaults, **_keys(raw, where, allowed=KEYS)}
    if "expr" not in keys:
        raise SetError(f"{where} has no expr", hint='give the expression: expr = "A@B"')
    return Spec(index, keys.pop("name", None), **keys)


def _keys(raw: dict, where: str, allowed: tuple) -> dict:
    """The table's keys (aliases read as their keys), each of the type it must have."""
    from .problem import normalize_layout, normalize_order

    out = {}
    for key, v in raw.items():
        k = ALIASES.get(key, key)
        if k in KEYS and k not in allowed:
            raise SetError(f"{where} cannot hold {k}: each problem has its own")
        if k not in allowed:
            raise SetError(f"{where} has an unknown key '{_shown(key)}'{_did_you_mean(key, allowed)}",
                           hint="keys: " + ", ".join(allowed))
        if k in out:
            raise SetError(f"{where} gives {k} twice ('{_shown(key)}' is the second)")
        bad = _bad_type(k, v)
        if bad and k == "expect":                   # (the student's answer: that problem's row is refused)
            v, bad = BadAnswer(bad), None
        if bad:
            raise SetError(f"{where}: {k} {bad}")
        if k in ("order", "layout"):
            try:
                v = normalize_order(v) if k == "order" else normalize_layout(v)
            except McalcError as e:
                raise SetError(f"{where}: {e.message}", hint=e.hint) from None
        out[k] = v
    return out


def _bad_type(key: str, v) -> str | None:
    """What is wrong with a key's type, or None."""
    def is_text_list(x):
        return isinstance(x, list) and all(isinstance(s, str) for s in x)

    def is_number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if key in ("name", "expr", "order", "layout") and not isinstance(v, str):
        return f"must be text, not a {_type_name(v)}"
    if key == "wrt" and not (isinstance(v, str) or is_text_list(v)):
        return 'must be a name, a list of names or "r,t"'
    if key == "shape" and not (isinstance(v, (str, dict)) or is_text_list(v)):
        return 'must be text like "A=2x3,x=3", a list of such items, or a table { A = "2x3", x = 3 }'
    if key == "value" and not (isinstance(v, (str, dict)) or is_text_list(v)):
        return 'must be a table { A = "1 2; 3 4", x = [1, 2] } (or text like "x=1 2 3")'
    if key == "hessian" and not isinstance(v, bool):
        return "must be true or false"
    if key == "tol" and not (is_number(v) and 0 < v < 1):
        return "must be a relative tolerance between 0 and 1, e.g. tol = 1e-6"
    if key == "seed" and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
        return "must be a whole number, 0 or more"
    if key == "expect" and not (isinstance(v, (str, list)) or is_number(v)):
        return f"must be the answer as text (or numbers), not a {_type_name(v)}"
    return None


def _did_you_mean(key: str, allowed) -> str:
    names = list(allowed) + [a for a, k in ALIASES.items() if k in allowed]
    close = difflib.get_close_matches(str(key).lower(), names, n=1, cutoff=0.6)
    return f" (did you mean '{ALIASES.get(close[0], close[0])}'?)" if close else ""


def _type_name(v) -> str:
    return {dict: "table", list: "list", str: "text", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(v), type(v).__name__)


def _shown(text, most: int = 60) -> str:
    t = printable(str(text))
    return t if len(t) <= most else t[:most - 1] + "…"


# --- checking ----------------------------------------------------------------------------------------------------

def check_set(path: str) -> SetResult:
    """Every problem of the set checked; a problem's own bad input is its row's verdict, never the set's."""
    from . import values

    title, specs = read_set(path)
    result = SetResult("<stdin>" if path == "-" else path, title)
    before = values.NO_FILES_OPTION
    values.NO_FILES_OPTION = True                   # (a set's text is untrusted: it never names a file to read)
    deadline, seconds = time.monotonic() + _set_seconds(), _set_seconds()
    try:
        result.rows = [check_one(s) if time.monotonic() < deadline else
                       Row(s, "refused", 2, f"not checked: the set ran past its {seconds:g} s (MCALC_SET_SECONDS)")
                       for s in specs]
    finally:
        values.NO_FILES_OPTION = before
    return result


def check_one(spec: Spec) -> Row:
    from .check import check_answer, check_text
    from .problem import prepare, unused_note
    from .second import hessian_problem
    from .values import parse_value

    if isinstance(spec.expect, BadAnswer):
        return Row(spec, "refused", 2, f"the answer (expect) {spec.expect.reason}")
    try:
        prob = prepare(spec.expr, spec.wrt, spec.value, spec.shape, spec.order, spec.layout, spec.seed,
                       evaluate=False)
        note = unused_note(prob)
        target = hessian_problem(prob) if spec.hessian else prob
        if spec.expect is None or isinstance(spec.expect, str) and not spec.expect.strip():
            return Row(spec, "refused", 2, "no answer (expect is missing or empty)")
        if isinstance(spec.expect, str):
            r = check_text(target, spec.expect, spec.tol, SET_WORDS)
        else:
            r = check_answer(target, parse_value(spec.expect, "the answer"), spec.tol, SET_WORDS)
    except McalcError as e:
        return Row(spec, "refused", 2, _refusal(e, spec))
    except MemoryError:
        return Row(spec, "refused", 2, "too large: mcalc ran out of memory (hint: use smaller shapes)")
    except RecursionError:
        return Row(spec, "refused", 2, "syntax error: the expression is nested too deeply")
    except Exception as e:                          # (a bug in mcalc: said in the row, the rest of the set runs)
        return Row(spec, "refused", 3, f"internal error: {type(e).__name__}: {printable(e)} (a bug in mcalc; "
                                       "please report it with the problem)")
    if note:
        note = note.removeprefix("--shape ").replace(" (--ignore-unused silences this)", "")
        note = f"shape: {note}" if note else None
    return Row(spec, "right" if r.right else "wrong", 0 if r.right else 1, _verdict_line(r), r, note)


def _refusal(e: McalcError, spec: Spec) -> str:
    """The error as one line, in the set's words, saying whether it is in the expression or the answer."""
    e.words = SET_WORDS
    line = e.line(SET_WORDS).replace("(--no-files or MCALC_NO_FILES=1)", "(a problem set never reads files)")
    source = (e.source or "").strip()
    if source and isinstance(spec.expect, str) and source == spec.expect.strip() and source != spec.expr.strip() \
            and e.part is None:                           # (check.read_answer names the answer itself)
        line = f"in the answer: {line}"
    elif source and source == spec.expr.strip() and e.col is not None:
        line = f"in the expression: {line}"
    return printable(line)


def _verdict_line(r) -> str:
    """What is right or wrong, in one line: the size, then the diagnosis, most telling first."""
    if r.right:
        return printable("; ".join(r.diagnosis)) if r.diagnosis else "right"          # (right (as a column))
    parts = [f"wrong size: {r.size_message}"] if r.size_message else []
    parts += r.diagnosis
    if not parts:
        parts = [f"{r.wrong_count} of {r.expected.size} entries are wrong"]
    return printable("; ".join(parts))


# --- showing the verdicts ------------------------------------------------------------------------------------------

def as_json(s: SetResult) -> str:
    from .output import dumps

    return dumps({"set": s.source, "title": s.title, "problems": [_row_doc(r) for r in s.rows],
                  "summary": {"problems": len(s.rows), "right": s.count("right"), "wrong": s.count("wrong"),
                              "refused": s.count("refused"), "all_right": s.all_right}})


def _row_doc(row: Row) -> dict:
    from .check import wrong_entries_doc

    spec, r = row.spec, row.result
    doc = {"index": spec.index, "name": spec.name, "expression": spec.expr, "verdict": row.verdict,
           "code": row.code, "message": row.message, "note": row.note}
    if r is None:
        return doc
    p = r.problem
    doc.update({"kind": "hessian" if p.what == "Hessian" else r.kind, "wrt": [v.name for v in p.wrt],
                "order": p.order, "layout": p.layout, "diagnosis": list(r.diagnosis),
                "size_message": r.size_message, "entries": int(r.expected.size), "wrong_count": r.wrong_count,
                "wrong_entries": wrong_entries_doc(r), "max_abs_error": r.max_abs_error,
                "max_rel_error": r.max_rel_error, "tol": r.tol, "judged_elsewhere": r.elsewhere})
    return doc


MESSAGE_WIDTH = 300           # characters of a row's message in the pretty table (JSON has all of it)


def view(s: SetResult):
    """A table, one row per problem (its number, name, verdict and what is wrong in one line), and the summary."""
    return _SetView(s)


class _SetView:
    """Built for the console it is printed on: where its encoding lacks mcalc's symbols (✓, ᵀ, ∂), the text is
    written in ASCII before the columns are measured, so that they stay aligned."""

    def __init__(self, s: SetResult):
        self.s = s

    def __rich_console__(self, console, options):
        from rich.table import Table
        from rich.text import Text

        from .render import STYLE

        fit = _ascii if options.ascii_only else (lambda t: t)
        s = self.s
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0))
        table.add_column("#", justify="right", style="dim")
        table.add_column("problem", max_width=40, overflow="fold")
        table.add_column("verdict", no_wrap=True)
        table.add_column("why", overflow="fold")
        marks = {"right": ("✓ right", STYLE["ok"]), "wrong": ("✗ wrong", STYLE["fail"]),
                 "refused": ("refused", "yellow")}
        for row in s.rows:
            mark, style = marks[row.verdict]
            why = "" if row.message == "right" else row.message.removeprefix("right ")
            why = why if len(why) <= MESSAGE_WIDTH else why[:MESSAGE_WIDTH - 1] + "…"
            cell = Text(fit(why))
            if row.note:
                cell.append(("  " if why else "") + fit(f"note: {_shown(row.note, MESSAGE_WIDTH)}"),
                            style=STYLE["note"])
            table.add_row(str(row.spec.index), Text(fit(_shown(row.spec.label, 80))), Text(fit(mark), style=style),
                          cell)
        head = Text.assemble(("problem set  ", STYLE["key"]), fit(_shown(s.source, 200)))
        if s.title:
            head.append(fit(f": {_shown(s.title, 200)}"))
        ok = s.all_right
        yield head
        yield Text("")
        yield table
        yield Text("")
        yield Text.assemble((fit("✓ " if ok else "✗ "), STYLE["ok"] if ok else STYLE["fail"]), s.summary())


def _ascii(text: str) -> str:
    """Text as the command line writes it where the output's encoding is ASCII (⊗ as x, ᵀ as ^T, ✓ as ok)."""
    import codecs

    from .cli_errors import _ascii_fallback

    try:
        codecs.lookup_error("mcalc-ascii")
    except LookupError:
        codecs.register_error("mcalc-ascii", _ascii_fallback)
    return text.encode("ascii", errors="mcalc-ascii").decode("ascii")


# --- the command line: mcalc check EXPR --expect ANSWER, or mcalc check --set FILE ---------------------------------

PER_PROBLEM = ("wrt", "shape", "value", "seed", "order", "layout", "tol", "hessian")     # check's options a set holds


def alone(ctx, expr: str | None, expect: str | None) -> None:
    """--set takes its expressions, answers and their options from the file: given on the command line too, they
    are refused (click's context says which options were typed)."""
    from .errors import UsageError

    if expr is not None or expect is not None:
        given = " and ".join(w for w, v in (("an expression", expr), ("--expect", expect)) if v is not None)
        raise UsageError(f"--set checks the problems of a file; {given} cannot go with it",
                         hint="each problem of the set has its expr and expect")
    typed = [name for name in PER_PROBLEM if _typed(ctx, name)]
    if typed:
        options = ", ".join("--" + n for n in typed)
        raise UsageError(f"{options} cannot go with --set: each problem of the set has its own",
                         hint="put shared settings in the set's [defaults] table")


def required(ctx, expr: str | None, expect: str | None) -> None:
    """Without --set, EXPR and --expect are required: missing, they are click's usage errors, said as before."""
    import typer

    missing = "expr" if expr is None else "expect" if expect is None else None
    if missing is None:
        return
    exceptions = sys.modules[typer.BadParameter.__module__]              # (typer's click, vendored or not)
    param = next(p for p in ctx.command.params if p.name == missing)
    raise exceptions.MissingParameter(ctx=ctx, param=param)


def _typed(ctx, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")
