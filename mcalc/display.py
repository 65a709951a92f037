"""How the Python API's results show: in a terminal (rich renderables), in Jupyter (HTML and LaTeX) and as text.
No mathematics here: everything shown is computed before.

The terminal view is the command line's own (render.py).  The HTML is that same view exported by rich, with each
matrix as an HTML table instead: its rows and columns labelled (f[0,1], A[1,0]), its blocks shaded, its entries
coloured as on the terminal, and cut to at most HTML_CELLS rows and columns as numpy cuts a large array (the first
and last entries with an ellipsis between).  The LaTeX is the command line's --format latex (output.py), with
matrices cut the same way, wrong entries boxed, and prose only inside \\text{} in display math, so that it reads
the same in MathJax (a notebook) and in LaTeX (a notebook exported to PDF).

Everything the user wrote (the expression, names) is escaped: an expression is text from anyone.
"""

from __future__ import annotations

import io
from html import escape

import numpy as np

HTML_CELLS = (30, 20)        # rows, columns of a matrix shown in HTML before it is cut
LATEX_CELLS = (12, 10)       # the same for LaTeX
WIDTH = 100                  # the terminal width of the text parts of the HTML and of str()


# --- text --------------------------------------------------------------------------------------------------

def plain_text(renderable, width: int = WIDTH) -> str:
    """A renderable as plain text (no colour), as the command line writes it to a file."""
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=width, no_color=True, color_system=None, highlight=False, soft_wrap=False,
            force_jupyter=False, force_terminal=False).print(renderable)
    return buf.getvalue()


_PRE = ('<pre style="font-family:Menlo,Consolas,\'DejaVu Sans Mono\',monospace;font-size:12px;line-height:1.35;'
        'white-space:pre;margin:0.3em 0;padding:0;background:none">{code}</pre>')


def rich_html(renderable, width: int = WIDTH) -> str:
    """A renderable as HTML: rich's export, escaped, with inline styles (a notebook keeps no style sheet)."""
    from rich.console import Console

    console = Console(record=True, file=io.StringIO(), width=width, color_system="truecolor", highlight=False,
                      force_jupyter=False, soft_wrap=False)
    console.print(renderable)
    return console.export_html(inline_styles=True, code_format=_PRE).strip()


# --- which rows and columns are shown -------------------------------------------------------------------------

def picked(n: int, keep: int) -> list[int | None]:
    """The indices shown of n: all of them, or the first and last (keep in all) with None for an ellipsis."""
    if n <= keep:
        return list(range(n))
    head = (keep + 1) // 2
    return list(range(head)) + [None] + list(range(n - (keep - head), n))


def _ordinals(groups, n: int) -> list[tuple[int, int]]:
    """(part, block number) of each index: the block's position among the blocks, for shading."""
    if groups is None:
        return [(0, 0)] * n
    seen: dict = {}
    return [(g[0], seen.setdefault(g, len(seen))) for g in groups]


def _boundaries(shown: list[int | None], keys: list) -> list[str | None]:
    """For each shown index: None, or 'light'/'heavy' where a block (a part) starts just before it."""
    out, prev = [], None
    for i in shown:
        if i is None:
            out.append(None)
            continue
        key = keys[i]
        out.append(None if prev is None or prev == key else "heavy" if prev[0] != key[0] else "light")
        prev = key
    return out


# --- HTML ----------------------------------------------------------------------------------------------------

_COLOUR = {"pos": "color:#0e7490", "neg": "color:#a21caf", "zero": "opacity:0.45"}
_RULE = {"light": "1px solid rgba(127,127,127,0.45)", "heavy": "2px solid rgba(127,127,127,0.85)"}
_SHADE = "background:rgba(127,127,127,0.10)"
_BAD = "background:rgba(220,38,38,0.32);font-weight:bold;outline:1px solid rgba(220,38,38,0.9)"
_CELL = "padding:1px 7px;text-align:right;white-space:nowrap"


def _kind(text: str) -> str:
    t = text.strip()
    try:
        zero = float(t) == 0
    except ValueError:
        zero = False
    return "zero" if zero else "neg" if t.startswith("-") else "pos"


def matrix_html(M, row_labels, col_labels, row_groups=None, col_groups=None, precision: int = 4,
                highlight=(), title: str | None = None, more: str = "") -> str:
    """A matrix as an HTML table: labelled rows and columns, blocks shaded in a checkerboard and separated by
    rules (heavier between parts: output and inputs, or two variables), entries coloured by sign, the highlighted
    ones marked; cut to HTML_CELLS with ellipses, and a note saying so (more: where every entry is)."""
    from .render import number_format

    M = np.asarray(M, dtype=float).reshape(len(row_labels), len(col_labels))
    fmt = number_format(M, precision)
    m, n = M.shape
    rows, cols = picked(m, HTML_CELLS[0]), picked(n, HTML_CELLS[1])
    rkeys, ckeys = _ordinals(row_groups, m), _ordinals(col_groups, n)
    rrule, crule = _boundaries(rows, rkeys), _boundaries(cols, ckeys)
    bad = set(map(tuple, highlight))
    head = [f'<th style="{_CELL};border-bottom:{_RULE["heavy"]};border-right:{_RULE["heavy"]}"></th>']
    for j, rule in zip(cols, crule):
        border = f";border-left:{_RULE[rule]}" if rule else ""
        label = "…" if j is None else escape(col_labels[j])
        head.append(f'<th style="{_CELL};color:#15803d;border-bottom:{_RULE["heavy"]}{border}">{label}</th>')
    body = []
    for i, rrule_i in zip(rows, rrule):
        top = f";border-top:{_RULE[rrule_i]}" if rrule_i else ""
        label = "⋮" if i is None else escape(row_labels[i])
        cells = [f'<th style="{_CELL};color:#a16207;border-right:{_RULE["heavy"]}{top}">{label}</th>']
        for j, rule in zip(cols, crule):
            style = _CELL + top + (f";border-left:{_RULE[rule]}" if rule else "")
            if i is None or j is None:
                dots = "⋱" if i is None and j is None else "⋮" if i is None else "…"
                cells.append(f'<td style="{style};opacity:0.5">{dots}</td>')
                continue
            text = fmt(M[i, j])
            if (rkeys[i][1] + ckeys[j][1]) % 2:
                style += ";" + _SHADE
            style += ";" + (_BAD if (i, j) in bad else _COLOUR[_kind(text)])
            tip = f' title="{escape(row_labels[i])} wrt {escape(col_labels[j])}"' if col_labels[j] else ""
            cells.append(f'<td style="{style}"{tip}>{escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f'<div style="font-weight:bold;margin:0.4em 0 0.2em 0">{escape(title)}</div>' if title else ""
    shown_r, shown_c = sum(i is not None for i in rows), sum(j is not None for j in cols)
    note = "" if shown_r == m and shown_c == n else \
        (f'<div style="opacity:0.7;font-style:italic;font-size:90%">showing {shown_r} of {m} rows, {shown_c} of '
         f'{n} columns{f" ({escape(more)})" if more else ""}</div>')
    table = ('<table style="border-collapse:collapse;margin:0.2em 0;width:auto;font-family:Menlo,Consolas,'
             'monospace;font-size:12px">'
             f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table>')
    return f"<div>{caption}{table}{note}</div>"


def side_by_side(*parts: str) -> str:
    return ('<div style="display:flex;flex-wrap:wrap;gap:2.5em;align-items:flex-start">'
            + "".join(parts) + "</div>")


def page(*parts: str) -> str:
    """The parts of a result, in one block (a notebook's output cell)."""
    return '<div class="mcalc" style="max-width:100%;overflow-x:auto">' + "".join(parts) + "</div>"


# --- LaTeX ----------------------------------------------------------------------------------------------------

_MATH = {"\\": "\\backslash ", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&", "#": "\\#", "%": "\\%",
         "_": "\\_", "^": "\\hat{}", "~": "\\sim ", "∂": "\\partial ", "ᵀ": "^\\top ", "⊗": "\\otimes ",
         "×": "\\times ", "⊙": "\\odot ", "∇": "\\nabla ", "•": "\\bullet ", "⁻¹": "^{-1}"}


def tex_text(text: str) -> str:
    """Prose for display math, the same in MathJax and LaTeX: plain runs in \\text{}, and the characters that
    \\text{} cannot hold in both (\\ { } $ & # % _ ^ ~) or that are mathematics (∂ ᵀ ⊗ × ⊙ ∇) as math commands."""
    out, run = [], []
    i = 0
    while i < len(text):
        two = text[i:i + 2]
        key = two if two in _MATH else text[i] if text[i] in _MATH else None
        if key is None:
            run.append(text[i])
            i += 1
            continue
        if run:
            out.append("\\text{" + "".join(run) + "}")
            run = []
        out.append(_MATH[key])
        i += len(key)
    if run:
        out.append("\\text{" + "".join(run) + "}")
    return "".join(out).rstrip()


def matrix_latex(M, row_groups=None, col_groups=None, precision: int = 4, highlight=()) -> str:
    """A matrix for display math: the command line's bmatrix (or array with rules between blocks), cut to
    LATEX_CELLS with \\cdots, \\vdots and \\ddots, the highlighted entries boxed."""
    from .output import latex_matrix
    from .render import number_format

    M = np.atleast_2d(np.asarray(M, dtype=float))
    fmt = number_format(M, precision)
    m, n = M.shape
    rows, cols = picked(m, LATEX_CELLS[0]), picked(n, LATEX_CELLS[1])
    bad = set(map(tuple, highlight))

    def cell(i, j):
        if i is None or j is None:
            return "\\ddots" if i is None and j is None else "\\vdots" if i is None else "\\cdots"
        text = fmt(M[i, j])
        return f"\\boxed{{{text}}}" if (i, j) in bad else text

    def groups(shown, keys):                 # an ellipsis belongs to the block before it: no rule of its own
        if keys is None:
            return None
        out, prev = [], keys[shown[0]]
        for k in shown:
            prev = prev if k is None else keys[k]
            out.append(prev)
        return out

    cells = [[cell(i, j) for j in cols] for i in rows]
    return latex_matrix(cells, groups(rows, row_groups), groups(cols, col_groups)).rstrip("\n")


def without_comments(tex: str) -> str:
    """LaTeX without its comment lines, which MathJax would print as text."""
    return "\n".join(line for line in tex.splitlines() if not line.lstrip().startswith("%"))


# --- an explanation ------------------------------------------------------------------------------------------

def _letter(e) -> str:
    return "H" if e.kind == "hessian" else "J"


def explanation_view(e):
    """The command line's explain view, then the matrix at the values used."""
    from rich.console import Group
    from rich.text import Text

    from .errors import API
    from .render import STYLE, BlockMatrix, explain_view

    parts = [explain_view(e._problem, e._ex, e._verified, API), Text("")]
    if e.jacobian is None:
        parts.append(Text(f"{_letter(e)} is not formed: {e.too_large}", style=STYLE["note"]))
    else:
        parts += [Text(f"{_letter(e)} at the values used", style=STYLE["key"]),
                  BlockMatrix(e.jacobian, e.row_labels, e.col_labels, e._row_groups, e._col_groups,
                              more=".jacobian has every entry")]
    return Group(*parts)


def explanation_html(e) -> str:
    from .errors import API
    from .render import explain_view

    text = rich_html(explain_view(e._problem, e._ex, e._verified, API))
    if e.jacobian is None:
        return page(text, f'<div style="font-style:italic">{escape(_letter(e))} is not formed: '
                          f'{escape(e.too_large)}</div>')
    return page(text, matrix_html(e.jacobian, e.row_labels, e.col_labels, e._row_groups, e._col_groups,
                                  title=f"{_letter(e)} at the values used", more=".jacobian has every entry"))


def _value_latex(name: str, value: np.ndarray) -> str:
    from .expr import Var
    from .labels import shaped
    from .printing import Latex
    from .render import number_format

    tex = Latex().var(Var(name, value.shape))
    if value.ndim == 0:
        return f"{tex} = {number_format(value, 4)(float(value))}"
    return f"{tex} = {matrix_latex(shaped(value, value.shape))}"


def explanation_latex(e) -> str:
    """`mcalc explain -f latex`, then the matrix at the values used."""
    lines = [without_comments(e.latex)]
    if e.closed_form is None and e.missing:
        lines.append(f"\\[ {tex_text('no closed form known for ' + ', '.join(e.missing))} \\]")
    if e.jacobian is not None:
        at = ",\\quad ".join(_value_latex(name, v) for name, v in e.values.items())
        lines += ["\\begin{gather*}",
                  f"{_letter(e)} = {matrix_latex(e.jacobian, e._row_groups, e._col_groups)} \\\\",
                  f"\\text{{at }} {at}", "\\end{gather*}"]
    return "\n".join(lines) + "\n"


# --- a verdict -------------------------------------------------------------------------------------------------

def verdict_view(v):
    from .errors import API
    from .render import check_view

    return check_view(v._result, words=API)


def _what(r) -> str:
    return "gradient" if r.kind == "gradient" else r.problem.what


def verdict_html(v) -> str:
    from .errors import API
    from .render import check_grids, check_verdict, header

    r = v._result
    parts = [rich_html(header(r.problem, words=API))]
    if r.given is not None and r.given.shape == r.expected.shape:
        E, G, rlab, clab, rg, cg = check_grids(r)
        more = ".expected and .given have every entry"
        parts.append(side_by_side(matrix_html(E, rlab, clab, rg, cg, title=f"expected ({_what(r)})", more=more),
                                  matrix_html(G, rlab, clab, rg, cg, highlight=r.wrong, title="your answer",
                                              more=more)))
    parts.append(rich_html(check_verdict(r)))
    return page(*parts)


def verdict_latex(v) -> str:
    """Both matrices, the wrong entries boxed, then the verdict and the diagnosis (the terminal's sentences)."""
    from .render import check_grids, check_verdict

    r = v._result
    lines = ["\\begin{gather*}"]
    if r.given is not None and r.given.shape == r.expected.shape:
        E, G, _, _, rg, cg = check_grids(r)
        lines.append(f"\\text{{expected ({_what(r)})}} = {matrix_latex(E, rg, cg)} \\qquad "
                     f"\\text{{your answer}} = {matrix_latex(G, rg, cg, highlight=r.wrong)} \\\\")
    sentences = [line.strip().lstrip("✓✗• ").strip() for line in check_verdict(r).plain.splitlines()]
    sentences = [s for s in sentences if s and not s.startswith("wrong entries:")]      # (boxed above)
    if r.wrong:
        sentences[0] += "; the wrong entries are boxed"
    lines.append(" \\\\\n".join(tex_text(s) for s in sentences))
    lines.append("\\end{gather*}")
    return "\n".join(lines) + "\n"
