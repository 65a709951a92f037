"""Rich renderables: the Jacobian as a block matrix with labelled rows and columns, the header and the verdict.
No mathematics here: everything shown is computed before."""

from __future__ import annotations

import re

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.containers import Lines
from rich.text import Text

from .errors import CLI, DomainError, Words
from .chain import as_matrix_shape, flatten_perm
from .labels import (Axis, axis_blocks, entry_name, jacobian_entry, jacobian_sides, label_at, lazy_axis_labels,
                     shaped, shaped_labels)
from .ops import fmt_shape

STYLE = {"pos": "bold cyan", "neg": "bold magenta", "zero": "dim", "rule": "dim", "heavy": "bright_black",
         "out": "bold yellow", "in": "bold green", "bad": "bold white on red", "ok": "bold green",
         "fail": "bold red", "key": "bold", "note": "dim italic"}


# --- numbers -------------------------------------------------------------------------------------------------

CHUNK = 1 << 16            # entries looked at together when a whole matrix is measured


def _chunks(values):
    """The entries of values in C order, as float arrays of at most CHUNK entries: a large matrix is measured
    without a copy of it (nor of its absolute values, nor a mask of it)."""
    a = np.asanyarray(values)
    if a.size:
        yield from np.nditer(a, flags=["external_loop", "buffered", "zerosize_ok"], buffersize=CHUNK, order="C",
                             op_dtypes=[np.float64], casting="unsafe")


def number_format(values: np.ndarray, precision: int, noise: bool = True):
    """One formatter for a whole matrix, so its columns align: integers as integers, moderate magnitudes with a
    common number of decimals, the rest in scientific notation.  Rounding noise is not news: entries within
    1e-12 of the matrix's largest are shown as 0, and entries within 1e-10 of an integer as that integer
    (noise=False: values given, not computed, where a tiny entry is data and is shown as it is).
    (The pretty view passes the entries it shows; typeset output, every entry, a chunk at a time.)"""
    tiny = 1e-12 * float(np.max([np.abs(c).max() for c in _chunks(values)], initial=0.0)) if noise else 0.0
    near = 1e-10 if noise else 0.0
    integers, top, low, first = True, [], [], []
    for c in _chunks(values):
        c = np.where(np.abs(c) <= tiny, 0.0, c)
        nonzero = np.abs(c[c != 0])
        if nonzero.size:
            top.append(nonzero.max())
            low.append(nonzero.min())
        integers = integers and bool(np.all(np.abs(c - np.round(c)) <= near * np.maximum(1.0, np.abs(c))))
        if len(first) < 10000:
            first += c[:10000 - len(first)].tolist()
    largest = float(np.max(top)) if top else 0.0

    def zero_or(fmt):
        return lambda v: "0" if abs(v) <= tiny else fmt(v)

    if first and integers and (not top or 0.5 <= largest < 1e12):     # (all within 1e-10 of 0 is not 'integers')
        return zero_or(lambda v: f"{round(v):d}")
    if not top or (largest < 1e6 and float(np.min(low)) >= 10.0 ** -precision):
        decimals = precision
        texts = [f"{v:.{precision}f}" for v in first]
        while decimals > 1 and all(t.endswith("0") for t in texts if "." in t):
            texts = [t[:-1] for t in texts]
            decimals -= 1
        return zero_or(lambda v: f"{v:.{decimals}f}")
    return zero_or(lambda v: f"{v:.{max(precision - 1, 1)}e}")


def styled(text: str, bad: bool = False) -> Text:
    """A cell: zeros dimmed, negative entries and the rest in their colours, wrong ones highlighted."""
    t = text.strip()
    style = STYLE["bad"] if bad else STYLE["zero"] if t in ("0", "-0") or _is_zero(t) else \
        STYLE["neg"] if t.startswith("-") else STYLE["pos"]
    return Text(text, style=style)


def _is_zero(t: str) -> bool:
    try:
        return float(t) == 0
    except ValueError:
        return False


# --- text that keeps its indent --------------------------------------------------------------------------------

_LEAD = re.compile(r" *(?:(?:[•✓✗⚠]|\d+\.) |[^\W\d]\w* = )?")


class Hanging(Text):
    """Text whose lines, when too long for the terminal, continue under their own start: after the key column
    of 'key  value' lines (key: its width), a bullet, a mark (✓ ✗) or a number, and the line's own indent; not at
    the margin."""

    key = 0

    def wrap(self, console, width: int, **how) -> Lines:
        out = Lines()
        for line in self.split("\n", allow_blank=True):
            start = self.key if self.key and len(line) > self.key else 0
            indent = _LEAD.match(line.plain, start).end()
            if not 0 < indent <= width // 2 or line.cell_len <= width:
                out.extend(Text.wrap(line, console, width, **how))
                continue
            head, body = line.divide([indent])
            rest = Text.wrap(body, console, width - indent, **how)
            out.append(head + rest[0])
            out.extend(Text(" " * indent) + r for r in rest[1:])
        return out


def hanging(text: Text, key: int = 0) -> Hanging:
    """The text as Hanging text (key: the width of a key column that starts every line)."""
    h = Hanging(end=text.end, justify=text.justify, overflow=text.overflow, no_wrap=text.no_wrap)
    h.append(text)
    h.key = key
    return h


# --- the block matrix ------------------------------------------------------------------------------------------

class BlockMatrix:
    """A matrix with labelled rows and columns, separated into blocks by rules; truncated with ellipses (and a note
    saying so) when it does not fit.  Highlighted entries are coloured, or, where there is no colour (a pipe, a
    file, NO_COLOR, TERM=dumb), marked [like this] with the columns kept aligned (MarkLegend says what it means).
    A single column without a label (a vector shown in its own shape) has no header row."""

    WIDE = 2000        # columns measured one by one; beyond that, the first HEAD and the last two (wider than
    HEAD = 1000        # any terminal): the entries formatted are those that can be shown, never the whole matrix

    def __init__(self, M, row_labels, col_labels, row_groups=None, col_groups=None, precision: int = 4,
                 highlight=(), max_rows: int = 40, more: str = "--format csv, json or npy has every entry"):
        """M: numbers (formatted together, aligned) or a 2-D list of texts (symbolic entries)."""
        self.shape = m, n = (len(row_labels), len(col_labels))
        self.highlight = set(highlight)
        self.row_labels, self.col_labels = row_labels, col_labels
        self.row_groups = row_groups or [(0, 0)] * len(row_labels)
        self.col_groups = col_groups or [(0, 0)] * len(col_labels)
        self.max_rows, self.more = max_rows, more
        self.headless = not isinstance(col_labels, Axis) and all(not label for label in col_labels)
        self.rows = self._pick(m, max_rows)
        self.cols = list(range(n)) if n <= self.WIDE else list(range(self.HEAD)) + [n - 2, n - 1]
        shown = [i for i in self.rows if i is not None]
        if isinstance(M, np.ndarray) and M.dtype != object:
            window = np.asarray(M[np.ix_(shown, self.cols)], dtype=float)     # (a copy of these entries alone)
            fmt = number_format(window, precision)
            texts = [[fmt(v) for v in row] for row in window.tolist()]
        else:
            texts = [[M[i][j] for j in self.cols] for i in shown]
        self.texts, self.at = dict(zip(shown, texts)), {j: k for k, j in enumerate(self.cols)}

    def cell(self, i: int, j: int) -> str:
        """The text of entry (i, j), one of those that can be shown."""
        return self.texts[i][self.at[j]]

    def marked(self, console: Console) -> bool:
        """Whether highlighted entries are marked with brackets: where colour cannot show them."""
        return bool(self.highlight) and (console.no_color or console.color_system is None)

    @staticmethod
    def _pick(n: int, keep: int) -> list[int | None]:
        """Indices to show of n, at most keep of them: the head, None for an ellipsis, and the last two."""
        if n <= keep:
            return list(range(n))
        tail = min(2, keep - 1)
        return list(range(keep - tail)) + [None] + list(range(n - tail, n))

    def _rules(self) -> int:
        """The width of the rules between column blocks, were every column shown."""
        g = self.col_groups
        if isinstance(g, Axis):                     # (counted from the shapes, not column by column)
            return 2 * g.changes()
        return 2 * sum(g[j] != g[j - 1] for j in range(1, len(g)))

    def _fit(self, col_w: dict, budget: int) -> list[int | None]:
        """The columns that fit in budget characters: all, or a head, an ellipsis and the last two."""
        n = self.shape[1]
        if len(col_w) == n and sum(w + 1 for w in col_w.values()) + self._rules() <= budget or n == 1:
            return list(range(n))
        tail = list(range(max(n - 2, 1), n))
        used = sum(col_w[j] + 3 for j in tail) + 4
        head = []
        for j in self.cols[:tail[0]]:
            if j >= tail[0] or used + col_w[j] + 3 > budget:
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

    def _widths(self):
        """(rows shown, label width, width of each column that can be shown)."""
        shown = [i for i in self.rows if i is not None]
        label_w = max((len(self.row_labels[i]) for i in shown), default=1)
        col_w = {j: max(len(self.col_labels[j]), *(len(self.texts[i][k]) for i in shown))
                 for k, j in enumerate(self.cols)}
        return self.rows, label_w, col_w

    def natural_width(self, marks: bool = False) -> int:
        _, label_w, col_w = self._widths()
        n = self.shape[1]
        unmeasured = (n - len(col_w)) * (min(col_w.values(), default=1) + 1)     # (at least that wide)
        marks_w = 2 * n if marks else 0
        return label_w + 2 + sum(w + 1 for w in col_w.values()) + unmeasured + self._rules() + marks_w

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(min(20, options.max_width),
                           min(self.natural_width(self.marked(console)), options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        m, n = self.shape
        rows, label_w, col_w = self._widths()
        pad = 2 if self.marked(console) else 0          # room for [ and ] around every entry of a column
        col_w = {j: w + pad for j, w in col_w.items()}
        cols = self._fit(col_w, max(options.max_width - label_w - 2, 10))
        lines = [] if self.headless else [self._header(cols, col_w, label_w, pad),
                                          self._separator(cols, col_w, label_w, "heavy")]
        prev = None
        for i in rows:
            key = self.row_groups[i] if i is not None else None
            kind = self._rule(prev, key)
            if kind:
                lines.append(self._separator(cols, col_w, label_w, kind))
            lines.append(self._row(i, cols, col_w, label_w, pad))
            prev = key if key is not None else prev
        yield from lines
        shown_r, shown_c = sum(i is not None for i in rows), sum(j is not None for j in cols)
        if shown_r < m or shown_c < n:
            yield Text(f"showing {shown_r} of {m} rows, {shown_c} of {n} columns ({self.more})", style=STYLE["note"])

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

    def _header(self, cols, col_w, label_w, pad: int = 0) -> Text:
        t = Text(" " * label_w + " │")
        for kind, j, w in self._walk(cols, col_w):
            if kind != "cell":
                t.append(" ┃" if kind == "heavy" else " │", style=STYLE[kind if kind == "heavy" else "rule"])
            elif j is None:
                t.append(" " + "…".rjust(w), style=STYLE["in"])
            else:                                       # (right-aligned with the entries, not with their marks)
                t.append(" " + self.col_labels[j].rjust(w - pad // 2) + " " * (pad // 2), style=STYLE["in"])
        return t

    def _separator(self, cols, col_w, label_w, kind) -> Text:
        line = "━" if kind == "heavy" else "─"
        t = Text(line * (label_w + 1) + "┼", style=STYLE["rule"])
        for k, j, w in self._walk(cols, col_w):
            t.append(line + ("╋" if k == "heavy" else "┼") if k != "cell" else line * (w + 1), style=STYLE["rule"])
        return t

    def _row(self, i, cols, col_w, label_w, pad: int = 0) -> Text:
        half = pad // 2
        if i is None:
            t = Text("⋮".rjust(label_w) + " │", style=STYLE["rule"])
            for kind, j, w in self._walk(cols, col_w):
                dots = "⋮".rjust(w) if j is None else "⋮".rjust(w - half) + " " * half
                t.append((" ┃" if kind == "heavy" else " │") if kind != "cell" else " " + dots, style=STYLE["rule"])
            return t
        t = Text.assemble((self.row_labels[i].rjust(label_w), STYLE["out"]), (" │", STYLE["rule"]))
        for kind, j, w in self._walk(cols, col_w):
            if kind != "cell":
                t.append(" ┃" if kind == "heavy" else " │", style=STYLE["rule"])
            elif j is None:
                t.append(" " + "…".rjust(w), style=STYLE["rule"])
            else:
                bad = (i, j) in self.highlight
                text = self.cell(i, j)
                text = (f"[{text}]" if bad else f"{text} ").rjust(w) if pad else text.rjust(w)
                t.append(" ")
                t.append(styled(text, bad))
        return t


class MarkLegend:
    """The line under matrices that mark entries [like this] (no colour) saying what the mark means; nothing
    where colour shows them."""

    def __init__(self, meaning: str, *matrices: BlockMatrix):
        self.meaning, self.matrices = meaning, matrices

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if any(m.marked(console) for m in self.matrices):
            yield Text(f"[ ] marks {self.meaning}", style=STYLE["note"])


# --- the sparsity picture --------------------------------------------------------------------------------------

_SHADES = ((1.0, "█"), (0.5, "▓"), (0.25, "▒"), (0.0, "░"))


def _cells(part: np.ndarray, block: np.ndarray, budget: int) -> tuple[np.ndarray, list]:
    """Split one side of the Jacobian into at most about `budget` cells: (cell of each entry, key of each cell,
    (part, block, first entry)).  Cells never straddle two variables, nor two blocks where few enough blocks
    (budget/3) are drawn with rules between them; where there are more, each cell holds whole blocks when it
    can, so that a block-diagonal pattern stays sharp.  Rules between blocks count against the budget."""
    key = part * (int(block.max(initial=0)) + 1) + block
    starts = np.concatenate([[0], np.nonzero(np.diff(key))[0] + 1, [key.size]])
    room = budget
    if len(starts) - 1 <= budget // 3:                       # rules between the blocks take room too,
        if key.size + len(starts) - 2 > budget:              # where entries and rules do not all fit
            budget -= len(starts) - 2
    else:                                                    # too many blocks for rules: whole blocks per cell
        per = -(-(len(starts) - 1) // max(1, budget))
        parts_start = set(np.concatenate([[0], np.nonzero(np.diff(part))[0] + 1]).tolist())
        kept = [a for k, a in enumerate(starts[:-1]) if k % per == 0 or a in parts_start]
        starts = np.array(kept + [key.size])
        block = np.zeros_like(block)
    sizes = np.diff(starts)                                  # cells per segment: its share of the budget rounded
    count = np.clip(budget * sizes // key.size, 1, sizes)    # down (equal segments alike), one to all its entries
    drawn = (part * (int(block.max(initial=0)) + 1) + block)[starts[:-1]]   # a rule where (part, block) changes
    rules = int(np.count_nonzero(np.diff(drawn)))
    if len(starts) > 2 and int(count.sum()) + rules > room:  # too many variables for a cell and a rule each
        return _cells(np.zeros_like(part), np.zeros_like(block), room)
    cell_of, keys, first = np.empty(key.size, dtype=np.intp), [], 0
    for a, b, c in zip(starts[:-1], starts[1:], count.tolist()):
        edges = np.linspace(a, b, c + 1).round().astype(np.intp)
        cell_of[a:b] = first + np.searchsorted(edges, np.arange(a, b), side="right") - 1
        keys += [(int(part[a]), int(block[a]), int(e)) for e in edges[:-1]]
        first += c
    return cell_of, keys


class Spy:
    """The sparsity pattern of a (possibly huge, possibly scipy.sparse) Jacobian: one character per cell of
    entries, shaded by the share of nonzero entries in it, with rules between blocks and parts, and the label of
    the first entry of each row of cells."""

    def __init__(self, J, rows, cols, order: str, max_rows: int = 32):
        self.J, self.rows, self.cols, self.order, self.max_rows = J, rows, cols, order, max_rows

    def counts(self, r_cell: np.ndarray, c_cell: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """The number of nonzero entries in each of rows × cols cells (r_cell, c_cell: the cell of each row and
        column of J), counted a band of rows at a time: no array of J's size (its nonzeros' indices) is made."""
        J = self.J.tocsr() if hasattr(self.J, "tocsr") else self.J
        counts = np.zeros(rows * cols, dtype=np.int64)
        per = max(1, 16 * CHUNK // max(1, J.shape[1]))
        for a in range(0, J.shape[0], per):
            band = J[a:a + per]
            if hasattr(band, "tocoo"):
                coo = band.tocoo()
                keep = coo.data != 0
                i, j = np.asarray(coo.row)[keep], np.asarray(coo.col)[keep]
            else:
                i, j = np.nonzero(np.asarray(band))
            counts += np.bincount(r_cell[a + i] * cols + c_cell[j], minlength=counts.size)
        return counts.reshape(rows, cols)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        m, n = self.J.shape
        label_w = max(len(label_at(self.rows, self.order, k)) for k in (0, m - 1))
        width = max(8, options.max_width - label_w - 3 - 12)       # budgets: _cells never splits an entry
        height = self.max_rows
        r_cell, r_keys = _cells(*axis_blocks(self.rows, self.order), height)
        c_cell, c_keys = _cells(*axis_blocks(self.cols, self.order), width)
        counts = self.counts(r_cell, c_cell, len(r_keys), len(c_keys))
        r_size, c_size = np.bincount(r_cell), np.bincount(c_cell)
        share = counts / np.outer(r_size, c_size)
        r_first = np.concatenate([[0], np.cumsum(r_size)[:-1]])
        for a in range(len(r_keys)):
            if a and r_keys[a][:2] != r_keys[a - 1][:2]:
                yield self._rule(label_w, c_keys, r_keys[a][0] != r_keys[a - 1][0])
            t = Text()
            t.append(label_at(self.rows, self.order, int(r_first[a])).rjust(label_w) + " │", style=STYLE["out"])
            for b in range(len(c_keys)):
                if b and c_keys[b][:2] != c_keys[b - 1][:2]:
                    t.append("┃" if c_keys[b][0] != c_keys[b - 1][0] else "│", style=STYLE["rule"])
                x = share[a, b]
                t.append(next(ch for level, ch in _SHADES if x >= level) if x > 0 else "·",
                         style=STYLE["pos"] if x > 0 else STYLE["zero"])
            yield t
        cols = f"columns {label_at(self.cols, self.order, 0)} … {label_at(self.cols, self.order, n - 1)}; "
        if r_size.max() == 1 and c_size.max() == 1:
            yield Text(cols + "one character per entry: █ nonzero, · zero", style=STYLE["note"])
        else:
            yield Text(cols + f"a character stands for up to {int(r_size.max())}×{int(c_size.max())} entries: "
                       "█ all nonzero, ▓ half or more, ▒ a quarter or more, ░ fewer, · none", style=STYLE["note"])

    @staticmethod
    def _rule(label_w: int, c_keys, heavy: bool) -> Text:
        """The rule between two blocks of rows, crossing the rules between blocks of columns."""
        line = "━" if heavy else "─"
        t = line * (label_w + 1) + "┼"
        for b in range(len(c_keys)):
            if b and c_keys[b][:2] != c_keys[b - 1][:2]:
                t += "╋" if heavy or c_keys[b][0] != c_keys[b - 1][0] else "┼"
            t += line
        return Text(t, style=STYLE["heavy" if heavy else "rule"])


def spy_view(result, height: int | None = None) -> Group:
    """Header, the sparsity picture of the Jacobian, and the verdict."""
    p = result.problem
    J = result.J
    m, n = J.shape
    nnz = int(J.count_nonzero()) if hasattr(J, "count_nonzero") else int(np.count_nonzero(J))
    rows, cols = jacobian_sides(p)
    line = ("J", f"{m}×{n}, {nnz:,} nonzero entries ({100 * nnz / max(1, m * n):.3g}%), "
                        f"{'row' if p.order == 'row' else 'column'}-major, {p.layout} layout")
    spy = Spy(J, rows, cols, p.order, max_rows=min(32, max(8, (height or 40) - 16)))
    return Group(header(p, last=line), Text(""), spy, Text(""), verdict(result))


# --- the jac view ----------------------------------------------------------------------------------------------

def array_text(a: np.ndarray, precision: int = 4, prefix: str = "", noise: bool = True) -> str:
    """A value as numpy prints it (summarised when large), continuation lines aligned under prefix (noise: as
    number_format's)."""
    a = np.asarray(a, dtype=float)
    fmt = number_format(a if a.size <= 64 else a[np.ix_(*map(_edges, a.shape))], precision, noise)   # (shown)
    if a.ndim == 0:
        return prefix + fmt(float(a))
    return prefix + np.array2string(a, separator=", ", threshold=64, edgeitems=3, max_line_width=100,
                                    formatter={"float_kind": fmt}, prefix=prefix)


def _edges(n: int) -> list[int]:
    """The indices along an axis that a summarised array shows (numpy's three at each end)."""
    return list(range(n)) if n <= 6 else [0, 1, 2, n - 3, n - 2, n - 1]


def header(p, precision: int = 4, last: tuple[str, str] | None = None, convention: bool = True,
           words: Words = CLI) -> Text:
    """What was computed, at which values, in which convention: 'key  value' lines (p: a Problem); words: how
    settings are named (--value, or the API's values=)."""
    rows = [
        ("f", f"{p.expression}   shape {fmt_shape(p.out_shape)}"),
        ("wrt", ", ".join(f"{v.name} {fmt_shape(v.shape)}" for v in p.wrt)),
    ]
    if convention:
        rows.append(("order", "row-major (numpy/PyTorch: rows stacked)" if p.order == "row"
                     else "column-major (vec: columns stacked)"))
        if p.what == "Jacobian":                          # (a Hessian is symmetric: no layout to choose)
            rows.append(("layout", "numerator: one row per entry of f" if p.layout == "numerator"
                         else "denominator: one row per entry of the wrt variables"))
    for k, (name, value) in enumerate(p.values.items()):
        rows.append(("value" if k == 0 else "", array_text(value, precision, f"{name} = ", noise=False) + "  " +
                     origin_note(p, name, words)))
    if last:
        rows.append(last)
    return key_lines(rows)


def origin_note(p, name: str, words: Words = CLI) -> str:
    """Who chose a variable's value: '(given)', or mcalc with its seed, maybe in place of the user's value (an
    answer judged at other values than those given)."""
    origin = p.value_origin(name)
    if origin == "given":
        return "(given)"
    if origin == "redrawn":
        return f"(chosen by mcalc, seed {p.seed}, in place of the value you gave: see below)"
    return f"(chosen by mcalc, seed {p.seed}; set with {words.value})"


def key_lines(rows) -> Hanging:
    """'key     value' lines; a value's own lines, and the lines it wraps into, continue under it."""
    out = Hanging()
    out.key = 8
    for key, value in rows:
        lines = str(value).split("\n")
        out.append(f"{key:<8}", style=STYLE["key"])
        out.append(lines[0] + "".join("\n" + " " * 8 + line for line in lines[1:]) + "\n")
    out.rstrip()
    return out


def jacobian_line(result) -> tuple[str, str]:
    p = result.problem
    m, n = p.root.size, sum(v.size for v in p.wrt)
    shape = (m, n) if p.layout == "numerator" else (n, m)
    return "J", f"{shape[0]}×{shape[1]}, {result.mode} accumulation"


SHRINK_NOTE = "error 4 times smaller or less with a step 16 times smaller: a jump in the second derivative, as " \
              "elu or x·|x| at 0 have, where central differences are first-order"


def verdict(result, gradient: bool = False) -> Hanging:
    """Whether the finite differences agree; where not, the entries by label (labels.entry_name: as a gradient's
    entries where gradient)."""
    c = result.comparison
    if c is None:
        return hanging(Text(f"finite-difference check skipped ({result.skipped or '--fd none'})",
                            style=STYLE["note"]))
    p = result.problem

    def at(i, j):
        return entry_name(*jacobian_entry(p, i, j), gradient=gradient)

    rounding = f" + rounding {c.noise / c.scale:.2g}" if c.scale and c.noise > c.tol * c.scale else ""
    nums = f"abs err {c.max_abs_error:.2g}, rel err {c.max_rel_error:.2g} (tol {c.tol:g}{rounding})"
    name = METHOD_NAMES[c.method]
    notes = []
    if c.probes:
        notes.append(f"checked along {c.probes} random directions J u, every entry at once (--fd-columns all "
                     "differentiates column by column)")
    if c.checked_columns < c.total_columns:
        notes.append(f"checked {c.checked_columns} of {c.total_columns} wrt entries, sampled to keep the check "
                     "fast (--fd-columns all checks every one)")
    if c.second_opinion:
        notes.append(f"{name} were inaccurate for {c.rechecked_columns} wrt entr"
                     f"{'y' if c.rechecked_columns == 1 else 'ies'}, re-checked with {METHOD_NAMES[c.second_opinion]}")
    if c.converged:
        notes.append(f"{c.converged} entr{'y' if c.converged == 1 else 'ies'} beyond the tolerance approach the "
                     f"analytic value as the step shrinks ({SHRINK_NOTE}): right")
    note = Text("".join(f"\n  {n}" for n in notes), style=STYLE["note"])
    if c.agree:
        return hanging(Text.assemble(("✓ ", STYLE["ok"]), f"{name} agree: {nums}", note))
    t = hanging(Text("✗ ", style=STYLE["fail"]))
    if c.kinks:
        i, j, right, left, kind = c.kinks[0]
        out, wrt = jacobian_entry(p, i, j)
        if kind == "jump":
            t.append(f"not differentiable: {out} jumps by {right + left:.4g} at this {wrt} (a discontinuity, "
                     "like sign or step at 0)")
        else:
            t.append(f"not differentiable: the one-sided slopes of {out} in {wrt} are {right:.4g} and "
                     f"{left:.4g} (a kink, like abs or relu at 0)")
        if len(c.kinks) > 1:
            where = ", ".join(at(a, b) for a, b, *_ in c.kinks[:6])
            more = f" and {len(c.kinks) - 6} more" if len(c.kinks) > 6 else ""
            t.append(f"; {len(c.kinks)} such entries: {where}{more}")
        if not c.bad:
            return t
        t.append("\n✗ ", style=STYLE["fail"])
    (i, j), (analytic, fd) = c.bad[0], c.bad_values[0]
    t.append(f"{name} disagree: {nums}; worst at {at(i, j)}: analytic {analytic:.12g}, finite difference {fd:.12g}")
    if c.bad_count > 1:
        where = ", ".join(at(a, b) for a, b in c.bad[1:6])
        more = f" and {c.bad_count - 6} more" if c.bad_count > 6 else ""
        t.append(f"; also at {where}{more}")
    t.append(note)
    return t


def disagreement_legend(result, *matrices) -> MarkLegend:
    """What the marks of a result's matrix mean: entries where the check disagrees, or that have a kink."""
    c = result.comparison
    kinks, bad = bool(c and c.kinks), bool(c and c.bad)
    what = "where analytic and finite differences disagree"
    meaning = f"an entry that is not differentiable here, or {what}" if kinks and bad else \
        "an entry that is not differentiable here" if kinks else f"an entry {what}"
    return MarkLegend(meaning, *matrices)


METHOD_NAMES = {"central": "central differences", "forward": "forward differences",
                "richardson": "Richardson differences", "complex": "complex-step differences"}


def _max_rows(height: int | None) -> int:
    return 40 if height is None else max(12, height - 16)


def jac_view(result, precision: int = 4, height: int | None = None, symbolic=None, det=None) -> Group:
    """Header, block matrix (numbers, or symbolic entries) and verdict; on a terminal of the given height the
    matrix is cut to fit in it."""
    p = result.problem
    rows, cols = jacobian_sides(result.problem)
    rlab, rgrp = lazy_axis_labels(rows, p.order)
    clab, cgrp = lazy_axis_labels(cols, p.order)
    bad = result.comparison.bad if result.comparison else []
    kinks = [(i, j) for i, j, *_ in result.comparison.kinks] if result.comparison else []
    M = result.J if symbolic is None else [[str(e) for e in row] for row in symbolic.tolist()]
    matrix = BlockMatrix(M, rlab, clab, rgrp, cgrp, precision, highlight=bad + kinks,
                         max_rows=_max_rows(height), more="--spy draws the whole sparsity pattern; --format csv, "
                         "json or npy has every entry, npz stores it sparse")
    parts = [header(p, precision, jacobian_line(result)), Text(""), matrix, disagreement_legend(result, matrix),
             Text("")]
    if symbolic is not None:
        parts += symbols_note(p)
    if det is not None:
        text = f"{det['determinant']:.6g}"
        if "determinant_symbolic" in det:
            text = f"{det['determinant_symbolic']}   (= {text} at the values used)"
        parts.append(key_lines([("det J", text)]))
    parts.append(verdict(result))
    return Group(*parts)


def hess_view(result, info, precision: int = 4, height: int | None = None, symbolic=None) -> Group:
    """The Hessian as a labelled block matrix (rows and columns: the wrt entries), the gradient it differentiates,
    its eigenvalues and curvature, and the verdict of the check (finite differences of the exact gradient)."""
    p = result.problem
    rows, cols = jacobian_sides(p)
    rlab, rgrp = lazy_axis_labels(rows, p.order)
    clab, cgrp = lazy_axis_labels(cols, p.order)
    c = result.comparison
    bad = c.bad + [(i, j) for i, j, *_ in c.kinks] if c else []
    M = result.J if symbolic is None else [[str(e) for e in row] for row in symbolic.tolist()]
    matrix = BlockMatrix(M, rlab, clab, rgrp, cgrp, precision, highlight=bad, max_rows=_max_rows(height),
                         more="--format csv, json or npy has every entry")
    n = result.J.shape[0]
    line = ("H", f"{n}×{n}, the Jacobian of the gradient" + (f" ∇f = {info['gradient']}" if info["gradient"] else "")
            + f", {result.mode} accumulation; checked by finite differences of that gradient")
    w = info["curvature"].eigenvalues
    shown = array_text(w if w.size <= 12 else np.concatenate([w[:6], w[-6:]]), precision)
    lines = [("H =", info["formula"])] if info["formula"] else []
    lines += [("", f"    {name} = {text}") for name, text in info.get("names", [])]
    lines += [("eigen", shown + ("" if w.size <= 12 else f"  (the 6 smallest and 6 largest of {w.size})")),
              ("", info["curvature"].statement)]
    if info["curvature"].asymmetry > 0:
        lines.append(("", f"symmetric to {info['curvature'].asymmetry:.2g} (max |H - Hᵀ|)"))
    notes = symbols_note(p.f) if symbolic is not None else []
    return Group(header(p, precision, line), Text(""), matrix, disagreement_legend(result, matrix), *notes, Text(""),
                 key_lines(lines), verdict(result))


def grad_view(result, gradient, precision: int = 4, height: int | None = None, symbolic=None) -> Group:
    p = result.problem
    v = p.wrt[0]
    rlab, clab = shaped_labels(f"∂f/∂{v.name}", v.shape)
    shown = gradient if symbolic is None else symbolic
    c = result.comparison
    bad = c.bad + [(i, j) for i, j, *_ in c.kinks] if c else []
    cells = {_grad_position(p, i, j, v.shape) for i, j in bad}
    matrix = BlockMatrix(shaped(shown, v.shape), rlab, clab, precision=precision, highlight=cells,
                         max_rows=_max_rows(height))
    note = symbols_note(p) if symbolic is not None else []
    return Group(header(p, precision, ("∇f", f"shaped like {v.name} {fmt_shape(v.shape)}, "
                                              f"{result.mode} accumulation"), convention=False),
                 Text(""), matrix, disagreement_legend(result, matrix), Text(""), *note,
                 verdict(result, gradient=True))


def symbols_note(p) -> list[Text]:
    """How symbols and labels count, where some variable has entries to count (not for scalars alone)."""
    if all(not v.shape for v in p.variables.values()):
        return []
    return [Text("symbols count from 1, as in mathematics (x12 is row 1, column 2); labels count from 0, as numpy "
                 "does (x[0,1])", style=STYLE["note"])]


def _grad_position(p, i, j, shape):
    """Where entry (i, j) of the 1×n (or n×1) Jacobian sits in the gradient shown in the variable's shape."""
    k = j if p.layout == "numerator" else i
    flat = int(flatten_perm(shape, p.order)[k]) if shape else 0
    r, c = as_matrix_shape(shape)
    return divmod(flat, c) if len(shape) == 2 else (flat, 0)


def check_view(r, precision: int = 4, height: int | None = None, words: Words = CLI) -> Group:
    p = r.problem
    what = "gradient" if r.kind == "gradient" else p.what
    parts = [header(p, precision, words=words), Text("")]
    if r.given is not None and r.given.shape == r.expected.shape:
        E, G, rlab, clab, *groups = check_grids(r)
        rows_max = max(8, _max_rows(height) // 2)
        more = "--format json has every entry of both" if words is CLI else \
            ".expected and .given have every entry"                           # check writes pretty or json
        given = BlockMatrix(G, rlab, clab, *groups, precision=precision, highlight=r.wrong, max_rows=rows_max,
                            more=more)
        parts += [SideBySide((Text(f"expected ({what})", style=STYLE["key"]),
                              BlockMatrix(E, rlab, clab, *groups, precision=precision, max_rows=rows_max,
                                          more=more)),
                             (Text("your answer", style=STYLE["key"]), given)),
                  MarkLegend("a wrong entry of your answer", given), Text("")]
    parts.append(check_verdict(r))
    return Group(*parts)


def check_grids(r) -> tuple:
    """(expected, given, row labels, column labels, row groups, column groups) of an answer as shown: a gradient
    in the variable's shape, a Jacobian or Hessian with its blocks."""
    p = r.problem
    if r.kind == "gradient":
        v = p.wrt[0]
        rlab, clab = shaped_labels(v.name, v.shape)
        return shaped(r.expected, v.shape), shaped(r.given, v.shape), rlab, clab, None, None
    rows, cols = jacobian_sides(p)
    rlab, rg = lazy_axis_labels(rows, p.order)
    clab, cg = lazy_axis_labels(cols, p.order)
    return shaped(r.expected, np.shape(r.expected)), shaped(r.given, np.shape(r.given)), rlab, clab, rg, cg


def check_verdict(r) -> Hanging:
    """Right, or wrong and how: the size, the diagnosis and the wrong entries by label."""
    what = "gradient" if r.kind == "gradient" and r.problem.what != "Hessian" else r.problem.what
    if r.right and r.max_rel_error is not None and r.max_rel_error > r.tol:     # (forgiven by the rounding floor)
        return hanging(Text.assemble(("✓ ", STYLE["ok"]), f"right: it is the {what} (entries differ by at most "
                                                          f"{r.max_abs_error:.2g}, within the rounding allowed beside "
                                                          f"its largest entries; tol {r.tol:g})"))
    if r.right:
        return hanging(Text.assemble(("✓ ", STYLE["ok"]), f"right: it is the {what} (max rel error "
                                                          f"{r.max_rel_error:.2g}, tol {r.tol:g})"))
    t = hanging(Text("✗ ", style=STYLE["fail"]))
    if r.size_message:
        t.append(f"wrong size: {r.size_message}")
    elif r.wrong_count == 0:                    # (right here, undefined elsewhere)
        t.append(f"not judged in general: it equals the {what} here only")
    else:
        t.append(f"wrong: {r.wrong_count} of {r.expected.size} entries differ from the {what} "
                 f"(max rel error {r.max_rel_error:.2g}, tol {r.tol:g})")
    for note in r.diagnosis:
        t.append(f"\n  • {note}")
    listed = _wrong_listed(r)
    if listed:                                  # (named, so that no colour is needed to find them)
        t.append("\n  • " + listed)
    return t


def told_apart(e: float, g: float) -> tuple[str, str]:
    """Two numbers with as many digits (6 at least, 17 at most) as it takes for them to read differently, and
    never a -0: 'expected 4, got 4.0000001', not 'expected 4, got 4'."""
    e, g = float(e) + 0.0, float(g) + 0.0
    for digits in range(6, 18):
        a, b = f"{e:.{digits}g}", f"{g:.{digits}g}"
        if a != b:
            break
    return a, b


def _wrong_listed(r, most: int = 5) -> str:
    """The wrong entries by label, expected and given: 'f[1,1] wrt A[0,1]: expected 4, got 5'."""
    from .check import named_wrong

    items = [f"{label}: expected {a}, got {b}" for label, a, b in
             (((label,) + told_apart(e, g)) for label, e, g in named_wrong(r)[:most])]
    if not items:
        return ""
    more = f" (and {r.wrong_count - most} more)" if r.wrong_count > most else ""
    return "wrong entries: " + "; ".join(items) + more


class SideBySide:
    """Two titled matrices side by side when the width allows, one above the other when it does not."""

    def __init__(self, left, right):
        self.left, self.right = left, right

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.table import Table

        widths = [max(m.natural_width(m.marked(console)), len(title.plain)) for title, m in (self.left, self.right)]
        if sum(widths) + 4 <= options.max_width:
            grid = Table.grid(padding=(0, 4))
            for w in widths:
                grid.add_column(width=w, no_wrap=True)
            grid.add_row(self.left[0], self.right[0])
            grid.add_row(self.left[1], self.right[1])
            yield grid
        else:
            yield from (self.left[0], self.left[1], Text(""), self.right[0], self.right[1])


def explain_view(p, ex, check, words: Words = CLI) -> Group:
    """The derivation: differential, steps, closed form and its numerical check (check: (agree, max error))."""
    parts = [header(p, words=words), Text("")]
    parts.append(hanging(Text.assemble(("differential  ", STYLE["key"]), ex.differential), key=14))
    parts.append(Text(""))
    steps = Text.assemble(("steps", STYLE["key"]))
    for k, step in enumerate(ex.steps, 1):
        steps.append(f"\n  {k}. {step['expression']}", style=STYLE["out"])
        steps.append(f"   {step['rule']}", style=STYLE["note"])
        steps.append(f"\n       {step['lhs']} = {step['differential']}")
        for local in step["local_jacobians"]:
            shown = local["jacobian"] if local["jacobian"] is not None else "no closed form known"
            which = f" (through argument {local['position']})" if local["position"] else ""
            steps.append(f"\n       {local['label']}{which} = {shown}")
    parts += [hanging(steps), Text("")]
    m, n = p.root.size, sum(v.size for v in p.wrt)
    shape = (m, n) if p.layout == "numerator" else (n, m)
    order = "row-major" if p.order == "row" else "column-major"
    t = Text.assemble((f"Jacobian ({shape[0]}×{shape[1]}, {order}, {p.layout} layout)", STYLE["key"]))
    if ex.formula is None:
        why = ", ".join(ex.missing)
        t.append(f"\n  {why[1:-1]}: {words.jacobian} computes it numerically" if why.startswith("(") else
                 f"\n  no closed form known for {why}: {words.jacobian} computes it numerically",
                 style=STYLE["note"])
        if ex.gradient is not None:                 # (read backwards through the operations' adjoints)
            t.append("\n  ∇f = ")
            t.append(ex.gradient_pretty(), style="bold")
            t.append(f"   (shaped like {p.wrt[0].name}; checked against the analytic gradient)", style=STYLE["note"])
            for name, text in ex.legend():
                t.append(f"\n      {name} = {text}", style=STYLE["note"])
    else:
        t.append("\n  J = ")
        t.append(ex.pretty, style="bold")
        if ex.gradient is not None:
            t.append("\n  ∇f = ")
            t.append(ex.gradient_pretty(), style="bold")
            t.append(f"   (shaped like {p.wrt[0].name})", style=STYLE["note"])
        for note in ex.missing:                     # a gradient form withdrawn by its check
            t.append(f"\n  ∇f: {note}", style=STYLE["note"])
        for name, text in ex.legend():
            t.append(f"\n      {name} = {text}", style=STYLE["note"])
        t.append(f"\n  in mcalc's syntax: {ex.mc or '(too long to write out without names)'}", style=STYLE["note"])
        agree, err = check
        t.append("\n  ")
        if agree is None and isinstance(err, DomainError):
            t.append("⚠ ", style=STYLE["fail"])
            t.append(f"cannot be evaluated at these values ({err.message}); choose others to check it",
                     style=STYLE["note"])
        elif agree is None:
            t.append("⚠ ", style=STYLE["fail"])
            t.append(f"not checked against the numbers: {err.message}; smaller shapes check the same rule",
                     style=STYLE["note"])
        else:
            t.append("✓ ", style=STYLE["ok"])
            t.append(f"equals the analytic Jacobian at the values used (max abs error {err:.2g})")
    parts.append(hanging(t))
    if ex.symbolic is not None:
        rows, cols = jacobian_sides(p)
        rlab, rg = lazy_axis_labels(rows, p.order)
        clab, cg = lazy_axis_labels(cols, p.order)
        cells = [[str(e) for e in row] for row in ex.symbolic.tolist()]
        parts += [Text(""), Text("entries", style=STYLE["key"]), BlockMatrix(cells, rlab, clab, rg, cg),
                  *symbols_note(p)]
    return Group(*parts)


def tensor_view(result, T: np.ndarray, precision: int = 4) -> Group:
    """Header, the Jacobian as an array of shape output + input (input + output in the denominator layout),
    its index convention spelled out, and the verdict."""
    p = result.problem
    letters = iter("ijklmnpqrs")
    out = [next(letters) for _ in p.root.shape]
    inp = [next(letters) for _ in p.wrt[0].shape]
    index = out + inp if p.layout == "numerator" else inp + out

    def at(name, idx):
        return f"{name}[{','.join(idx)}]" if idx else name

    line = ("T", f"shape {fmt_shape(T.shape)}: {at('T', index)} = ∂{at('f', out)}/∂{at(p.wrt[0].name, inp)}"
                 f" ({p.layout} layout; no flatten order)")
    return Group(header(p, precision, last=line, convention=False), Text(""), Text(array_text(T, precision)),
                 Text(""), verdict(result))


def product_view(pr, precision: int = 4) -> Group:
    p = pr.problem
    v = p.wrt[0]
    hessian = p.what == "Hessian"
    if pr.kind == "vjp":
        name, shape, what = f"vᵀ∂f/∂{v.name}", v.shape, f"shaped like {v.name}"
    elif hessian:
        name, shape, what = "Hv", v.shape, f"shaped like {v.name}"
    else:
        name, shape, what = "(∂f)u", p.root.shape, "shaped like f"
    rlab, clab = shaped_labels(name, shape)
    kind, direction = ("H v", "v") if hessian else (pr.kind, "v" if pr.kind == "vjp" else "u")
    parts = [header(p, precision, (kind, f"{what}, without forming the {p.what}")), Text(""),
             key_lines([(direction, array_text(pr.direction, precision))]), Text(""),
             BlockMatrix(shaped(pr.value, shape), rlab, clab, precision=precision), Text("")]
    if pr.agree is None:
        parts.append(Text("finite-difference check skipped (--fd none)", style=STYLE["note"]))
    else:
        how = f"along {direction}" if pr.kind == "jvp" else "⟨vᵀJ, w⟩ = vᵀ(J w) along 3 random directions w"
        mark = ("✓ ", STYLE["ok"]) if pr.agree else ("✗ ", STYLE["fail"])
        parts.append(hanging(Text.assemble(mark, f"{METHOD_NAMES[pr.method]} {'agree' if pr.agree else 'disagree'} "
                                                 f"{how}: rel err {pr.max_rel_error:.2g} (tol {pr.tol:g})")))
    return Group(*parts)
