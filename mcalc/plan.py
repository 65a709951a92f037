"""Plans: what a repeated API call does, worked out once.  A script calls gradient("sum((M@w - y)**2)", "w", v) in
a loop with new values and the same expression, variables and shapes.  Everything that depends on those alone is
kept, per (kind, expression, wrt, shapes, order, layout): the typed tree, and the derivative itself as a tree of
the language (the gradient or the VJP by reverse accumulation over trees, chain.cotangent_tree: Mᵀ (2 (M w - y));
the JVP as the differential, chain.differentials; a small Jacobian as explain's closed form, kron(eye(2), B.T)),
flattened into steps.  A call then converts and scans its values once, evaluates the expression with every domain
check (the same evaluation as the full path), runs the steps and scans the answer.

A plan is only a faster way to the same numbers.  It is made at a key's second call (a one-off call pays nothing
for it), where every variable has a value given as an array and the derivative has a closed form whose arrays are
no larger than the expression's own (no Kronecker product spelled out) or, for a Jacobian, than a small J; its
answer is then checked once against the full path's, and a plan that disagrees is never used.  Anything out of
the ordinary at a call (a value out of its domain, an answer that is not finite, a linear system found singular)
leaves the call to the full path, which computes the answer, or says what is wrong, as it always has.  The
engine's: it names no operation.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from . import values as V
from .errors import McalcError
from .expr import Const, Node, Values, Var, apply, fixed
from .linops import all_entries_finite, read_only
from .tree import topo_order

PLANS = 64                   # plans kept, the most recently used (a script's loop uses one)
_PLANS: OrderedDict = OrderedDict()
_NONE = object()             # no plan for this key: the full path, at once
_SEEN = object()             # called once: a plan is made if the call comes again
JACOBIAN_ENTRIES = 1 << 14   # a Jacobian planned has at most this many entries (128 KiB: where the overhead of a
                             # call is most of its cost)
DIRECTION = " direction"     # (no variable's name) the tangent's or the cotangent's, among those left unscanned
DEFERRED = 1 << 14           # entries from which a value's scan may be left to the first value computed from it


class Plan:
    """The expression's nodes (topological order), the derivative's steps (node, its slot, its arguments'
    slots; slots are the ids of the nodes whose values they hold), the values fixed once (constants, trees of
    constants), and where the answer is.

    A large value is scanned for nan and inf by the scan of the first value computed from it, where that is much
    smaller and shows any nan or inf in it (M @ w: M's 2 MB by w's 8 KB, Op.propagates), rather than by a scan of
    its own: `covered` maps such a node to the value's slot and its place among the node's arguments."""

    __slots__ = ("nodes", "inputs", "forward", "steps", "fixed", "result", "direction", "shape", "covered",
                 "deferred", "checked", "dead")

    def __init__(self, nodes, tree: Node, direction: Var | None, shape: tuple):
        self.nodes, self.direction, self.shape = nodes, direction, shape
        self.inputs = [(id(n), n.name) for n in nodes if isinstance(n, Var)]
        self.fixed: dict[int, np.ndarray] = {id(n): read_only(n.value) for n in nodes if isinstance(n, Const)}
        self.forward = [(n, id(n), tuple(id(a) for a in n.args)) for n in nodes if n.op is not None]
        forward = {n.key: n for n in nodes}                  # (the expression's values, by structure)
        self.steps = []
        slot: dict[int, int] = {}                           # a tree node's id → the id whose value it is
        made: dict = {}                                     # a step's structure → its slot (a tree may hold two
        #                                                     equal subtrees: eigh(H)'s vectors, twice)

        def leaf(n: Node) -> bool:
            return n.key in forward or n.op is None or fixed(n)

        for n in topo_order(tree, leaf=leaf):
            twin = n.swapped_key() if n.op is not None and n.op.commutative else None   # (C ⊙ eᴬᴮ: eᴬᴮ ⊙ C's)
            if n.key in forward or twin in forward:
                slot[id(n)] = id(forward[n.key if n.key in forward else twin])
            elif n.key in made or twin in made:
                slot[id(n)] = made[n.key if n.key in made else twin]
            elif isinstance(n, Var):                        # (the tangent or the cotangent: by structure, a tree
                slot[id(n)] = id(direction)                 # kept with the expression may hold an equal one)
            elif fixed(n):                                  # (a constant, or a tree of them: Values keeps it)
                slot[id(n)] = id(n)
                self.fixed[id(n)] = read_only(np.asarray(Values({})(n), dtype=float))
            else:
                slot[id(n)] = made[n.key] = id(n)
                self.steps.append((n, id(n), tuple(slot[id(a)] for a in n.args)))
        self.result = slot[id(tree)]
        self.dead = self._lifetimes()
        self.covered, self.deferred = self._coverage()
        self.checked = False                                # (its answer found equal to the full path's, once)

    def _lifetimes(self) -> dict[int, tuple]:
        """For each computed value, the values computed before it that nothing uses afterwards: a call lets them go
        as soon as it can, so that the next arrays of their size reuse their memory instead of asking the system
        for new pages (a page fault per 4 KiB: A@B's 512 KiB at n=256 cost more to fault in than exp of it)."""
        entries = self.forward + self.steps
        last = {}
        for i, (_, out, args) in enumerate(entries):
            last[out] = i
            for a in args:
                last[a] = i
        keep = {self.result, *self.fixed, *(k for k, _ in self.inputs)}
        dead: dict[int, list] = {}
        for k, i in last.items():
            if k not in keep:
                dead.setdefault(entries[i][1], []).append(k)
        return {out: tuple(ks) for out, ks in dead.items()}

    def _coverage(self) -> tuple[dict, frozenset]:
        """For each large value given (a variable's, the direction), the node that first uses it, where its scan
        can stand for the value's."""
        uses = [(n, args) for n, _, args in self.forward + self.steps]
        inputs = [n for n in self.nodes if isinstance(n, Var)] + ([self.direction] if self.direction else [])
        covered, deferred = {}, set()
        for x in inputs:
            if x.size < DEFERRED:
                continue
            first = next(((n, args) for n, args in uses if id(x) in args), None)
            if first is None:
                continue
            n, args = first
            i = args.index(id(x))
            others = sum(a.size for j, a in enumerate(n.args) if j != i)
            if n.op.propagates is not None and n.size + others <= x.size // 8 and args.count(id(x)) == 1:
                covered[id(n)] = (id(x), i)
                deferred.add(DIRECTION if x is self.direction else x.name)
        return covered, frozenset(deferred)

    def run(self, env: dict, direction: np.ndarray | None) -> np.ndarray | None:
        """The derivative at these values (converted; scanned unless deferred), or None where the full path must
        say more."""
        vals = {k: env[name] for k, name in self.inputs}
        vals.update(self.fixed)
        covered, dead = self.covered, self.dead
        with np.errstate(all="ignore"):
            try:
                for n, out, args in self.forward:            # (every domain check: the full path's evaluation)
                    a = [vals[k] for k in args]
                    vals[out] = apply(n, a, True, True)        # (scanned there)
                    if out in covered and not self._covers(n, vals, a):
                        return None
                    if out in dead:
                        a = None
                        for k in dead[out]:
                            del vals[k]
                if self.direction is not None:
                    vals[id(self.direction)] = direction
                for n, out, args in self.steps:
                    a = [vals[k] for k in args]
                    vals[out] = y = n.op.fwd(n, *a)
                    if out in covered and not (all_entries_finite(y) and self._covers(n, vals, a)):
                        return None
                    if out in dead:
                        a = y = None
                        for k in dead[out]:
                            del vals[k]
            except (McalcError, ArithmeticError, np.linalg.LinAlgError):     # (LinAlgError: also an operation's
                return None                                                  # own refusal, Refused)
            out = np.asarray(vals[self.result], dtype=float)
        if out.shape != self.shape:
            out = np.broadcast_to(out, self.shape) if out.size != np.prod(self.shape) else out.reshape(self.shape)
        if not all_entries_finite(out):
            return None
        return out if out.flags.writeable else out.copy()   # (never the caller's array, nor one a node keeps)

    def _covers(self, n: Node, vals: dict, args: list) -> bool:
        """Given that n's value is finite, whether the large value it is the first to use is: a nan or an inf in
        it would show in n's value; or, where it might not (a factor with a zero), by its own scan."""
        x, i = self.covered[id(n)]
        return n.op.propagates(n, i, *args) or all_entries_finite(vals[x])


def run(kind: str, expr, wrt, values, shapes, seed, direction=None, *, full, order="row",
        layout="numerator") -> np.ndarray | None:
    """gradient, vjp, jvp or jacobian by a plan: the answer, or None where the full path takes the call (no plan,
    or anything to say; the seed is only checked, every value being given).  A key's first call is the full
    path's (a one-off call pays nothing for a plan); its second makes the plan.  A plan is used only once its
    answer has been found equal to full()'s, the full path's, at one call (as explain checks its closed forms):
    until then each call computes both and answers with full()'s; a plan that disagrees is dropped."""
    if shapes is not None or type(values) is not dict or type(expr) is not str or type(seed) is not int or \
            seed < 0 or type(order) is not str or type(layout) is not str:
        return None
    if type(wrt) in (list, tuple) and all(type(w) is str for w in wrt):
        wrt = tuple(wrt)
    elif type(wrt) is not str and not (wrt is None and kind == "jacobian"):
        return None
    try:                                                      # (converted, not yet scanned: the plan says which)
        env = {k: V.as_value(v, k, scan=False) for k, v in values.items() if type(k) is str and type(v) is not str}
        d = None if direction is None or type(direction) is str else V.as_value(direction, scan=False)
    except McalcError:
        return None
    if len(env) != len(values) or (kind in ("vjp", "jvp") and d is None):
        return None
    key = (kind, expr, wrt, tuple((k, a.shape) for k, a in env.items()), None if d is None else d.shape, order,
           layout)
    plan = _PLANS.get(key)
    if plan is None or plan is _SEEN:
        made = _SEEN if plan is None else _make(kind, expr, wrt, env, d, order, layout)
        _keep(key, made)
        if plan is None:
            return None
        plan = made
    elif plan is not _NONE:
        try:
            _PLANS.move_to_end(key)
        except KeyError:                                      # (another thread's call evicted it meanwhile)
            pass
    if plan is _NONE:
        return None
    deferred = plan.deferred
    if not all(k in deferred or all_entries_finite(a) for k, a in env.items()) or \
            d is not None and DIRECTION not in deferred and not all_entries_finite(d):
        return None
    out = plan.run(env, d)
    if kind == "jacobian" and out is not None:
        out = np.ascontiguousarray(out)                       # (rows of J in memory, and 0 where a Kronecker
        np.add(out, 0.0, out=out)                             # product with eye writes the -0 of 0 · -b)
    if plan.checked:
        return out
    answer = full()               # (raises as the full path does; the plan stays unchecked, and unused, till then)
    if out is not None:
        if _agrees(out, answer):
            plan.checked = True
        else:
            _keep(key, _NONE)
    return answer


def _keep(key, plan) -> None:
    """Keep a plan (or _SEEN, _NONE) for a key, forgetting the least recently used beyond PLANS."""
    _PLANS[key] = plan
    while len(_PLANS) > PLANS:
        try:
            _PLANS.popitem(last=False)
        except KeyError:                                      # (emptied by another thread)
            break


def _agrees(out: np.ndarray, answer) -> bool:
    from .tolerance import DEFAULT_TOL, wrong_entries

    answer = np.asarray(answer)
    return out.shape == answer.shape and not wrong_entries(answer, out, DEFAULT_TOL).any()


def _make(kind: str, expr: str, wrt, env: dict, d: np.ndarray | None, order: str = "row",
          layout: str = "numerator"):
    """The plan for a call, or _NONE."""
    from .algebra import for_numbers
    from .budget import check_evaluation
    from .chain import cotangent_tree, dependencies, differentials
    from .parse import parse
    from .problem import _typed, normalize_layout, normalize_order, normalize_wrt

    try:
        parsed = parse(expr)
        names = parsed.variables()
        if sorted(names) != sorted(env) or not names:
            return _NONE
        wrt_names = normalize_wrt(wrt, names)
        order = normalize_order(order)
        root, nodes = _typed(parsed.source, tuple(sorted((k, a.shape) for k, a in env.items())), order, ())
        nodes = list(nodes)
        check_evaluation(nodes)
        by_name = {n.name: n for n in nodes if isinstance(n, Var)}
        wrt_vars = [by_name[name] for name in wrt_names]
        v = wrt_vars[0]
        largest = max([n.size for n in nodes] + [v.size])
        if kind == "jacobian":
            from .explain import closed_form

            layout = normalize_layout(layout)
            m, n = root.size, sum(w.size for w in wrt_vars)
            if m * n > JACOBIAN_ENTRIES:                # (larger: the structured maps write it once, a closed
                return _NONE                            # form would spell out each Kronecker product)
            with for_numbers():
                tree, _ = closed_form(nodes, wrt_vars, order, layout)
            if tree is None:
                return _NONE
            direction, shape = None, (m, n) if layout == "numerator" else (n, m)
            largest = max(largest, JACOBIAN_ENTRIES)      # (diag(s) of a softmax's s: small arrays, whatever J's)
        elif len(wrt_vars) != 1 or order != "row":
            return _NONE
        elif kind == "gradient":
            if root.size != 1:
                return _NONE
            direction, shape = None, v.shape
            with for_numbers():
                tree = cotangent_tree(nodes, v, Const(np.ones(root.shape)), ("plan", v.key, len(nodes)))
        elif kind == "vjp":
            if d.shape != root.shape:
                return _NONE
            direction, shape = Var("cotangent", root.shape, tangent=True), v.shape
            with for_numbers():
                tree = cotangent_tree(nodes, v, direction, ("plan vjp", v.key, len(nodes)))
        else:
            if d.shape != v.shape:
                return _NONE
            if not dependencies(nodes, [v])[id(root)]:
                return _NONE
            Ds = differentials(nodes, [v])
            direction, shape, tree = Ds[id(v)], root.shape, Ds.get(id(root))
            if tree is None:
                return _NONE
    except (McalcError, RecursionError):               # (the full path says what, or does without the tree)
        return _NONE
    if any(n.size > largest for n in topo_order(tree)):     # (a map spelled out, larger than any array given)
        return _NONE
    return Plan(nodes, tree, direction, shape)
