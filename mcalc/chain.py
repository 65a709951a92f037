"""The chain rule over the expression tree.  It names no operation: it asks each node for its local linear maps and
composes them, in the cheaper direction.

Forward accumulation carries J_node = d node / d wrt from the variables up: J_node = Σ_i L_i J_arg_i.
Reverse accumulation carries G_node = d root / d node from the root down: G_arg += G_node L_i.
The matrix chain is the same, bracketed differently; forward keeps intermediate maps with n_wrt columns, reverse
with n_out rows, so reverse is chosen when the output has fewer entries than the wrt variables (a gradient costs
about one evaluation), forward otherwise.
"""

from __future__ import annotations

import numpy as np

from .algebra import flatten_order, make, simplify
from .errors import DomainError, NoClosedFormError, TooLargeError
from .derivative import adjoint, differential, local_map, pullback, rule, tangent, zero_like
from .expr import Node, Var, written
from .tree import as_matrix_shape  # noqa: F401 (the shapes of Jacobians' blocks, also for labels and output)
from .linops import Dense, Identity, LinOp, Zero, all_entries_finite, check_dense, human_bytes, memory_budget


def choose_mode(root: Node, wrt: list[Var]) -> str:
    return "reverse" if root.size < sum(v.size for v in wrt) else "forward"


class LocalRules:
    """The local linear maps of the nodes at given values, computed at most once per (node, argument) and checked
    to be finite (sqrt at 0, arcsin at 1: not differentiable)."""

    def __init__(self, vals: dict):
        self.vals, self.cache = vals, {}

    def __call__(self, node: Node, i: int) -> LinOp:
        """(Called with numpy's floating-point warnings off: by linear_maps and check.)"""
        key = (id(node), i)
        if key not in self.cache:
            L = local_map(node, i, self.vals)
            if not L.all_finite():
                raise self._not_differentiable(node, i, L)
            self.cache[key] = L
        return self.cache[key]

    THIN = 1           # a single cotangent row (a gradient, a VJP) is pulled back densely, maps never formed

    def pulled(self, node: Node, i: int, g: LinOp) -> LinOp:
        """g (d node / d args[i]): for a thin g (a gradient's single row), the differential read backwards
        without forming the local map; otherwise the composition with the cached map."""
        if g.shape[0] > self.THIN or (id(node), i) in self.cache:
            return g @ self(node, i)
        out = pullback(node, i, self.vals, np.asarray(g.to_dense(), dtype=float))
        if not all_entries_finite(out):
            return g @ self(node, i)                  # (which says where the derivative is not finite)
        return Dense(out, finite=True)

    def _not_differentiable(self, node: Node, i: int, L: LinOp) -> DomainError:
        arg = node.args[i]
        where = ""
        bad = L.first_nonfinite()
        if bad is not None and _entrywise(node):          # (x**y at x = -2: y's derivative, x's fault: both)
            at = np.unravel_index(bad[0], node.shape)
            where = " where " + ", ".join(_entry(a, at, self.vals[id(a)]) for a in node.args)
        elif bad is not None and arg.shape:
            idx = ",".join(str(int(k)) for k in np.unravel_index(bad[1], arg.shape))
            where = f" where {written(arg)}[{idx}] = {float(np.ravel(self.vals[id(arg)])[bad[1]]):g}"
        elif bad is not None:
            where = f" where {written(arg)} = {float(self.vals[id(arg)]):g}"
        return DomainError(f"{written(node)} is not differentiable{where} (its derivative is infinite, undefined or "
                           "beyond floating point)", col=node.col, hint=lambda w: f"choose other values {w.with_value}")

    def check(self, nodes: list[Node], wrt: list[Var]) -> None:
        """Check every local rule on a path from the wrt variables to the root (raises DomainError): computed, or,
        where the rule applies an operation's own adjoint (whose map is formed column by column: expm's Fréchet
        derivative), pulled back from a cotangent of ones, finite exactly when the map is (an infinite entry stays
        infinite, or meets its opposite as nan)."""
        deps = dependencies(nodes, wrt)
        with np.errstate(all="ignore"):
            for node in nodes:
                for i, a in enumerate(node.args):
                    if deps[id(a)]:
                        if rule(node, i).adjoints and (id(node), i) not in self.cache:
                            out = pullback(node, i, self.vals, np.broadcast_to(1.0, (1, node.size)))
                            if all_entries_finite(out):
                                continue
                        self(node, i)


def _entrywise(node: Node) -> bool:
    """An operation of several arguments entry by entry (x**y, where(c, a, b)), each broadcast to its shape."""
    return len(node.args) > 1 and node.op.family in ("arithmetic", "piecewise") and all(
        np.broadcast_shapes(a.shape, node.shape) == node.shape for a in node.args)


def _entry(a: Node, at: tuple, value) -> str:
    """'x = -2' or 'A[1,0] = 3': the entry of a (broadcast) argument at the output's entry `at`."""
    idx = tuple(0 if d == 1 else k for d, k in zip(a.shape, at[len(at) - len(a.shape):]))
    v = float(np.asarray(value, dtype=float).reshape(a.shape)[idx])
    return f"{written(a)}[{','.join(str(int(k)) for k in idx)}] = {v:g}" if a.shape else f"{written(a)} = {v:g}"


def dependencies(nodes: list[Node], wrt: list[Var], structural: bool = False) -> dict[int, frozenset]:
    """(Computed once per expression and set of wrt variables: kept with the root.)"""
    root = nodes[-1] if nodes else None
    if root is None or root.op is None:
        return _dependencies(nodes, wrt, structural)
    key = ("dependencies", len(nodes), tuple(v.name for v in wrt), structural)
    return root.remember(key, lambda: _dependencies(nodes, wrt, structural))


def _dependencies(nodes: list[Node], wrt: list[Var], structural: bool = False) -> dict[int, frozenset]:
    """For each node (in topological order, the root last), the names of the wrt variables the root's derivative
    depends on through it: none through a piecewise-constant operation such as sign, whose derivative is zero, nor
    for what reaches the root only through one (structural: the variables each node's value depends on)."""
    names = {v.name for v in wrt}
    deps: dict[int, frozenset] = {}
    for node in nodes:
        if isinstance(node, Var):
            deps[id(node)] = frozenset({node.name} & names)
        elif node.op is not None and not structural:
            deps[id(node)] = frozenset().union(*(deps[id(a)] for i, a in enumerate(node.args)
                                                 if node.op.passes_through(i)))
        else:
            deps[id(node)] = frozenset().union(*(deps[id(a)] for a in node.args))
    if not structural and nodes:                       # what reaches the root only through sign(...) is dead
        live = {id(nodes[-1])}
        for node in reversed(nodes):
            if id(node) in live and node.op is not None:
                live.update(id(a) for i, a in enumerate(node.args) if node.op.passes_through(i))
        deps = {k: d if k in live else frozenset() for k, d in deps.items()}
    return deps


def variable_names(nodes: list[Node]) -> set[str]:
    """The names of the expression's own variables (not tangents): what a tangent's name must not be."""
    return {n.name for n in nodes if isinstance(n, Var) and not n.tangent}


def differentials(nodes: list[Node], wrt: list[Var]) -> dict[int, Node]:
    """d(node) for every node that depends on a wrt variable, as a tree in dX for each wrt variable X: the chain
    rule in differentials, each operation's differential given its arguments' (for explain, and evaluated on a
    tangent, the JVP)."""
    deps = dependencies(nodes, wrt)
    names = {v.name for v in wrt}
    taken = variable_names(nodes)
    D: dict[int, Node] = {}
    for node in nodes:
        if not deps[id(node)]:
            continue
        if isinstance(node, Var):
            if node.name in names:
                D[id(node)] = tangent(node.name, node.shape, taken)
                taken.add(D[id(node)].name)         # (X and _X: dX, then d_X for _X's, never both d_X)
            continue
        d = differential(node, [D.get(id(a)) for a in node.args])
        if d is not None:
            D[id(node)] = d
    return D


def cotangent_tree(nodes: list[Node], v: Var, C: Node, key=None) -> Node:
    """The cotangent of v shaped like v, given the root's cotangent C (a tree shaped like the root: ones for a
    gradient, a variable for a VJP), as a simplified tree of the language: reverse accumulation over trees.  The
    cotangent of each node is pulled back through each local closed form L by the trace identity,

        df = tr(Cᵀ d node) = vec(C)ᵀ L vec(d arg) = vec(G)ᵀ vec(d arg)    so the argument's cotangent is G,

    where the algebra's rules turn vec(C)ᵀ L into vec(G)ᵀ (vec(C)ᵀ (A ⊗ B) = vec(Aᵀ C B)ᵀ, ...).  Raises
    NoClosedFormError when an operation on the way has no closed form (kron, sort).  key: kept with the root under
    it (a tree of the structure alone, built once per expression)."""
    root = nodes[-1]
    if key is None or root.op is None:
        return _cotangent_tree(nodes, v, C)

    def build():
        try:
            return _cotangent_tree(nodes, v, C)
        except NoClosedFormError as e:
            return e
    out = root.remember(key, build)
    if isinstance(out, NoClosedFormError):
        raise out
    return out


def _cotangent_tree(nodes: list[Node], v: Var, C: Node) -> Node:
    root = nodes[-1]
    with flatten_order("row"):
        deps = dependencies(nodes, [v])
        if v.name not in deps[id(root)]:
            return zero_like(v)
        cot: dict[int, Node] = {id(root): C}
        for node in reversed(nodes):
            if isinstance(node, Var) or id(node) not in cot:
                continue
            G = cot.pop(id(node))
            for i, a in enumerate(node.args):
                if v.name in deps[id(a)]:
                    g = adjoint(node, i, G)
                    cot[id(a)] = g if id(a) not in cot else make("add", cot[id(a)], g)
        return simplify(cot[id(v)]) if id(v) in cot else zero_like(v)


def linear_maps(nodes: list[Node], rules: LocalRules, wrt: list[Var], mode: str | None = None,
                seed: LinOp | None = None) -> list[LinOp]:
    """d root / d v for each v in wrt, as structured maps (row-major, numerator layout); nodes in topological
    order, root last.

    seed replaces the identity the accumulation starts from: a tangent u (n×1) in forward mode gives J u, a
    cotangent v (1×m) in reverse mode gives vᵀ J, and the Jacobian itself is never built."""
    root = nodes[-1]
    mode = mode or choose_mode(root, wrt)
    deps = dependencies(nodes, wrt)
    with np.errstate(all="ignore"):                  # overflow is checked once, on the answer (assemble)
        if mode == "forward":
            return [_forward(nodes, rules, deps, v, seed) for v in wrt]
        return _reverse(nodes, rules, deps, wrt, seed)


def forward_accumulate(nodes: list[Node], deps: dict, v: Var, start, step):
    """Forward accumulation in any algebra: J of v is start; J of each node that depends on v is
    step(node, [J of each argument, None where it does not depend on v]).  J of the root, None if it does not
    depend on v.  Used with linear maps here and with closed-form formulas by explain."""
    J: dict = {}
    for node in nodes:
        if v.name in deps[id(node)]:                 # elsewhere a symbolic zero: never built
            J[id(node)] = start if node is v else step(node, [J.get(id(a)) for a in node.args])
    return J.get(id(nodes[-1]))


def _forward(nodes, rules, deps, v: Var, seed: LinOp | None = None) -> LinOp:
    k = v.size if seed is None else seed.shape[1]

    def step(node, arg_maps):
        acc: LinOp = Zero(node.size, k)
        for i, Ja in enumerate(arg_maps):
            if Ja is not None:
                acc = acc + rules(node, i) @ Ja
        return acc

    J = forward_accumulate(nodes, deps, v, Identity(v.size) if seed is None else seed, step)
    return Zero(nodes[-1].size, k) if J is None else J


def _reverse(nodes, rules, deps, wrt: list[Var], seed: LinOp | None = None) -> list[LinOp]:
    root = nodes[-1]
    start = Identity(root.size) if seed is None else seed
    G: dict[int, LinOp] = {id(root): start} if deps[id(root)] else {}
    for node in reversed(nodes):
        if isinstance(node, Var) or id(node) not in G:
            continue
        g = G.pop(id(node))
        for i, a in enumerate(node.args):
            if deps[id(a)]:
                contribution = rules.pulled(node, i, g)
                G[id(a)] = G[id(a)] + contribution if id(a) in G else contribution
    return [G.get(id(v), Zero(start.shape[0], v.size)) for v in wrt]


# --- from maps to the matrix the user asked for -------------------------------------------------------------------

def flatten_perm(shape: tuple, order: str) -> np.ndarray:
    """perm[c] = the row-major index of the entry that comes c-th in the given flatten order."""
    idx = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    return idx.ravel(order="F" if order == "col" else "C")


def check_jacobian_size(m: int, n: int, copies: int = 1, what: str = "Jacobian") -> None:
    """Refuse a Jacobian (or Hessian) that does not fit in memory (copies > 1: with the arrays its
    finite-difference check needs), before anything is computed."""
    fd_none_helps = copies > 1 and m * n * 8 <= memory_budget()

    def ways(w):
        other = "compute H v with --hvp, which never forms it" if what == "Hessian" else \
            f"{w.go_sparse}, or compute a product with a vector ({w.vjp} or {w.jvp}), which never forms it"
        return f"skip the check with {w.eg('fd', 'none')}, {other}" if fd_none_helps else other

    check_dense(m, n, f"the {what}", copies=copies, why="checking it by finite differences", hint=ways)


def assemble(maps: list[LinOp], root: Node, wrt: list[Var], order: str = "row",
             layout: str = "numerator", allow_nan: bool = False, what: str = "Jacobian") -> np.ndarray:
    """The dense Jacobian: blocks for each wrt variable side by side, in the requested order and layout.  Refuses
    one that overflowed (allow_nan: nan marks entries left out on purpose)."""
    m, n = root.size, sum(v.size for v in wrt)
    check_jacobian_size(m, n, what=what)
    blocks = []
    for L, v in zip(maps, wrt):
        if order == "col":
            L = L.reordered(flatten_perm(root.shape, "col"), flatten_perm(v.shape, "col"),
                            as_matrix_shape(root.shape), as_matrix_shape(v.shape))
        blocks.append(L.T if layout == "denominator" else L)
    with np.errstate(all="ignore"):
        finite = allow_nan or (m * n > 1 << 12 and all(_finite(b) for b in blocks))   # (small: J scanned whole)
        if len(blocks) == 1:
            J = np.asarray(blocks[0].to_dense())
            if not J.flags.writeable:                   # (a map's own array, kept between calls: the caller's copy)
                J = J.copy()
        else:
            J = np.concatenate([b.to_dense() for b in blocks], axis=0 if layout == "denominator" else 1)
    if not finite and not all_entries_finite(J):
        i, j = np.argwhere(~np.isfinite(J))[0]
        raise DomainError(f"the {what} overflows: entry ({i}, {j}) is {J[i, j]} (beyond floating point)",
                          hint="the derivative is too large to represent at these values; choose other values")
    return J


def _finite(L: LinOp) -> bool:
    """Whether every entry of the map is finite, as cheaply as it can be told: from the structure (a bound), or
    by one scan of a dense map's array, or known (a pulled-back cotangent, scanned as it was computed)."""
    if isinstance(L, Dense):
        return L.finite or all_entries_finite(L.a)
    return bool(np.isfinite(L.bound()))


SPARSE_BYTES = 192    # per stored entry, while a sparse Jacobian is built and written: COO triples, their sum, CSR,
                      # the .npz in memory (measured: 78 at 6 M entries, 170 at 67 M)


def assemble_sparse(maps: list[LinOp], root: Node, wrt: list[Var]):
    """The row-major numerator-layout Jacobian as a scipy.sparse CSR array, built from the maps' structure (a
    Kronecker product with an identity stays block diagonal); refused before building when even its stored
    entries do not fit in memory."""
    from scipy import sparse

    nnz = sum(L.nnz() for L in maps)
    m, n = root.size, sum(v.size for v in wrt)
    if nnz * SPARSE_BYTES > memory_budget():
        raise TooLargeError(f"the sparse Jacobian ({m}×{n}) would store up to {nnz:,} entries, and building it "
                            f"takes {human_bytes(nnz * SPARSE_BYTES)}: more than the {human_bytes(memory_budget())} mcalc allows "
                            "itself", hint=lambda w: f"a product with a vector ({w.vjp}, {w.jvp}) needs far less memory")
    with np.errstate(all="ignore"):
        J = sparse.hstack([L.to_sparse() for L in maps], format="csr") if len(maps) > 1 else maps[0].to_sparse()
    J = sparse.csr_array(J)
    if not all_entries_finite(J.data):
        raise DomainError("the Jacobian overflows (entries beyond floating point)",
                          hint="the derivative is too large to represent at these values; choose other values")
    if np.count_nonzero(J.data) < J.nnz:            # (a read; compacting only when there is something to drop)
        J.eliminate_zeros()
    return J
