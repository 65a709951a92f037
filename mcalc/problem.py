"""A problem: an expression typed with its variables' shapes, the values it is evaluated at, what it is
differentiated with respect to and how the Jacobian is laid out (flatten order, layout); its analytic Jacobian,
dense or sparse.

What is done with a problem lives beside it: values.py reads shapes and values, defaults.py draws the values the
user did not give, arrange.py puts a Jacobian into the problem's order and layout, compare.py checks the analytic
Jacobian by finite differences, products.py computes vᵀJ and J u, results.py reads a gradient, a determinant or a
tensor off a result, and closedform_check.py judges explain's closed form."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from . import values as V
from .arrange import Arranged
from .chain import LocalRules, assemble, assemble_sparse, check_jacobian_size, choose_mode, linear_maps
from .defaults import choose_defaults
from .errors import McalcError, ShapeError, UsageError
from .expr import Node, Var, build, evaluate, topo_order
from .tree import size_of
from .ops import fmt_shape
from .parse import Parsed, parse


ORDERS = {"row": "row", "c": "row", "row-major": "row", "rows": "row", "col": "col", "column": "col", "f": "col",
          "column-major": "col", "col-major": "col", "columns": "col"}
LAYOUTS = {"numerator": "numerator", "num": "numerator", "denominator": "denominator", "den": "denominator",
           "denom": "denominator"}


def prefixed(table, text: str):
    """A word, or an unambiguous prefix of one (numpy's and Click's habit): 'r' or 'ro' for row, 'nu' for numerator,
    'cent' for central; table: word → meaning, or the words themselves.  None where nothing or several fit."""
    table = table if isinstance(table, dict) else {w: w for w in table}
    t = str(text).strip().lower().replace("_", "-")
    if t in table:
        return table[t]
    hits = {v for k, v in table.items() if t and k.startswith(t)}
    return hits.pop() if len(hits) == 1 else None



def normalize_order(order: str) -> str:
    if str(order).strip() == "c":             # (numpy's C, or the start of col: said, not guessed)
        raise UsageError("order 'c' is ambiguous: C (numpy's order='C') is row-major, col is column-major",
                         hint="write C or row for row-major, F or col for column-major")
    o = prefixed(ORDERS, order)
    if o is None:
        raise UsageError(f"unknown order '{order}'", hint="use row (also row-major, C) or col (also column-major, F)")
    return o


def normalize_layout(layout: str) -> str:
    lay = prefixed(LAYOUTS, layout)
    if lay is None:
        raise UsageError(f"unknown layout '{layout}'", hint="use numerator (num) or denominator (denom)")
    return lay


def normalize_wrt(wrt, variables: list[str]) -> list[str]:
    if not variables:
        raise UsageError("the expression has no variables: there is nothing to differentiate")
    if wrt is None or wrt == [] or wrt == "":
        return list(variables)
    if not isinstance(wrt, (str, list, tuple)):
        raise UsageError(f"wrt must be a variable name or a list of names, got {type(wrt).__name__}")
    items = [wrt] if isinstance(wrt, str) else list(wrt)
    names = []
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"wrt must name variables, got {item!r}")
        for name in (V.identifier(p.strip()) for p in item.split(",")):
            if not name:
                continue
            if name not in variables:
                listed = ", ".join(variables) or "none"
                raise UsageError(f"wrt variable '{name}' is not in the expression (its variables: {listed})")
            if name in names:
                raise UsageError(f"wrt variable '{name}' is listed twice")
            names.append(name)
    if not names:
        raise UsageError("no wrt variable given", hint=lambda w: f"name one with {w.wrt}")
    return names


@dataclass(eq=False)
class Problem(Arranged):
    """An expression typed with its variables' shapes, and everything its Jacobian depends on; evaluated (default
    values drawn, local rules computed) once, when first needed."""

    parsed: Parsed
    root: Node
    nodes: list[Node]
    variables: dict[str, Var]          # in order of first appearance
    given: dict[str, np.ndarray]       # the values the user gave
    wrt: list[Var]
    order: str = "row"
    layout: str = "numerator"
    seed: int = 0
    rules: LocalRules | None = None    # the values of the nodes and their local linear maps, once evaluated
    chosen: dict | None = None         # every variable's value, once defaults are drawn
    unused: tuple = ()                 # names given a --shape that the expression does not have
    shaped: tuple = ()                 # variables given a --shape of their own
    redrawn: tuple = ()                # names given values that mcalc drew anew (an answer judged elsewhere)

    @property
    def expression(self) -> str:
        return self.parsed.source

    what = "Jacobian"                  # what the problem's matrix is called (a Hessian problem's: Hessian)

    @property
    def out_shape(self) -> tuple:
        return self.root.shape

    def out_parts(self) -> list[tuple[str, tuple]]:
        """The entries along the matrix's rows, as [(name, shape)]: the output's."""
        return [("f", self.out_shape)]

    @property
    def mode(self) -> str:
        return choose_mode(self.root, self.wrt)

    @property
    def defaulted(self) -> list[str]:
        """The variables whose values mcalc chose."""
        return [name for name in self.variables if name not in self.given]

    def value_origin(self, name: str) -> str:
        """Who chose a variable's value: 'given' (the user), 'chosen' (mcalc) or 'redrawn' (mcalc, in place of the
        user's value, to judge an answer at other values)."""
        return "given" if name in self.given else "redrawn" if name in self.redrawn else "chosen"

    def elsewhere(self, k: int) -> Problem:
        """The same problem at another point: the differentiated variables and those without a given value are
        drawn anew (seed k away); given constants stay, since an answer may rightly rely on them (t summing to 1
        in the gradient softmax(z) - t of a cross-entropy)."""
        wrt = {v.name for v in self.wrt}
        kept = {name: value for name, value in self.given.items() if name not in wrt}
        return replace(self, given=kept, seed=self.seed + 7919 * k, rules=None, chosen=None,
                       redrawn=tuple(sorted(set(self.given) - set(kept)) + list(self.redrawn)))

    def evaluate(self) -> Problem:
        """Draw default values where needed and evaluate the expression (once)."""
        if self.rules is None:
            from .budget import check_evaluation

            check_evaluation(self.nodes, f"evaluating {self.expression}" if len(self.expression) <= 60 else
                             "evaluating the expression")
            shape_of = {name: v.shape for name, v in self.variables.items()}
            missing = [name for name in self.variables if name not in self.given]
            self.chosen, self.rules = choose_defaults(self.nodes, self.given, missing, shape_of, self.seed,
                                                       self.parsed, self.wrt)
        return self

    @property
    def values(self) -> dict[str, np.ndarray]:
        return self.evaluate().chosen

    @property
    def node_values(self) -> dict:
        return self.evaluate().rules.vals

    @property
    def output(self) -> np.ndarray:
        return self.node_values[id(self.root)]

    def analytic(self, canonical: bool = False) -> np.ndarray:
        """The Jacobian in this problem's order and layout (canonical: row-major, numerator layout)."""
        check_jacobian_size(self.root.size, sum(v.size for v in self.wrt), what=self.what)
        self.evaluate()
        with located(self.expression):
            maps = linear_maps(self.nodes, self.rules, self.wrt)
        if canonical:
            return assemble(maps, self.root, self.wrt, what=self.what)
        return assemble(maps, self.root, self.wrt, self.order, self.layout, what=self.what)

    def analytic_sparse(self, canonical: bool = False):
        """The Jacobian as a scipy.sparse CSR array, built from the structure of the maps, never dense."""
        self.evaluate()
        with located(self.expression):
            maps = linear_maps(self.nodes, self.rules, self.wrt)
        J = assemble_sparse(maps, self.root, self.wrt)
        return J if canonical else self.arrange_sparse(J)


@contextmanager
def located(source: str):
    """Errors about a place in the expression carry the expression, so that they can show a caret."""
    try:
        yield
    except McalcError as e:
        if e.col is not None and e.source is None:
            e.source = source
        raise


def prepare(expr: str, wrt=None, values=None, shapes=None, order: str = "row", layout: str = "numerator",
            seed: int = 0, evaluate: bool = True) -> Problem:
    """Parse and type an expression and (unless evaluate is False, for a caller that has more checks to make
    first) choose default values for variables without one and evaluate it.  Whether the Jacobian fits in memory
    is checked where it is formed: a product with a vector, or a sparse Jacobian, may not need it to.

    shapes: a dict name → shape (tuple, int or '2x3'), or --shape items ('2x2', 'A=2x3', ...), where a bare shape is
    the default for every variable without its own.  values: a dict name → array-like or value text."""
    parsed = parse(expr)
    order, layout = normalize_order(order), normalize_layout(layout)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:    # (as --seed N: N ≥ 0)
        raise UsageError(lambda w: f"{w.seed} must be a whole number ≥ 0, got {seed!r}",
                         hint=lambda w: f"e.g. {w.eg('seed', '0', text=False)}")
    seed = int(seed)
    names = parsed.variables()
    vals = V.read_values(values)
    default, named = V.read_shapes(shapes)
    for name in vals:               # (a --shape for a name the expression lacks is harmless, as in a script
        if name not in names:       # that loops over expressions with one set of shapes; a value is a typo)
            listed = ", ".join(names) or "none"
            close = _likely(name, names)
            raise UsageError(lambda w: f"{w.value} names '{name}', which is not a variable of the expression "
                                       f"(its variables: {listed})", hint=f"did you mean '{close}'?" if close else None)
    wrt_names = normalize_wrt(wrt, names) if names else []    # (with no variables, errors in building come first)
    shape_of = V.resolve_shapes(names, vals, named, default)
    unshaped = [] if default is not None else [n for n in names if n not in vals and n not in named]
    try:
        root, nodes = _typed(parsed.source, tuple(sorted((k, tuple(v)) for k, v in shape_of.items())), order,
                             tuple(unshaped))
    except ShapeError as e:         # (W@x with --shape W=3x4,X=4: x is a scalar because X was meant for it)
        pairs = [(n, _likely(n, unshaped)) for n in named if n not in names]
        said = "; ".join(f"--shape names '{n}', which the expression lacks: did you mean '{v}'?" for n, v in pairs
                         if v)
        if said:
            e.hint = said
        raise
    nodes = list(nodes)
    if not names:
        normalize_wrt(wrt, names)
    by_name = {n.name: n for n in nodes if isinstance(n, Var)}
    variables = {name: by_name[name] for name in names}
    wrt_vars = [variables[n] for n in wrt_names]
    problem = Problem(parsed, root, nodes, variables, vals, wrt_vars, order, layout, seed,
                      unused=tuple(n for n in named if n not in names), shaped=tuple(n for n in named if n in names))
    return problem.evaluate() if evaluate else problem


def _likely(name: str, candidates) -> str | None:
    """The candidate a misspelled name most likely meant (X for x, bb for b, bias for b), or None."""
    import difflib

    candidates = list(candidates)
    same = [c for c in candidates if c.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, candidates, n=1, cutoff=0.5) or \
        [c for c in candidates if len(c) == 1 and name.lower().startswith(c.lower())]
    return close[0] if close else None


def broadcast_note(problem: Problem) -> str | None:
    """A * that broadcasts a vector or a row across a matrix where @ would fit too (x'*A*x, A*x, as MATLAB writes
    products): numpy's element-wise product, said with the matrix product it may have meant; None otherwise."""
    for node in problem.nodes:
        if node.op is None or node.op.name != "mul" or len(node.args) != 2:
            continue
        a, b = (x.shape for x in node.args)
        if len(a) and len(b) and max(len(a), len(b)) == 2 and a != b and a[-1] == b[0] and \
                min(size_of(a), size_of(b)) > 1 and node.text and "*" in node.text:
            return (f"{node.text} is element-wise with broadcasting, as numpy's *: {fmt_shape(a)} * {fmt_shape(b)} "
                    f"gives {fmt_shape(node.shape)}; the matrix product (MATLAB's *) is @")
    return None


def unused_note(problem: Problem) -> str | None:
    """A --shape for a name the expression lacks while one of its variables gets mcalc's values: a likely typo
    (bb for b), said with the pairing; None when nothing is amiss."""
    if not problem.unused:
        return None
    defaulted = [n for n in problem.defaulted if n not in problem.given and n not in problem.shaped]   # (X with
    #                                              its own --shape was not what an unused 'x' was meant for)
    if not defaulted:
        return None
    pairs = []
    for name in problem.unused:                      # (only a likely pairing: a script's spare shapes say nothing)
        close = _likely(name, defaulted)
        if close:
            pairs.append((name, close))
    if not pairs:
        return None
    said = "; ".join(f"'{n}' is not in the expression, and {v} got values chosen by mcalc: did you mean '{v}'?"
                     for n, v in pairs)
    return f"--shape {said} (--ignore-unused silences this)"


@lru_cache(maxsize=64)
def _typed(source: str, shapes: tuple, order: str, unshaped: tuple) -> tuple[Node, tuple[Node, ...]]:
    """The typed tree and its nodes in topological order.  They depend on the text and the shapes, never on
    values, and nothing changes a tree once built, so a repeated call (a script's loop: new values, same
    expression) builds nothing, and the derivative rules each node keeps (derivative.py) are kept with it."""
    root = build(parse(source), dict(shapes), order, unshaped)
    return root, tuple(topo_order(root))


def evaluate_text(text: str, problem: Problem, what: str = "the answer") -> np.ndarray:
    """Another expression (a hand-derived answer, a closed form) evaluated with the problem's variables, at the
    problem's values and in its flatten order."""
    root, names = typed_text(text, problem, what)
    nodes = topo_order(root)
    from .budget import check_evaluation

    check_evaluation(nodes, f"evaluating {what}")
    with located(text):
        return np.asarray(evaluate(nodes, {n: problem.values[n] for n in names})[id(root)], dtype=float)


def typed_text(text: str, problem: Problem, what: str = "the answer") -> tuple:
    """(the typed tree, its variables' names) of another expression in the problem's variables: its shape, known
    before anything is computed."""
    parsed = parse(text)
    names = parsed.variables()
    unknown = [n for n in names if n not in problem.variables]
    if unknown:
        hint = "the identity is eye(n), a column of ones ones(n, 1)" if set(unknown) & {"I", "Id", "E", "J"} else \
            None
        raise UsageError(f"{what} uses {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} not a "
                         f"variable of the expression (its variables: {', '.join(problem.variables)})", hint=hint)
    return build(parsed, {n: problem.variables[n].shape for n in names}, problem.order), names
