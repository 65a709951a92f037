"""Explanations: the differential of an expression, the rule and local Jacobian of each operation on the way, and
the closed form of its Jacobian in the chosen order and layout.

Everything comes from the registry: the differential is each operation's differential composed (its arguments'
differentials substituted), each local Jacobian is that differential read symbolically (mcalc.derivative), and the
closed form is their product by the chain rule, forward from each variable, simplified by the algebra's rewrite
rules.  This module knows no operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .algebra import flatten_order, simplify
from .chain import cotangent_tree, dependencies, differentials, forward_accumulate
from .derivative import differential, local_form, tangent
from .errors import NoClosedFormError, TooLargeError
from .expr import Const, Node, Var
from .printing import ATOM, CALL, POWER, Latex, Mcalc, Unicode, is_call
from .ops import maps
from .tree import REGISTRY, rebuild, topo_order


# --- the differential -------------------------------------------------------------------------------------------

def d_of(node: Node, printer) -> str:
    """The name of a differential: dX, d exp(x), d(A B)."""
    text = printer(node)
    if isinstance(node, Var):
        return f"d{text}"
    return f"d {text}" if printer.raw(node)[1] == CALL else f"d({text})"


# --- the closed form --------------------------------------------------------------------------------------------

class LocalForms:
    """The closed forms of the local Jacobians (node, argument), each computed once; the operations that have
    none (kron) are collected."""

    def __init__(self, order: str):
        self.order, self.cache, self.missing = order, {}, set()

    def __call__(self, node: Node, i: int) -> Node | None:
        key = (id(node), i)
        if key not in self.cache:
            try:
                self.cache[key] = local_form(node, i, self.order)
            except NoClosedFormError as e:
                self.missing.add(e.message)
                self.cache[key] = None
        return self.cache[key]


def closed_form(nodes: list[Node], wrt: list[Var], order: str, layout: str,
                local: LocalForms | None = None) -> tuple[Node | None, list]:
    """The Jacobian of the root with respect to the wrt variables (side by side) as a closed form, by the chain
    rule forward from each variable; (None, [operations without one]) when an operation on the way has none."""
    with flatten_order(order):
        return _closed_form(nodes, wrt, order, layout, local or LocalForms(order))


def _closed_form(nodes, wrt, order, layout, local):
    deps = dependencies(nodes, wrt)
    for node in nodes:
        for i, a in enumerate(node.args):
            if deps[id(a)]:
                local(node, i)
    if local.missing:
        return None, sorted(local.missing)
    root = nodes[-1]
    blocks = []
    for v in wrt:
        def step(node, arg_forms, n=v.size):
            total = None
            for i, Ja in enumerate(arg_forms):
                if Ja is not None:
                    term = maps.compose(local(node, i), Ja)
                    total = term if total is None else maps.plus(total, term)
            return total if total is not None else maps.zeros(node.size, n)
        J = forward_accumulate(nodes, deps, v, maps.eye(v.size), step)
        blocks.append(maps.zeros(max(1, root.size), v.size) if J is None else J)
    if layout == "denominator":
        blocks = [maps.transpose(b) for b in blocks]
    return simplify(maps.side_by_side(blocks, vertical=layout == "denominator")), []


# --- names for the terminal --------------------------------------------------------------------------------------

_LETTERS = {"s": "spq", "y": "yuvwzq", "Y": "YUVWZQ"}   # letters for subexpressions, in order of preference
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# --- the gradient, by the trace identity ----------------------------------------------------------------------

def gradient_tree(nodes: list[Node], v: Var) -> Node:
    """∇f shaped like v, for the scalar root f of nodes (topological order), as a simplified tree of the
    language (chain.cotangent_tree, from a cotangent of ones): the gradient as a textbook writes it (a bᵀ,
    2 Aᵀ (A X B + C) Bᵀ), never a row of Kronecker products.  Raises NoClosedFormError when an operation on the
    way has no closed form (kron, sort).  Built once per expression (kept with the root)."""
    root = nodes[-1]
    return cotangent_tree(nodes, v, Const(np.ones(root.shape)), ("gradient", v.key, len(nodes)))


def _occurrences(tree: Node, primal: set, limit: int = 10_000) -> dict:
    """How often each of the user's subexpressions appears in a tree (as printed: shared subtrees count each
    time), outermost ones only."""
    count: dict = {}
    stack = [tree]
    while stack and limit:
        limit -= 1
        node = stack.pop()
        if node.key in primal:
            count[node.key] = count.get(node.key, 0) + 1
            continue
        stack.extend(reversed(node.args))
    return count


def choose_names(f: Node, nodes: list[Node], taken, every: bool = False) -> dict[int, str]:
    """Short names for the long or repeated subexpressions of a formula: s for a softmax, Y for a matrix, y
    otherwise; the next letter (u, v, ...) when one is taken, by a variable or another name.  every: name each
    repeated one that has a letter of its own (s for softmax), however short."""
    if maps.is_grid(f):
        return {}                                   # a matrix of scalar entries reads best spelled out
    primal = {n.key: n for n in nodes if n.op is not None}
    counts = _occurrences(f, set(primal))
    names, used = {}, set(taken)
    printer = Unicode()
    for key, k in counts.items():
        node = primal[key]
        text = printer(node)
        call_like = is_call(node, printer)
        if not (call_like and (len(text) >= 10 or k >= 2 and len(text) >= 6) or k >= 2 and len(text) >= 12
                or every and k >= 2 and node.op.symbol):
            continue
        kind = node.op.symbol if node.op.symbol else "Y" if node.ndim == 2 else "y"
        name = next((c for c in _LETTERS.get(kind, kind) if c not in used), None)
        j = 1
        while name is None or name in used:                 # every letter taken: y₂, y₃, ...
            j += 1
            name = f"{kind}{str(j).translate(_SUBSCRIPT)}"
        used.add(name)
        names[key] = name
    return names


# --- the explanation ---------------------------------------------------------------------------------------------

@dataclass
class Explanation:
    root: Node
    wrt: list
    D: Node | None                                    # the differential, a tree in dX
    differential: str                                 # "d(A B) = dA B", as the terminal shows it
    steps: list = field(default_factory=list)
    formula: Node | None = None                       # the closed form of the Jacobian
    missing: list = field(default_factory=list)      # operations without a closed form
    names: dict = field(default_factory=dict)         # node key → short name, for the terminal
    gradient: Node | None = None                      # a scalar function's gradient, shaped like the variable
    symbolic: object = None                           # the Jacobian's entries (SymPy), when asked for

    @property
    def differential_mc(self) -> str | None:
        return "0" if self.D is None else _fits(Mcalc(), self.D)

    @property
    def differential_latex(self) -> str:
        tex = Latex()
        lhs = "\\mathrm{d}" + (tex(self.root) if isinstance(self.root, Var) else f"\\left({tex(self.root)}\\right)")
        return f"{lhs} = {'0' if self.D is None else tex(self.D)}"

    @property
    def mc(self) -> str | None:
        return None if self.formula is None or unwritable(self.formula) else _fits(Mcalc(), self.formula)

    @property
    def pretty(self) -> str | None:
        return None if self.formula is None else Unicode(self.names)(self.formula)

    @property
    def latex(self) -> str | None:
        return None if self.formula is None else Latex(self.names)(self.formula)

    def gradient_mc(self) -> str | None:
        return None if self.gradient is None or unwritable(self.gradient) else _fits(Mcalc(), self.gradient)

    def gradient_pretty(self) -> str | None:
        return None if self.gradient is None else Unicode(self.names)(self.gradient)

    def gradient_latex(self) -> str | None:
        return None if self.gradient is None else Latex(self.names)(self.gradient)

    named: list = field(default_factory=list)         # (name, subexpression) for each name used

    def legend(self, notation: str = "uni") -> list[tuple[str, str]]:
        """(name, subexpression) as text in a notation: uni, tex or mc."""
        printer = {"uni": Unicode, "tex": Latex, "mc": Mcalc}[notation]()
        return [(printer.name(name) if notation == "tex" else name, printer(node)) for name, node in self.named]


def unwritable(tree: Node) -> str | None:
    """An operation of the tree that mcalc's syntax has no spelling for (scatter_along_axis, sort's transpose, used
    inside derivatives only), or None: the tree then has no form in mcalc's syntax that check could read back."""
    spelled = _spelled()
    for n in topo_order(tree):
        if n.op is None or n.op.name in spelled or n.op.operator:
            continue
        if n.op.expand is not None:                       # (printed as its meaning: onehot)
            inner = unwritable(n.op.expand(n))
            if inner is not None:
                return inner
        elif n.op.show.mc is None:
            return n.op.name
    return None


@lru_cache(maxsize=1)
def _spelled() -> frozenset:
    from .ops import FUNCTIONS

    names = {n for fn in FUNCTIONS.values() for n in (fn.op, *fn.reaches, *(o for _, o in fn.parts or ()))}
    return frozenset(n for n in names if isinstance(n, str))


def _fits(printer, tree: Node) -> str | None:
    """The tree printed, or None where it is too long to print (written without names, in mcalc's syntax)."""
    try:
        return printer(tree)
    except TooLargeError:
        return None


def explain(nodes: list[Node], wrt: list[Var], order: str, layout: str) -> Explanation:
    root = nodes[-1]
    D = differentials(nodes, wrt)
    deps = dependencies(nodes, wrt)
    uni = Unicode()
    whole, text = _written(root, D, _readable())
    shown = f"{d_of(root, uni)} = {text}"
    local = LocalForms(order)
    formula, missing = closed_form(nodes, wrt, order, layout, local)
    taken = {n.name for n in nodes if isinstance(n, Var)} | {n.text for n in nodes if isinstance(n, Const)}
    taken |= {n.label for n in nodes if n.label}                     # the user's own names (s = softmax(...))
    gradient = None
    if root.size == 1 and len(wrt) == 1:                 # shaped like the variable: in every order and layout
        forms = [maps.gradient(formula, wrt[0].shape, order)] if formula is not None and layout == "numerator" \
            else []
        try:
            forms.append(gradient_tree(nodes, wrt[0]))
        except NoClosedFormError:
            pass
        printed = [(len(t), k, g) for k, g in enumerate(forms) if g is not None
                   for t in [_fits(Unicode(), g)] if t is not None]         # the shorter of the two readings
        gradient = min(printed)[2] if printed else None
    named_in = formula if formula is not None else gradient
    names = choose_names(named_in, nodes, taken) if named_in is not None else {}
    if formula is not None and _fits(Unicode(names), formula) is None:     # (even with names: not shown)
        formula, missing = None, ["(a closed form too long to print)"]
    if gradient is not None and _fits(Unicode(names), gradient) is None:
        gradient = None
    steps = _steps(nodes, D, deps, local)
    by_key = {n.key: n for n in nodes}
    named = [(name, by_key[key]) for key, name in names.items()]
    return Explanation(root, wrt, whole, shown, steps, formula, missing, names, gradient, named=named)


def _steps(nodes, D, deps, forms: LocalForms) -> list[dict]:
    """One step per operation that depends on the variables: its rule, differential and local Jacobians."""
    uni, readable = Unicode(), _readable()
    taken = {n.name for n in nodes if isinstance(n, Var)} | {n.label for n in nodes if n.label}
    steps = []
    for node in nodes:
        if node.op is None or not deps[id(node)]:
            continue
        local = []
        texts = [a.text for a in node.args]
        for i, a in enumerate(node.args):
            if deps[id(a)]:
                form = forms(node, i)
                shown = None if form is None else uni(form)
                local.append({"argument": a.text, "position": i + 1 if texts.count(a.text) > 1 else None,
                              "label": f"∂{_label(uni, node)}/∂{_label(uni, a)}", "jacobian": shown})
        d, text = _written(node, D, readable)
        steps.append({"expression": node.text, "operation": node.op.name, "rule": rule_at(node, taken),
                      "lhs": d_of(node, uni), "differential": text,
                      "differential_mcalc": "0" if d is None else _fits(Mcalc(), d), "local_jacobians": local})
    return steps


def _readable() -> Unicode:
    """A printer for differentials, which are read, not evaluated: a few thousand characters at most."""
    p = Unicode()
    p.limit = READABLE_CHARS
    return p


READABLE_CHARS = 4000


def _written(node: Node, D: dict, uni) -> tuple[Node | None, str]:
    """A node's differential as printed: in dX, or, where that is too long to write out (a chain of
    intermediates each used twice doubles at every step), in its arguments' differentials."""
    d = D.get(id(node))
    if d is None:
        return None, "0"
    try:
        return d, uni(d)
    except TooLargeError:
        local = differential(node, [None if id(a) not in D else Var(d_of(a, uni), a.shape, tangent=True)
                                    for a in node.args])
        return local, f"{uni(local)}   (in its arguments' differentials: in dX it is too long to print)"


def _label(uni, node: Node) -> str:
    """A subexpression in ∂f/∂x: bare when it is one piece (x, x², A⁻¹, softmax(x)), else in parentheses (and
    so is a Hadamard power X∘², which reads as a product)."""
    text, prec = uni.raw(node)
    one_piece = prec >= ATOM or prec == POWER and node.args[0].ndim < 2 and uni.raw(node.args[0])[1] >= ATOM
    return text if one_piece else uni.paren(text)


# --- each operation's rule, from its example ---------------------------------------------------------------------

_GENERIC = {0: "stu", 1: "xyzuv", 2: "XYZAB"}


@lru_cache(maxsize=None)
def rule(name: str) -> str:
    """The operation's differential, written for plain arguments as in its example: 'd(A⁻¹) = -A⁻¹ dA A⁻¹'."""
    node = example_node(REGISTRY[name])
    return "" if node is None else rule_at(node)


def rule_at(node: Node, taken=()) -> str:
    """The differential of a node's operation (with its parameters: X² or X³) for plain arguments x, X, ...
    (none of them a name in taken: the variables of the expression the node is part of); in mcalc syntax where
    the notation does not show the operation (col(x) is the column x)."""
    op = node.op
    node = plain(node, taken)
    names = {a.name for a in node.args if isinstance(a, Var)}
    D = differential(node, [tangent(a.name, a.shape, names) if isinstance(a, Var) else None for a in node.args])
    notation = Unicode
    if len(node.args) == 1 and Unicode()(node) == Unicode()(node.args[0]):
        notation = Mcalc                                  # col(x) is printed x: say col
    show = notation()
    if D is None:
        text = f"{d_of(node, show)} = 0"
    else:
        names = choose_names(D, [node], {a.name for a in node.args if isinstance(a, Var)}, every=True)
        text = f"{d_of(node, show)} = {notation(names)(D)}"
        text += "".join(f", {name} = {show(node)}" for name in names.values())
    return f"{text}  ({op.note})" if op.note else text


def example_node(op) -> Node | None:
    """The node of the operation in its registry example."""
    from .expr import build
    from .parse import parse
    from .values import parse_shape_specs

    if op.example is None:
        return None
    text, shapes = op.example
    parsed = parse(text)
    default, named = parse_shape_specs(shapes)
    tree = build(parsed, {n: named.get(n, default or ()) for n in parsed.variables()})
    return next((n for n in topo_order(tree) if n.op is op), None)


def plain(node: Node, taken=()) -> Node:
    """The node's operation applied to plain variables shaped like its arguments (the variables themselves where
    they are variables; x, X, ... for the others)."""
    used = {a.name for a in node.args if isinstance(a, Var)} | set(taken)
    args = []
    for a in node.args:
        if isinstance(a, (Var, Const)):                  # variables and constants as they are: d(x²) = 2x dx
            args.append(a)
            continue
        letters = _GENERIC.get(a.ndim, "xyz")
        candidates = [*letters] + [f"{c}{k}" for k in range(2, 100) for c in letters]     # then x2, y2, ...
        name = next(c for c in candidates if c not in used)
        used.add(name)
        args.append(Var(name, a.shape))
    return rebuild(node, args)


def catalogue() -> list[tuple[str, str, str]]:
    """(how it is written, what it is, its differential) for every operator and function of the language."""
    from .ops import FUNCTIONS

    rows = [(op.operator, op.help, rule(op.name)) for op in REGISTRY.values() if op.operator]
    for name, fn in FUNCTIONS.items():
        op = REGISTRY[fn.op]
        derivative = "none: a constant" if fn.operands == 0 else rule(op.name)
        rows.append((f"{name}()", fn.help or op.help, derivative))
    return rows


FAMILIES = ("arithmetic", "element-wise", "piecewise", "reductions", "products", "matrix functions", "structural",
            "constants")


def function_table() -> str:
    """The language's functions as a markdown table, one row per operation, by family: every spelling (functions,
    array methods, operators), what it is, and its differential.  The README's table is this text."""
    from .ops import FUNCTIONS, METHODS

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = ["| | spelled | what | differential |", "|---|---|---|---|"]
    for family in FAMILIES:
        first = True
        for name, op in REGISTRY.items():
            if op.family != family:
                continue
            spelled = [f"`{op.operator}`"] if op.operator else []
            spelled += [f"`{f}`" for f, fn in FUNCTIONS.items() if (fn.op == name or name in fn.reaches)
                        and not fn.parts]
            spelled += [f"`{f}(…)[{k}]`" for f, fn in FUNCTIONS.items() for k, (_, o) in enumerate(fn.parts or ())
                        if o == name]
            spelled += [f"`x.{m}()`" for m, f in METHODS.items() if FUNCTIONS[f].op == name]
            if not spelled:
                continue                                    # used inside derivatives only
            derivative = "none: a constant" if family == "constants" else rule(name) or "none: a value only"
            rows.append(f"| {family if first else ''} | {' '.join(dict.fromkeys(spelled))} | {cell(op.help)} | "
                        f"{cell(derivative)} |")
            first = False
    return "\n".join(rows) + "\n"
