"""Rich renderables: the Jacobian as a block matrix with labelled rows and columns, the header and the verdict.
No mathematics here: everything shown is computed before."""

from __future__ import annotations

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.text import Text

from .labels import axis_labels, jacobian_sides
from .ops import fmt_shape

STYLE = {"pos": "bold cyan", "neg": "bold magenta", "zero": "dim", "rule": "dim", "heavy": "bright_black",
         "out": "bold yellow", "in": "bold green", "bad": "bold white on red", "ok": "bold green",
         "fail": "bold red", "key": "bold", "note": "dim italic"}


# --- numbers -------------------------------------------------------------------------------------------------

def number_format(values: np.ndarray, precision: int):
    """One formatter for a whole matrix, so its columns align: integers as integers, moderate magnitudes with a
    common number of decimals, the rest in scientific notation.  Rounding noise is not news: entries within
    1e-12 of the matrix's largest are shown as 0, and entries within 1e-10 of an integer as that integer."""
    finite = np.asarray(values, dtype=float).ravel()
    tiny = 1e-12 * float(np.abs(finite).max(initial=0.0))
    finite = np.where(np.abs(finite) <= tiny, 0.0, finite)
    nonzero = np.abs(finite[finite != 0])

    def zero_or(fmt):
        return lambda v: "0" if abs(v) <= tiny else fmt(v)

    near_int = np.abs(finite - np.round(finite)) <= 1e-10 * np.maximum(1.0, np.abs(finite))
    if finite.size and np.all(near_int) and (not nonzero.size or nonzero.max() < 1e12):
        return zero_or(lambda v: f"{round(v):d}")
    if not nonzero.size or (nonzero.max() < 1e6 and nonzero.min() >= 10.0 ** -precision):
        decimals = precision
        texts = [f"{v:.{precision}f}" for v in finite[:10000]]
        while decimals > 1 and all(t.endswith("0") for t in texts if "." in t):
            texts = [t[:-1] for t in texts]
            decimals -= 1
        return zero_or(lambda v: f"{v:.{decimals}f}")
    return zero_or(lambda v: f"{v:.{max(precision - 1, 1)}e}")


def styled(v: float, text: str, bad: bool = False) -> Text:
    shown = float(text) if text not in ("…", "") else v
    style = STYLE["bad"] if bad else STYLE["zero"] if shown == 0 else STYLE["neg"] if v < 0 else STYLE["pos"]
    return Text(text, style=style)


# --- the block matrix ------------------------------------------------------------------------------------------

class BlockMatrix:
    """A matrix with labelled rows and columns, separated into blocks by rules; truncated with ellipses (and a note
    saying so) when it does not fit."""

    def __init__(self, M: np.ndarray, row_labels, col_labels, row_groups, col_groups, precision: int = 4,
                 highlight=(), max_rows: int = 40):
        self.M, self.precision, self.highlight = np.asarray(M, dtype=float), precision, set(highlight)
        self.row_labels, self.col_labels = row_labels, col_labels
        self.row_groups, self.col_groups = row_groups, col_groups
        self.max_rows = max_rows

    @staticmethod
    def _pick(n: int, keep: int) -> list[int | None]:
        """Indices to show of n, at most keep of them: the head, None for an ellipsis, and the last two."""
        if n <= keep:
            return list(range(n))
        tail = min(2, keep - 1)
        return list(range(keep - tail)) + [None] + list(range(n - tail, n))

    def _fit(self, col_w, budget: int) -> list[int | None]:
        """The columns that fit in budget characters: all, or a head, an ellipsis and the last two."""
        n = len(col_w)
        rules = 2 * sum(self.col_groups[j] != self.col_groups[j - 1] for j in range(1, n))
        if sum(w + 1 for w in col_w) + rules <= budget:
            return list(range(n))
        tail = list(range(max(n - 2, 1), n))
        used = sum(col_w[j] + 3 for j in tail) + 4
        head = []
        for j in range(tail[0]):
            if used + col_w[j] + 3 > budget:
                break
            head.append(j)
            used += col_w[j] + 3
        return head + [None] + tail

    @staticmethod
    def _rule(a, b) -> str | None:
        """The separator between two consecutive group keys: heavy between parts, light between blocks."""
        if a is None or b is None or a == b:
            return None
        return "heavy" if a[0] != b[0] else "light"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        m, n = self.M.shape
        fmt = number_format(self.M, self.precision)
        rows = self._pick(m, self.max_rows)
        label_w = max((len(self.row_labels[i]) for i in rows if i is not None), default=1)
        col_w = [max(len(self.col_labels[j]), *(len(fmt(self.M[i, j])) for i in rows if i is not None))
                 for j in range(n)] if n <= 2000 else None
        if col_w is None:                      # too many columns to measure: a fixed width does
            col_w = [max(len(label) for label in self.col_labels[:50] + self.col_labels[-50:]) + 2] * n
        cols = self._fit(col_w, max(options.max_width - label_w - 2, 10))
        lines = [self._header(cols, col_w, label_w)]
        lines.append(self._separator(cols, col_w, label_w, "heavy"))
        prev = None
        for i in rows:
            key = self.row_groups[i] if i is not None else None
            kind = self._rule(prev, key)
            if kind:
                lines.append(self._separator(cols, col_w, label_w, kind))
            lines.append(self._row(i, cols, col_w, label_w, fmt))
            prev = key if key is not None else prev
        yield from lines
        shown_r, shown_c = sum(i is not None for i in rows), sum(j is not None for j in cols)
        if shown_r < m or shown_c < n:
            yield Text(f"showing {shown_r} of {m} rows, {shown_c} of {n} columns "
                       "(--format csv, json or npy has every entry)", style=STYLE["note"])

    def _walk(self, cols, col_w):
        """(kind, j, width) for each printed column, with the rules between blocks."""
        prev = None
        for j in cols:
            key = self.col_groups[j] if j is not None else None
            kind = self._rule(prev, key)
            if kind:
                yield kind, None, 0
            yield "cell", j, col_w[j] if j is not None else 1
            prev = key if key is not None else prev

    def _header(self, cols, col_w, label_w) -> Text:
        t = Text(" " * label_w + " │")
        for kind, j, w in self._walk(cols, col_w):
            if kind != "cell":
                t.append(" ┃" if kind == "heavy" else " │", style=STYLE[kind if kind == "heavy" else "rule"])
            else:
                t.append(" " + ("…".rjust(w) if j is None else self.col_labels[j].rjust(w)), style=STYLE["in"])
        return t

    def _separator(self, cols, col_w, label_w, kind) -> Text:
        line = "━" if kind == "heavy" else "─"
        t = Text(line * (label_w + 1) + "┼", style=STYLE["rule"])
        for k, j, w in self._walk(cols, col_w):
            t.append(line + ("╋" if k == "heavy" else "┼") if k != "cell" else line * (w + 1), style=STYLE["rule"])
        return t

    def _row(self, i, cols, col_w, label_w, fmt) -> Text:
        if i is None:
            t = Text("⋮".rjust(label_w) + " │", style=STYLE["rule"])
            for kind, j, w in self._walk(cols, col_w):
                t.append((" ┃" if kind == "heavy" else " │") if kind != "cell" else " " + "⋮".rjust(w),
                         style=STYLE["rule"])
            return t
        t = Text(self.row_labels[i].rjust(label_w), style=STYLE["out"])
        t.append(" │", style=STYLE["rule"])
        for kind, j, w in self._walk(cols, col_w):
            if kind != "cell":
                t.append(" ┃" if kind == "heavy" else " │", style=STYLE["rule"])
            elif j is None:
                t.append(" " + "…".rjust(w), style=STYLE["rule"])
            else:
                v = self.M[i, j]
                t.append(" ")
                t.append(styled(v, fmt(v).rjust(w), (i, j) in self.highlight))
        return t


# --- the jac view ----------------------------------------------------------------------------------------------

def array_text(a: np.ndarray, precision: int = 4, prefix: str = "") -> str:
    """A value as numpy prints it (summarised when large), continuation lines aligned under prefix."""
    a = np.asarray(a, dtype=float)
    fmt = number_format(a, precision)
    if a.ndim == 0:
        return prefix + fmt(float(a))
    return prefix + np.array2string(a, separator=", ", threshold=64, edgeitems=3, max_line_width=100,
                                    formatter={"float_kind": fmt}, prefix=prefix)


def header(result, precision: int = 4) -> Text:
    """What was computed, at which values, in which convention: 'key  value' lines."""
    p = result.problem
    m, n = p.root.size, sum(v.size for v in p.wrt)
    rows = [
        ("f", f"{p.expression}   shape {fmt_shape(p.out_shape)}"),
        ("wrt", ", ".join(f"{v.name} {fmt_shape(v.shape)}" for v in p.wrt)),
        ("order", "row-major (numpy/PyTorch: rows stacked)" if p.order == "row"
         else "column-major (vec: columns stacked)"),
        ("layout", "numerator: one row per entry of f" if p.layout == "numerator"
         else "denominator: one row per entry of the wrt variables"),
    ]
    for k, (name, value) in enumerate(p.values.items()):
        note = "  (chosen by mcalc; set with --value)" if name in p.defaulted else ""
        rows.append(("value" if k == 0 else "", array_text(value, precision, f"{name} = ") + note))
    shape = (m, n) if p.layout == "numerator" else (n, m)
    rows.append(("J", f"{shape[0]}×{shape[1]}, {result.mode} accumulation"))
    out = Text()
    for key, value in rows:
        lines = value.split("\n")
        out.append(f"{key:<8}", style=STYLE["key"])
        out.append(lines[0] + "".join("\n" + " " * 8 + line for line in lines[1:]) + "\n")
    out.rstrip()
    return out


def verdict(result) -> Text:
    c = result.comparison
    if c is None:
        return Text("finite-difference check skipped (--fd none)", style=STYLE["note"])
    p = result.problem
    rows, cols = jacobian_sides(result)
    rlab, _ = axis_labels(rows, p.order)
    clab, _ = axis_labels(cols, p.order)
    rounding = f" + rounding {c.noise / c.scale:.2g}" if c.scale and c.noise > c.tol * c.scale else ""
    nums = f"abs err {c.max_abs_error:.2g}, rel err {c.max_rel_error:.2g} (tol {c.tol:g}{rounding})"
    name = METHOD_NAMES[c.method]
    notes = []
    if c.checked_columns < c.total_columns:
        notes.append(f"checked {c.checked_columns} of {c.total_columns} wrt entries, sampled to keep the check "
                     "fast (--fd-columns all checks every one)")
    if c.second_opinion:
        notes.append(f"{name} were inaccurate for {c.rechecked_columns} wrt entr"
                     f"{'y' if c.rechecked_columns == 1 else 'ies'}, re-checked with {METHOD_NAMES[c.second_opinion]}")
    note = Text("".join(f"\n  {n}" for n in notes), style=STYLE["note"])
    if c.agree:
        return Text("✓ ", style=STYLE["ok"]) + Text(f"{name} agree: {nums}") + note
    t = Text("✗ ", style=STYLE["fail"])
    if c.kinks:
        i, j, right, left = c.kinks[0]
        t.append(f"not differentiable: the one-sided slopes of {rlab[i]} in {clab[j]} are {right:.4g} and {left:.4g} "
                 f"(a kink, like abs or relu at 0)")
        if len(c.kinks) > 1:
            t.append(f"; {len(c.kinks)} such entries")
        if not c.bad:
            return t
        t.append("\n✗ ", style=STYLE["fail"])
    i, j = c.bad[0]
    t.append(f"{name} disagree: {nums}; worst at {rlab[i]} / {clab[j]}: "
             f"analytic {result.J[i, j]:.12g}, finite difference {result.F[i, j]:.12g}")
    if c.bad_count > 1:
        where = ", ".join(f"{rlab[a]}/{clab[b]}" for a, b in c.bad[1:6])
        more = f" and {c.bad_count - 6} more" if c.bad_count > 6 else ""
        t.append(f"; also at {where}{more}")
    return t + note


METHOD_NAMES = {"central": "central differences", "forward": "forward differences",
                "richardson": "Richardson differences", "complex": "complex-step differences"}


def jac_view(result, precision: int = 4, height: int | None = None) -> Group:
    """Header, block matrix and verdict; on a terminal of the given height the matrix is cut to fit in it."""
    max_rows = 40 if height is None else max(12, height - 16)
    p = result.problem
    rows, cols = jacobian_sides(result)
    rlab, rgrp = axis_labels(rows, p.order)
    clab, cgrp = axis_labels(cols, p.order)
    bad = result.comparison.bad if result.comparison else []
    kinks = [(i, j) for i, j, *_ in result.comparison.kinks] if result.comparison else []
    matrix = BlockMatrix(result.J, rlab, clab, rgrp, cgrp, precision, highlight=bad + kinks, max_rows=max_rows)
    return Group(header(result, precision), Text(""), matrix, Text(""), verdict(result))
