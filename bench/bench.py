"""mcalc against the memory floor and its peers, each measurement in a process of its own.

    python bench/bench.py                      every case (about 20 minutes on 2 cores)
    python bench/bench.py --quick              the sizes up to 64 only
    python bench/bench.py --case tanh          cases whose name or id contains 'tanh' (also: cli, cold, accuracy,
                                               sparse for the sections after the cases)
    python bench/bench.py --json r.json        also save every measurement
    python bench/bench.py --from r.json --markdown -      the README's tables from saved measurements
    python bench/bench.py --from r.json --case logdet --json r.json   rerun some cases over saved ones
    python bench/bench.py --readme             write the tables into README.md (between its markers)
    python bench/bench.py --json bench/results.json --readme     what the README's tables come from

Every (case, tool) pair runs in a fresh worker process (`bench.py --worker CASE TOOL`, printing JSON): mcalc, JAX,
PyTorch, autograd and numdifftools never share a process, so one library's threads, caches and memory cannot
inflate another's figures.  Each worker is pinned to one core (sched_setaffinity) with OMP/OpenBLAS/MKL at one
thread, XLA's Eigen pool off and torch.set_num_threads(1), unless --threads is given; a peer's worker is limited to
8 GiB of address space.

For a Jacobian, each worker times the floor (allocating and filling an array of J's size) beside its own methods,
alternating calls of the floor and of the method; for a gradient, a VJP or a JVP, the floor is one plain numpy
evaluation of the expression.  mcalc's time and its floor come from the same process and the same moments, so their
ratio is honest (filling a large array costs several times more when the kernel has no huge pages at hand, and that
varies from minute to minute on a shared machine).  Each worker reports the share of a core it had while timing
(CPU time over wall time); one that had clearly less than the case's other workers (below 0.8 and below 0.85× the
best) is run again, once, keeping the run with the larger share.  Times are wall-clock medians of at least --repeat
runs and of at least 0.3 s of runs (1 s for the per-call overheads), the calls alternating between two sets of values
so that nothing can be reused from the previous call.  mcalc is called through its public API (parsing included);
the peers are warm: JAX jitted and called once, torch.func, autograd, numdifftools.  Each one's max error is against
mcalc's result (relative to max(1, max|J|)), and each one's first call in its fresh process is shown (JAX's
includes tracing and compiling; mcalc's comes after a call on another expression, which does its lazy imports).
Gradients, VJPs and JVPs are also timed written by hand in numpy from their closed forms (the tool "numpy"): what
any tool built on numpy's BLAS and LAPACK can do at best, which separates mcalc's own cost from numpy's against XLA.

After the cases: the accuracy of the finite-difference methods, sparse Jacobians against filling their nonzeros, the
CLI's wall time with its default check against --fd none, and its cold start (bench/startup.py).

Peers: `pip install ".[bench]"` installs JAX, numdifftools and autograd; PyTorch is used when present.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time

THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
SINGLE = "--threads" not in sys.argv
if SINGLE:                      # before numpy is imported, here and (through the environment) in every worker
    os.environ.update(THREAD_ENV)
    if "--worker" in sys.argv and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})    # and every thread of a worker on one core: XLA
                                                                   # runs some work on threads of its own regardless
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
BEGIN, END = "<!-- generated: python bench/bench.py --readme -->\n", "<!-- end of generated benchmark -->"
PEERS = ("jax", "torch", "autograd", "numdifftools")
MEMORY_LIMIT = 8 << 30


@dataclass
class Case:
    id: str
    name: str
    kind: str                        # jacobian, gradient, vjp or jvp
    expr: str
    wrt: str
    values: Callable[[np.random.Generator], dict]
    fn: Callable                     # fn(xp, x, other): the expression for the peers, xp = numpy, jax.numpy, ...
    n: int                           # the size, for --quick
    table: str = "jacobian"          # which README table: jacobian, gradient or overhead
    plain: Callable | None = None    # the floor of a gradient/VJP/JVP (default: fn with xp = numpy)
    torch_fn: Callable | None = None
    fd: bool = True                  # time mcalc's finite differences too
    peers: tuple = PEERS
    by_hand: Callable | None = None  # by_hand(values, direction): the closed form written in numpy (the Matrix
                                     # Cookbook's), the floor of any tool built on numpy: timed as the tool "numpy"


def _spd(r, n):
    V = r.normal(size=(n, n))
    return V @ V.T / n + np.eye(n)


def _signed(xp, U):
    """Eigenvectors with their largest entry positive, as mcalc's eigh returns them."""
    big = xp.take_along_axis(U, xp.argmax(xp.abs(U), axis=0)[None, :], axis=0)
    return U * xp.where(big < 0, -1.0, 1.0)


def matmul(n):
    return Case(f"mm{n}", f"A@B wrt A, n={n}", "jacobian", "A@B", "A",
                lambda r: {"A": r.normal(size=(n, n)), "B": r.normal(size=(n, n))}, lambda xp, A, v: A @ v["B"], n)


def cube(n):
    return Case(f"cube{n}", f"X^3 wrt X, n={n}", "jacobian", "X^3", "X",
                lambda r: {"X": r.normal(size=(n, n)) / np.sqrt(n)}, lambda xp, X, v: X @ X @ X, n)


def tanh_layer(n):
    return lambda r: {"W": r.normal(size=(n, n)) / np.sqrt(n), "x": r.normal(size=n), "b": r.normal(size=n)}


def _tanh(xp, W, v):
    return xp.tanh(W @ v["x"] + v["b"])


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))


def _tanh_vjp(v, d):
    return np.outer(d * (1 - np.tanh(v["W"] @ v["x"] + v["b"]) ** 2), v["x"])


def _tanh_jvp(v, d):
    return (1 - np.tanh(v["W"] @ v["x"] + v["b"]) ** 2) * (d @ v["x"])


def _trace_inv_grad(v, d):
    Xi = np.linalg.inv(v["X"])
    return -(Xi @ v["A"] @ Xi).T


N9 = 64     # issue 9: structured Jacobians at n = 64, linear-algebra gradients at n = 128
IDX = [5, 0, 63, 2, 2, 17, 40, 9]

CASES = [
    *(matmul(n) for n in (16, 32, 64, 96)),
    Case("tanh256", "tanh(W@x + b) wrt W, n=256", "jacobian", "tanh(W@x + b)", "W",
         lambda r: {"W": r.normal(size=(256, 256)) / 16, "x": r.normal(size=256), "b": r.normal(size=256)}, _tanh, 256),
    Case("inv32", "inv(A) wrt A, n=32", "jacobian", "inv(A)", "A",
         lambda r: {"A": r.normal(size=(32, 32)) + 8 * np.eye(32)},
         lambda xp, A, v: xp.linalg.inv(A), 32),
    Case("softmax1000", "softmax(x) wrt x, n=1000", "jacobian", "softmax(x)", "x", lambda r: {"x": r.normal(size=1000)},
         lambda xp, x, v: xp.exp(x - x.max()) / xp.exp(x - x.max()).sum(), 1000),
    *(cube(n) for n in (64, 96)),
    Case("max64", f"max(A, axis=0) wrt A, n={N9}", "jacobian", "max(A, axis=0)", "A",
         lambda r: {"A": r.normal(size=(N9, N9))}, lambda xp, A, v: A.max(axis=0), N9,
         torch_fn=lambda xp, A, v: A.amax(dim=0)),
    Case("where64", f"where(A > 0, A, 0.1*A) wrt A, n={N9}", "jacobian", "where(A > 0, A, 0.1*A)", "A",
         lambda r: {"A": r.normal(size=(N9, N9))}, lambda xp, A, v: xp.where(A > 0, A, 0.1 * A), N9),
    Case("reshape64", f"A.reshape(32, 128) wrt A, n={N9}", "jacobian", "A.reshape(32, 128)", "A",
         lambda r: {"A": r.normal(size=(N9, N9))}, lambda xp, A, v: A.reshape(32, 128), N9),
    Case("index64", f"A[[5, 0, 63, 2, 2, 17, 40, 9], ::-2] wrt A, n={N9}", "jacobian",
         "A[[5, 0, 63, 2, 2, 17, 40, 9], ::-2]", "A", lambda r: {"A": r.normal(size=(N9, N9))},
         lambda xp, A, v: A[xp.asarray(IDX)][:, ::-2], N9,
         torch_fn=lambda xp, A, v: A[xp.asarray(IDX)].flip(1)[:, ::2]),
    Case("einsum64", f"einsum('ij,jk->ik', A, B) wrt A, n={N9}", "jacobian", "einsum('ij,jk->ik', A, B)", "A",
         lambda r: {"A": r.normal(size=(N9, N9)), "B": r.normal(size=(N9, N9))},
         lambda xp, A, v: xp.einsum("ij,jk->ik", A, v["B"]), N9),
    Case("tensordot64", f"tensordot(A, B, 1) wrt A, n={N9}", "jacobian", "tensordot(A, B, 1)", "A",
         lambda r: {"A": r.normal(size=(N9, N9)), "B": r.normal(size=(N9, N9))},
         lambda xp, A, v: xp.tensordot(A, v["B"], 1), N9),
    # gradients, VJP and JVP: the second table
    Case("expgrad256", "∇ sum(exp(A@B) * C) wrt A, n=256", "gradient", "sum(exp(A@B) * C)", "A",
         lambda r: {"A": r.normal(size=(256, 256)) / 16, "B": r.normal(size=(256, 256)) / 16,
                    "C": r.normal(size=(256, 256))},
         lambda xp, A, v: (xp.exp(A @ v["B"]) * v["C"]).sum(), 256, table="gradient",
         by_hand=lambda v, d: (np.exp(v["A"] @ v["B"]) * v["C"]) @ v["B"].T),
    Case("solve128", "∇ b @ solve(A, b) wrt A, n=128", "gradient", "b @ solve(A, b)", "A",
         lambda r: {"A": r.normal(size=(128, 128)) + 12 * np.eye(128), "b": r.normal(size=128)},
         lambda xp, A, v: v["b"] @ xp.linalg.solve(A, v["b"]), 128, table="gradient",
         by_hand=lambda v, d: -np.outer(np.linalg.solve(v["A"].T, v["b"]), np.linalg.solve(v["A"], v["b"]))),
    Case("cholesky128", "∇ sum(cholesky(S) * C) wrt S, n=128", "gradient", "sum(cholesky(S) * C)", "S",
         lambda r: {"S": _spd(r, 128), "C": r.normal(size=(128, 128))},
         lambda xp, S, v: (xp.linalg.cholesky(S) * v["C"]).sum(), 128, table="gradient"),
    Case("eigvalsh128", "∇ b @ eigvalsh(H) wrt H, n=128", "gradient", "b @ eigvalsh(H)", "H",
         lambda r: {"H": (lambda V: (V + V.T) / 2)(r.normal(size=(128, 128))), "b": r.normal(size=128)},
         lambda xp, H, v: v["b"] @ xp.linalg.eigvalsh(H), 128, table="gradient",
         by_hand=lambda v, d: (lambda V: (V * v["b"]) @ V.T)(np.linalg.eigh(v["H"])[1])),
    Case("eigh128", "∇ sum(eigh(H)[1] * C) wrt H, n=128", "gradient", "sum(eigh(H)[1] * C)", "H",
         lambda r: {"H": (lambda V: (V + V.T) / 2)(r.normal(size=(128, 128))), "C": r.normal(size=(128, 128))},
         lambda xp, H, v: (_signed(xp, xp.linalg.eigh((H + H.T) / 2)[1]) * v["C"]).sum(), 128, table="gradient",
         plain=lambda v: np.sum(np.linalg.eigh(v["H"])[1] * v["C"])),
]

for _n in (256, 1024):           # issue 13's gradients, at n = 256 and 1024
    CASES += [
        Case(f"logdet{_n}", f"∇ logdet(X) wrt X (SPD), n={_n}", "gradient", "logdet(X)", "X",
             lambda r, n=_n: {"X": _spd(r, n)}, lambda xp, X, v: xp.linalg.slogdet(X)[1], _n, table="gradient",
             fd=False, by_hand=lambda v, d: np.linalg.inv(v["X"]).T),
        Case(f"traceinv{_n}", f"∇ trace(inv(X)@A) wrt X, n={_n}", "gradient", "trace(inv(X)@A)", "X",
             lambda r, n=_n: {"X": _spd(r, n), "A": r.normal(size=(n, n))},
             lambda xp, X, v: xp.trace(xp.linalg.inv(X) @ v["A"]), _n, table="gradient", fd=False,
             by_hand=_trace_inv_grad),
        Case(f"lstsq{_n}", f"∇ sum((M@w - y)**2) wrt w, M {4 * _n}×{_n}", "gradient", "sum((M@w - y)**2)", "w",
             lambda r, n=_n: {"M": r.normal(size=(4 * n, n)) / np.sqrt(n), "w": r.normal(size=n),
                              "y": r.normal(size=4 * n)},
             lambda xp, w, v: xp.sum((v["M"] @ w - v["y"]) ** 2), _n, table="gradient", fd=False,
             peers=PEERS[:3], by_hand=lambda v, d: 2 * (v["M"].T @ (v["M"] @ v["w"] - v["y"]))),
        Case(f"logistic{_n}", f"∇ logistic loss wrt w, M {4 * _n}×{_n}", "gradient",
             "sum(log(1 + exp(M@w)) - y*(M@w))", "w",
             lambda r, n=_n: {"M": r.normal(size=(4 * n, n)) / np.sqrt(n), "w": r.normal(size=n),
                              "y": (r.random(4 * n) > 0.5) * 1.0},
             lambda xp, w, v: xp.sum(xp.log(1 + xp.exp(v["M"] @ w)) - v["y"] * (v["M"] @ w)), _n,
             table="gradient", fd=False, peers=PEERS[:3],
             by_hand=lambda v, d: v["M"].T @ (_sigmoid(v["M"] @ v["w"]) - v["y"])),
    ]
CASES += [
    Case("vjp1024", "vjp of tanh(W@x + b) wrt W, n=1024", "vjp", "tanh(W@x + b)", "W", tanh_layer(1024), _tanh, 1024,
         table="gradient", fd=False, peers=("jax", "torch", "autograd"), by_hand=_tanh_vjp),
    Case("jvp1024", "jvp of tanh(W@x + b) wrt W, n=1024", "jvp", "tanh(W@x + b)", "W", tanh_layer(1024), _tanh, 1024,
         table="gradient", fd=False, peers=("jax", "torch"), by_hand=_tanh_jvp),
    # per-call overhead at tiny sizes (new values at every call)
    Case("call-jac", 'jacobian("A@B", "A") at 2×2', "jacobian", "A@B", "A",
         lambda r: {"A": r.normal(size=(2, 2)), "B": r.normal(size=(2, 2))}, lambda xp, A, v: A @ v["B"], 2,
         table="overhead", fd=False, peers=("jax", "torch", "autograd")),
    Case("call-grad", 'gradient("sum((M@w - y)**2)", "w") at M 16×4', "gradient", "sum((M@w - y)**2)", "w",
         lambda r: {"M": r.normal(size=(16, 4)), "w": r.normal(size=4), "y": r.normal(size=16)},
         lambda xp, w, v: xp.sum((v["M"] @ w - v["y"]) ** 2), 4, table="overhead", fd=False,
         peers=("jax", "torch", "autograd")),
]
BY_ID = {c.id: c for c in CASES}


# --- timing ----------------------------------------------------------------------------------------------------

def median_time(f, repeat: int, budget: float = 20.0, min_time: float = 0.0, max_runs: int = 20000):
    """(median seconds, last result) of f(): at least one run; at least `repeat` runs and `min_time` seconds of
    runs (at most `max_runs`), stopping once `budget` seconds are spent."""
    times, out, start = [], None, time.perf_counter()
    while True:
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
        spent = time.perf_counter() - start
        if spent > budget or len(times) >= max_runs or (len(times) >= repeat and spent >= min_time):
            break
    return statistics.median(times), out


def timed_first(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def rel_error(J, ref) -> float:
    J = np.asarray(J, dtype=float).reshape(np.shape(ref))
    return float(np.abs(J - ref).max() / max(1.0, np.abs(ref).max()))


# --- one worker: one case, one tool ----------------------------------------------------------------------------

def inputs(case: Case, seed: int):
    """(values, direction): the case's values, and the cotangent (vjp) or tangent (jvp) it needs."""
    r = np.random.default_rng(seed)
    vals = case.values(r)
    d = None
    if case.kind == "vjp":
        d = r.normal(size=np.shape(case.fn(np, vals[case.wrt], vals)))
    elif case.kind == "jvp":
        d = r.normal(size=np.shape(vals[case.wrt]))
    return vals, d


def shapes(case: Case) -> tuple[int, int]:
    """(entries of the output, entries of wrt)."""
    vals, _ = inputs(case, 0)
    return int(np.size(case.fn(np, vals[case.wrt], vals))), int(np.size(vals[case.wrt]))


def floor_fn(case: Case, sets):
    """The floor: filling an array of J's size, or one numpy evaluation of the expression."""
    if case.kind == "jacobian":
        m, n = shapes(case)
        return f"fill a {m}×{n} array", lambda i: np.full((m, n), 1.0)
    if case.plain is not None:
        return "one numpy evaluation", lambda i: case.plain(sets[i][0])
    return "one numpy evaluation", lambda i: case.fn(np, sets[i][0][case.wrt], sets[i][0])


def mcalc_call(case: Case):
    import mcalc

    if case.kind == "jacobian":
        return lambda vals, d: mcalc.jacobian(case.expr, case.wrt, vals)
    if case.kind == "gradient":
        return lambda vals, d: mcalc.gradient(case.expr, case.wrt, vals)
    if case.kind == "vjp":
        return lambda vals, d: mcalc.vjp(case.expr, case.wrt, d, vals)
    return lambda vals, d: mcalc.jvp(case.expr, case.wrt, d, vals)


def peer_methods(case: Case, tool: str, sets):
    """[(name, call(i))] for the peer `tool`, call(i) running on the i-th set of values, results ready."""
    kind, wrt = case.kind, case.wrt
    if tool == "jax":
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        jax.jit(lambda z: z + 1)(1.0).block_until_ready()            # the backend up before the first call is timed
        args = [(jnp.asarray(v[wrt]), {k: jnp.asarray(a) for k, a in v.items() if k != wrt},
                 None if d is None else jnp.asarray(d)) for v, d in sets]

        def f(z, o):
            return case.fn(jnp, z, o)

        if kind == "jacobian":
            made = [("jax jacfwd", jax.jit(jax.jacfwd(f))), ("jax jacrev", jax.jit(jax.jacrev(f)))]
        elif kind == "gradient":
            made = [("jax grad", jax.jit(jax.grad(f)))]
        elif kind == "vjp":
            made = [("jax vjp", jax.jit(lambda z, o, v: jax.vjp(lambda y: f(y, o), z)[1](v)[0]))]
        else:
            made = [("jax jvp", jax.jit(lambda z, o, u: jax.jvp(lambda y: f(y, o), (z,), (u,))[1]))]
        if kind in ("jacobian", "gradient"):
            return [(name, lambda i, c=c: c(*args[i][:2]).block_until_ready()) for name, c in made]
        return [(name, lambda i, c=c: c(*args[i]).block_until_ready()) for name, c in made]
    if tool == "torch":
        import torch
        from torch import func

        if SINGLE:
            torch.set_num_threads(1)
            torch.set_num_interop_threads(1)
        torch.set_default_dtype(torch.float64)
        args = [(torch.as_tensor(v[wrt]), {k: torch.as_tensor(a) for k, a in v.items() if k != wrt},
                 None if d is None else torch.as_tensor(d)) for v, d in sets]
        xp, fn = torch_namespace(), case.torch_fn or case.fn

        def f(z, o):
            return fn(xp, z, o)

        if kind == "jacobian":
            made = [("torch jacfwd", func.jacfwd(f)), ("torch jacrev", func.jacrev(f))]
        elif kind == "gradient":
            made = [("torch grad", func.grad(f))]
        elif kind == "vjp":
            made = [("torch vjp", lambda z, o, v: func.vjp(lambda y: f(y, o), z)[1](v)[0])]
        else:
            made = [("torch jvp", lambda z, o, u: func.jvp(lambda y: f(y, o), (z,), (u,))[1])]
        if kind in ("jacobian", "gradient"):
            return [(name, lambda i, c=c: c(*args[i][:2])) for name, c in made]
        return [(name, lambda i, c=c: c(*args[i])) for name, c in made]
    if tool == "autograd":
        import autograd
        import autograd.numpy as anp

        def f(z, o):
            return case.fn(anp, z, o)

        args = [(v[wrt], {k: a for k, a in v.items() if k != wrt}, d) for v, d in sets]
        if kind == "jacobian":
            c = autograd.jacobian(f)
        elif kind == "gradient":
            c = autograd.grad(f)
        elif kind == "jvp":
            return []
        else:
            def vjp(i):
                z, o, v = args[i]
                return autograd.make_vjp(lambda y: f(y, o))(z)[0](v)
            return [("autograd vjp", vjp)]
        return [(f"autograd {'jacobian' if kind == 'jacobian' else 'grad'}", lambda i: c(*args[i][:2]))]
    if tool == "numpy":
        return [("numpy by hand", lambda i: case.by_hand(*sets[i]))]
    if tool == "numdifftools":
        import numdifftools as nd

        def method(i):
            vals = sets[i][0]
            shape = np.shape(vals[wrt])
            g = (lambda z: case.fn(np, z.reshape(shape), vals)) if kind == "gradient" else \
                (lambda z: np.ravel(case.fn(np, z.reshape(shape), vals)))
            return (nd.Gradient(g) if kind == "gradient" else nd.Jacobian(g))(np.ravel(vals[wrt]))
        return [("numdifftools", method)]
    raise SystemExit(f"unknown tool {tool!r}")


def torch_namespace():
    """The numpy names the cases use, on torch."""
    import torch

    class XP:
        tanh, exp, log, log1p, abs, trace, einsum, sum = (torch.tanh, torch.exp, torch.log, torch.log1p, torch.abs,
                                                          torch.trace, torch.einsum, torch.sum)
        asarray = torch.as_tensor
        where = torch.where

        def tensordot(a, b, axes):
            return torch.tensordot(a, b, dims=axes)

        def argmax(a, axis):
            return torch.argmax(a, dim=axis)

        def take_along_axis(a, i, axis):
            return torch.take_along_dim(a, i, dim=axis)

        class linalg:
            inv, solve, cholesky, eigvalsh, eigh, slogdet = (torch.linalg.inv, torch.linalg.solve,
                                                             torch.linalg.cholesky, torch.linalg.eigvalsh,
                                                             torch.linalg.eigh, torch.linalg.slogdet)
    return XP


def _failure(e: BaseException) -> str:
    text = (str(e).strip().splitlines() or [""])[0]
    if isinstance(e, MemoryError) or "allocat" in text or "RESOURCE_EXHAUSTED" in text:
        return "out of memory"
    return f"{type(e).__name__}: {text[:70]}"


def worker(case_id: str, tool: str, repeat: int) -> dict:
    """One case with one tool, in this (fresh) process: its methods' medians, and the floor measured alongside."""
    try:                        # a peer that would take the machine's memory fails here instead (JAX, PyTorch);
        import resource  # mcalc keeps to its own budget, which it takes from this limit when there is one

        if tool == "mcalc":
            raise ImportError

        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(hard, MEMORY_LIMIT)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass
    case = BY_ID[case_id]
    sets = [inputs(case, 0), inputs(case, 1)]
    min_time = 1.0 if case.table == "overhead" else 0.3
    floor_name, floor = floor_fn(case, sets)
    ids = cycle(range(len(sets)))
    rows, ref, floors = [], None, []
    if tool == "mcalc":
        call = mcalc_call(case)
        import mcalc

        mcalc.jacobian("2*x", "x", {"x": np.ones(2)})      # mcalc's lazy imports, not this case's first call
        first, ref = timed_first(lambda: call(*sets[0]))
        t, t_floor = paired(lambda: call(*sets[next(ids)]), lambda: floor(next(ids)), repeat, min_time, floors)
        rows.append({"method": "mcalc", "time": t, "floor": t_floor, "first": first, "error": 0.0})
        if case.fd and case.kind in ("jacobian", "gradient"):
            rows.append(finite_row(case, sets[0][0], np.asarray(ref), repeat))
    else:
        for name, call in peer_methods(case, tool, sets):
            try:
                first, out = timed_first(lambda: call(0))    # JAX: tracing and compiling; the others: warming up
                t, t_floor = paired(lambda: call(next(ids)), lambda: floor(next(ids)), repeat, min_time, floors)
                if ref is None:
                    ref = np.asarray(mcalc_call(case)(*sets[0]))
                rows.append({"method": name, "time": t, "floor": t_floor, "first": first,
                             "error": rel_error(np.asarray(out), ref)})
            except Exception as e:  # noqa: BLE001 - a peer failing (out of memory, unsupported) is a result
                rows.append({"method": name, "time": None, "note": _failure(e)})
            out = None
    if not floors:
        median_time(lambda: floors.append(timed_first(lambda: floor(next(ids)))[0]), repeat, min_time=min_time)
    m, n = shapes(case)
    return {"case": case_id, "tool": tool, "floor": statistics.median(floors), "floor_name": floor_name,
            "cpu_share": cpu_share(), "rows": rows, "out": m, "in": n, "when": time.strftime("%Y-%m-%d %H:%M:%S")}


def paired(f, floor, repeat: int, min_time: float, floors: list, budget: float = 30.0) -> tuple[float, float]:
    """Medians of f() and of floor(), called alternately (in turn first) so that both see the machine in the same
    state: filling a large array costs several times more when the kernel has no huge pages at hand, for the floor
    and the method alike.  At least `repeat` pairs and `min_time` seconds of f, stopping after `budget` seconds.
    The floor's times are also added to `floors`."""
    tf, tl, start, cpu = [], [], time.perf_counter(), time.process_time()
    while True:
        for g, times in ((f, tf), (floor, tl))[::1 if len(tf) % 2 == 0 else -1]:
            t = time.perf_counter()
            g()
            times.append(time.perf_counter() - t)
        if time.perf_counter() - start > budget or len(tf) >= 20000 or (len(tf) >= repeat and sum(tf) >= min_time):
            break
    floors += tl
    SHARE.append((time.process_time() - cpu, time.perf_counter() - start))
    return statistics.median(tf), statistics.median(tl)


SHARE: list[tuple[float, float]] = []     # (CPU seconds, wall seconds) of each timed loop in this worker


def cpu_share() -> float | None:
    """CPU time over wall time while timing: about 1 for one thread that had a core to itself, less when the
    machine was busy with other work."""
    cpu, wall = sum(c for c, _ in SHARE), sum(w for _, w in SHARE)
    return cpu / wall if wall else None


def finite_row(case: Case, vals: dict, J: np.ndarray, repeat: int) -> dict:
    """mcalc's finite differences (central), column by column, sampled as the check samples them."""
    try:
        from mcalc.finite import finite_jacobian, sample_columns
        from mcalc.problem import prepare

        ref = J.reshape(1, -1) if case.kind == "gradient" else J
        p = prepare(case.expr, case.wrt, vals)
        cols = sample_columns(p.nodes, p.wrt, "central")
        t, fr = median_time(lambda: finite_jacobian(p.nodes, p.values, p.wrt, "central", cols), max(1, repeat // 2))
        checked = ~np.isnan(fr.J)
        err = float(np.abs(fr.J[checked] - ref[checked]).max() / max(1.0, np.abs(ref).max()))
        label = "mcalc finite differences (central)" + (
            "" if cols is None else f", {len(cols)} of {ref.shape[1]} columns")
        return {"method": label, "time": t, "error": err}
    except Exception as e:  # noqa: BLE001 - internal API moved: say so, go on
        return {"method": "mcalc finite differences (central)", "time": None, "note": _failure(e)}


# --- the sections after the cases -----------------------------------------------------------------------------

ACCURACY = [
    ("inv(A)", "A", {"A": [[2.0, 1.0, 0.5], [0.3, 3.0, 1.0], [1.0, -0.5, 2.5]]}),
    ("X^3", "X", {"X": [[1.0, 0.5], [-0.3, 0.8]]}),
    ("softmax(x)", "x", {"x": [0.1, -0.4, 1.2, 0.0]}),
    ("exp(x)", "x", {"x": [1.0, 0.5, -1.0]}),
    ("tanh(W@x + b)", "W", {"W": [[0.2, -0.1, 0.4], [0.3, 0.5, -0.2]], "x": [1.0, 0.5, -1.0], "b": [0.1, -0.3]}),
    ("[r*cos(t), r*sin(t)]", "r,t", {"r": 2.0, "t": 0.7}),
]


def numdifftools_error(p, J) -> str:
    """numdifftools' Jacobian of the same function (mcalc evaluating it), as a peer's accuracy."""
    try:
        import numdifftools as nd
    except ImportError:
        return ""
    from mcalc.expr import evaluate

    sizes = [v.size for v in p.wrt]

    def f(z):
        env = dict(p.values)
        for v, part in zip(p.wrt, np.split(z, np.cumsum(sizes)[:-1])):
            env[v.name] = part.reshape(v.shape)
        return np.ravel(evaluate(p.nodes, env)[id(p.root)])

    x = np.concatenate([np.ravel(p.values[v.name]) for v in p.wrt])
    F = np.asarray(nd.Jacobian(f)(x)).reshape(J.shape)
    return f"{rel_error(F, J):13.1e}"


def accuracy(repeat: int) -> list[str]:
    from mcalc.finite import finite_jacobian
    from mcalc.problem import prepare

    lines = ["finite differences against the analytic Jacobian: max |F - J| / max(1, max|J|)",
             f"  {'case':<24} {'central':>10} {'richardson':>11} {'complex':>10} {'forward':>10} {'numdifftools':>13}"
             f"  (targets: central ≤ 1e-8, richardson and complex ≤ 1e-11)"]
    for expr, wrt, vals in ACCURACY:
        p = prepare(expr, wrt, vals)
        J = p.analytic()
        errs = [rel_error(finite_jacobian(p.nodes, p.values, p.wrt, m).J, J)
                for m in ("central", "richardson", "complex", "forward")]
        lines.append(f"  {expr:<24} " + " ".join(f"{e:10.1e}" for e in errs) + " " + numdifftools_error(p, J))
    return lines


def sparse_output(repeat: int) -> list[str]:
    """--format npz: the Jacobian built sparse from its structure, against filling arrays of its nonzeros."""
    from importlib.util import find_spec

    import mcalc

    if find_spec("scipy") is None:
        return ["sparse Jacobians: SciPy is not installed"]
    lines = ["sparse Jacobians (--format npz): A@B wrt A, built from I ⊗ Bᵀ without the dense matrix",
             f"  {'n':>5} {'J':>17} {'nonzeros':>12} {'floor (fill nnz)':>17} {'mcalc sparse':>13} {'× floor':>8}"]
    for n in (64, 200, 400):
        vals = {"A": np.ones((n, n)), "B": np.random.default_rng(0).normal(size=(n, n))}
        try:
            t, S = median_time(lambda: mcalc.jacobian("A@B", "A", vals, sparse=True), max(1, repeat // 2))
        except Exception as e:  # noqa: BLE001 - refused (too large for this machine's memory): say so, go on
            lines.append(f"  {n:>5} {f'{n * n}×{n * n}':>17}  {_failure(e)}")
            continue
        t_floor, _ = median_time(lambda: (np.full(S.nnz, 1.0), np.full(S.nnz, 1, dtype=np.int64)), repeat)
        lines.append(f"  {n:>5} {f'{n * n}×{n * n}':>17} {S.nnz:>12,} {t_floor * 1e3:15.1f}ms {t * 1e3:11.1f}ms "
                     f"{t / t_floor:8.2f}")
    return lines


SECTIONS = {"accuracy": accuracy, "sparse": sparse_output}

CLI = [("A@B, 64×64", ["jac", "A@B", "--wrt", "A", "--shape", "64x64", "-q"]),
       ("tanh layer, W 256×256", ["jac", "tanh(W@x + b)", "--wrt", "W", "--shape", "W=256x256,x=256,b=256", "-q"])]


def cli_check(runs: int, quick: bool) -> list[dict]:
    """Wall time of `mcalc jac ... -q` with the default check and with --fd none, fresh processes, interleaved."""
    import startup

    out = []
    for name, args in CLI[:1] if quick else CLI:
        default, bare = startup.command() + args, startup.command() + args + ["--fd", "none"]
        for cmd in (default, bare):                          # the file cache warm
            startup.timed(cmd)
        t_def, t_none, codes = [], [], set()
        for _ in range(runs):
            for cmd, times in ((default, t_def), (bare, t_none)):
                t = time.perf_counter()
                rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=startup.OUTSIDE,
                                    env=startup.ENV, check=False).returncode
                times.append(time.perf_counter() - t)
                codes.add(rc)
        out.append({"name": name, "command": "mcalc " + " ".join(_quoted(a) for a in args),
                    "default": statistics.median(t_def), "none": statistics.median(t_none), "runs": runs,
                    "exit codes": sorted(codes)})
    return out


def _quoted(a: str) -> str:
    return f'"{a}"' if any(c in a for c in " @()*") else a


# --- running and reporting -------------------------------------------------------------------------------------

def available(tool: str) -> bool:
    from importlib.util import find_spec

    return tool == "mcalc" or find_spec(tool) is not None


def applicable(case: Case, tool: str, m: int, n: int) -> bool:
    if tool == "numpy":
        return case.by_hand is not None
    if tool == "autograd" and case.kind == "jacobian":
        return m <= 4096                  # one reverse pass per output entry, in Python
    if tool == "numdifftools":
        return case.kind in ("jacobian", "gradient") and n <= 1024     # several evaluations per entry, in Python
    return True


def run_worker(case_id: str, tool: str, repeat: int, threads: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", case_id, tool, "--repeat", str(repeat)]
    env = dict(os.environ)
    if threads:
        cmd.append("--threads")
    else:
        env.update(THREAD_ENV)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        return {"case": case_id, "tool": tool, "failed": "timed out after 900 s"}
    lines = p.stdout.strip().splitlines()
    if p.returncode == 0 and lines:
        return json.loads(lines[-1])
    err = (p.stderr.strip().splitlines() or [""])[-1][:100]
    return {"case": case_id, "tool": tool, "failed": f"exit {p.returncode}: {err}"}


BUSY = 0.8       # a worker that had less than this share of a core while timing, and less than 0.85× the best
                 # share among the case's workers (the machine busier than for the others), is run again


def run_case(case: Case, repeat: int, threads: bool, log) -> dict:
    """Every tool's worker for one case; a worker that had a smaller share of a core while timing than the others
    (see BUSY) is run again, once, and the run with the larger share kept."""
    m, n = shapes(case)
    tools = [t for t in ("mcalc",) + case.peers + ("numpy",) if available(t) and applicable(case, t, m, n)]
    runs = {t: run_worker(case.id, t, repeat, threads) for t in tools}
    shares = [r["cpu_share"] for r in runs.values() if r.get("cpu_share")]
    reruns = []
    for t in tools:
        share = runs[t].get("cpu_share")
        if share is not None and share < min(BUSY, 0.85 * max(shares)) and not threads:
            again = run_worker(case.id, t, repeat, threads)
            reruns.append(t)
            if (again.get("cpu_share") or 0) > share:
                runs[t] = again
    result = {"id": case.id, "reruns": reruns, "tools": runs}
    print_case(case, result, log)
    return result


def fmt(t: float | None) -> str:
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs" if t >= 1e-5 else f"{t * 1e6:.1f} µs"
    if t < 1:
        return f"{t * 1e3:.3g} ms"
    return f"{t:.3g} s"


def print_case(case: Case, result: dict, log) -> None:
    runs = result["tools"]
    mc = runs.get("mcalc", {})
    floor = mcalc_floor(runs)
    m, n = mc.get("out"), mc.get("in")
    log(f"\n{case.name}   [{case.id}]" + (f"   (J {m}×{n})" if case.kind == "jacobian" and m else ""))
    log(f"  {'method':<52} {'median':>10} {'× floor':>8} {'first call':>11}  {'max error':>10}   (× the floor timed "
        f"alongside)")
    if floor:
        log(f"  {'floor: ' + mc['floor_name']:<52} {fmt(floor):>10} {1.0:8.2f}")
    for tool, r in runs.items():
        if "failed" in r:
            log(f"  {tool:<52} failed: {r['failed']}")
            continue
        for row in r["rows"]:
            t = row["time"]
            if t is None:
                log(f"  {row['method']:<52} {'':>10} {'':>8} {'':>11}  {row.get('note', '')}")
                continue
            own = row.get("floor") or floor              # the floor timed alongside this method
            ratio = f"{t / own:8.2f}" if own else f"{'':>8}"
            err = row.get("error")
            log(f"  {row['method']:<52} {fmt(t):>10} {ratio} {fmt(row.get('first')):>11}  "
                f"{'' if err is None else f'{err:10.1e}':>10}")
    shares = ", ".join(f"{t} {r['cpu_share']:.2f}" for t, r in runs.items() if r.get("cpu_share") is not None)
    log(f"  share of a core while timing (load check): {shares}" + (f"; run again: {', '.join(result['reruns'])}"
                                                                    if result["reruns"] else ""))


def machine() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or cpu
    versions = {}
    for pkg in ("numpy", "scipy", "jax", "torch", "autograd", "numdifftools"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    try:
        commit = subprocess.run(["git", "describe", "--always"], capture_output=True, text=True,
                                cwd=HERE.parent, check=False).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                  ":!bench/results.json", ":!README.md"], capture_output=True, text=True,
                                 cwd=HERE.parent, check=False).stdout.strip()     # (not the bench's own output)
        commit += "-dirty" if commit and changed else ""
    except OSError:
        commit = ""
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "versions": versions,
            "commit": commit, "threads": "all" if not SINGLE else "1"}


def mcalc_floor(runs: dict):
    """The floor timed alongside mcalc's analytic method (else in its worker)."""
    mc = runs.get("mcalc", {})
    rows = [row for row in mc.get("rows", []) if row["method"] == "mcalc" and row.get("floor")]
    return rows[0]["floor"] if rows else mc.get("floor")


def best(runs: dict, tool: str):
    """(time, method) of the tool's fastest method (mcalc: its analytic one), or (None, why not)."""
    r = runs.get(tool)
    if r is None:
        return None, "—"
    if "failed" in r:
        return None, "failed" + (" (out of memory)" if "memory" in r["failed"] or "-9" in r["failed"] else "")
    timed = [row for row in r["rows"] if row["time"] is not None and (tool != "mcalc" or row["method"] == "mcalc")]
    if not timed:
        notes = {row.get("note", "") for row in r["rows"]}
        return None, "out of memory" if "out of memory" in notes else "fails"
    row = min(timed, key=lambda row: row["time"])
    return row["time"], row["method"]


SHORT = {"jax": "JAX", "torch": "PyTorch", "autograd": "autograd", "numdifftools": "numdifftools",
         "numpy": "numpy by hand"}


def peer_cell(runs: dict, tool: str, show_method: bool = True) -> str:
    t, method = best(runs, tool)
    if t is None:
        return method
    suffix = method.split()[-1] if show_method and method.split()[-1] in ("jacfwd", "jacrev") else ""
    return fmt(t) + (f" ({suffix[3:]})" if suffix else "")


def markdown(results: dict) -> str:
    mach = results["machine"]
    v = mach["versions"]
    loads = results.get("load", [])
    cases = results["cases"]
    out = []
    busy = loads and max(loads) > 1.5              # the benchmark's own worker accounts for about 1
    commit = mach["commit"]
    if commit.endswith("-dirty"):
        commit = f"{commit[:-6]} with uncommitted changes in the working tree"
    out.append(
        f"Measured {results['date']} on {mach['cpu']} ({mach['cores']} cores"
        + (f", shared with other jobs: load average {min(loads):.1f}–{max(loads):.1f} during the run, the benchmark "
           f"itself counting for about 1" if busy else "")
        + f"), Python {mach['python']}, numpy {v.get('numpy', '?')}, JAX {v.get('jax', '—')}, PyTorch "
        f"{v.get('torch', '—')}, autograd {v.get('autograd', '—')}, numdifftools {v.get('numdifftools', '—')}; "
        f"mcalc at {commit}. Each (case, tool) in its own process, "
        + ("pinned to one core" if mach["threads"] == "1" else "on all cores")
        + "; medians of ≥ 7 runs (calls of several seconds: as many as fit in 30 s). `python bench/bench.py "
          "--json bench/results.json --readme` regenerates this section, with the measurements behind it.")
    rerun: dict = {}
    for cid, c in cases.items():
        if c.get("rerun") and c["rerun"]["commit"] != mach["commit"]:
            rerun.setdefault((c["rerun"]["date"], c["rerun"]["commit"]), []).append(cid)
    for (date, at), ids in sorted(rerun.items()):
        out[-1] += f" Rerun on {date} at {at}, on a machine of the same kind: {', '.join(ids)}."
    shares = sorted(r["cpu_share"] for c in cases.values() for r in c["tools"].values() if r.get("cpu_share"))
    if shares:
        out[-1] += (f" While timing, the workers had {shares[0]:.2f}–{shares[-1]:.2f} of a core (median "
                    f"{statistics.median(shares):.2f}; CPU time over wall time).")
    reruns = sorted({c["id"] for c in cases.values() if c.get("reruns")})
    if reruns:
        out[-1] += f" Workers run again because the machine was busy: {', '.join(reruns)}."
    misses = []

    rows = [c for c in CASES if c.id in cases and c.table == "jacobian"]
    if rows:
        out += ["", "**Jacobians** against the floor (allocating and filling an array of J's size, in the same "
                "process) and the peers (fastest of `jacfwd`/`jacrev`; JAX jitted and warm):", "",
                "| case | J | floor | mcalc | ÷ floor | JAX | PyTorch | autograd | numdifftools "
                "| mcalc ÷ best peer |",
                "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
        for c in rows:
            runs = cases[c.id]["tools"]
            mc = runs.get("mcalc", {})
            t, floor = best(runs, "mcalc")[0], mcalc_floor(runs)
            peers = [best(runs, p)[0] for p in PEERS]
            peers = [p for p in peers if p is not None]
            ratio = t / floor if t and floor else None
            vs = t / min(peers) if t and peers else None
            out.append(f"| `{c.expr}` wrt {c.wrt}, n={c.n} | {mc.get('out', '?')}×{mc.get('in', '?')} | "
                       f"{fmt(floor)} | "
                       f"{fmt(t)} | {_x(ratio)} | " + " | ".join(peer_cell(runs, p) for p in PEERS)
                       + f" | {_x(vs)} |")
            if c.n >= 64 and ratio is not None and ratio > 1.5:
                misses.append(f"`{c.expr}` n={c.n} at {ratio:.2f}× the floor")
            if c.n >= 64 and vs is not None and vs >= 1:
                misses.append(f"`{c.expr}` n={c.n} at {vs:.2f}× the best peer")

    rows = [c for c in CASES if c.id in cases and c.table == "gradient"]
    if rows:
        out += ["", "**Gradients, VJP and JVP** against one numpy evaluation of the expression (same process), the "
                "closed form written by hand in numpy (the Matrix Cookbook's: what any tool built on numpy's BLAS "
                "and LAPACK can do at best; each checked against mcalc's), and JAX (`jax.grad`/`vjp`/`jvp`, jitted, "
                "warm); the first call in a fresh process, JAX's including its compilation:", "",
                "| case | numpy eval | numpy by hand | mcalc | ÷ by hand | JAX | mcalc ÷ JAX | by hand ÷ JAX | PyTorch "
                "| autograd | first call: mcalc / JAX |",
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
        for c in rows:
            runs = cases[c.id]["tools"]
            mc = runs.get("mcalc", {})
            t, tj, th = best(runs, "mcalc")[0], best(runs, "jax")[0], best(runs, "numpy")[0]
            vs = t / tj if t and tj else None
            first = [r.get("first") for r in (mc.get("rows") or [{}])[:1]] + \
                    [row.get("first") for row in runs.get("jax", {}).get("rows", [])[:1]]
            first_cell = " / ".join(fmt(f) for f in first) if len(first) == 2 else "—"
            out.append(f"| {c.name} | {fmt(mcalc_floor(runs))} | {peer_cell(runs, 'numpy')} | {fmt(t)} | "
                       f"{_x(t / th if t and th else None)} | {peer_cell(runs, 'jax')} | {_x(vs)} | "
                       f"{_x(th / tj if th and tj else None)} | {peer_cell(runs, 'torch')} | "
                       f"{peer_cell(runs, 'autograd')} | {first_cell} |")
            if c.n >= 256 and vs is not None and vs > 1.5:
                misses.append(f"{c.name.split(',')[0]} n={c.n} at {vs:.2f}× JAX"
                              + (f" (by hand in numpy: {th / tj:.2f}×)" if th and tj else ""))

    over = [c for c in CASES if c.id in cases and c.table == "overhead"]
    cli, cold = results.get("cli", []), results.get("cold_start")
    if over or cli or cold:
        out += ["", "**Overheads**: a whole API call at a tiny size (new values at every call), the CLI's wall time "
                "with its default check against `--fd none`, and the cold start:", "",
                "| measurement | mcalc | compared with | ratio |", "|---|--:|---|--:|"]
        for c in over:
            runs = cases[c.id]["tools"]
            t = best(runs, "mcalc")[0]
            tj = best(runs, "jax")[0]
            refs = [f"{SHORT[p]} {peer_cell(runs, p, False)}" for p in ("jax", "torch", "autograd") if p in runs]
            refs.append(f"numpy eval {fmt(mcalc_floor(runs))}")
            call, size = c.name.split(" at ")
            out.append(f"| `{call}`, {size}, per call | {fmt(t)} | {' · '.join(refs)} | "
                       f"{_x(t / tj if t and tj else None)} JAX |")
            if t is not None and t > 2e-4:
                misses.append(f"the per-call overhead of `{call}` at {fmt(t)}")
        later = results.get("cli_commit", mach["commit"])
        for r in cli:
            ratio = r["default"] / r["none"]
            at = f" (at {later})" if later != mach["commit"] else ""
            out.append(f"| `{r['command']}`{at} | {fmt(r['default'])} | `--fd none` {fmt(r['none'])} | {_x(ratio)} |")
            if ratio > 1.5:
                misses.append(f"the default check of {r['name']} at {ratio:.2f}× `--fd none`")
        if cold:
            at = f", at {cold['commit']}" if cold.get("commit", mach["commit"]) != mach["commit"] else ""
            out.append(f"| cold start, `{cold['command']}` ({cold.get('install', 'editable')} install{at}) | "
                       f"{fmt(cold['command_time'])} | "
                       f"`import numpy, typer, rich.console` {fmt(cold['floor_time'])} | {_x(cold['ratio'])} |")
            if cold["ratio"] > 1.2:
                misses.append(f"cold start at {cold['ratio']:.2f}× the import floor")
    out += ["", "Issue 13's targets: Jacobians ≤ 1.5× the floor at n ≥ 64 and ahead of the best peer; gradients, "
            "VJP and JVP ≤ 1.5× JAX at n ≥ 256; per-call overhead ≤ 0.2 ms; the default check ≤ 1.5× "
            "`--fd none`; cold "
            "start ≤ 1.2× the import floor. "
            + ("Outside them in this run: " + "; ".join(misses) + "." if misses else "All met in this run.")]
    wrap = textwrap.TextWrapper(width=118, break_long_words=False, break_on_hyphens=False)
    return "\n".join(line if line.startswith("|") else wrap.fill(line) for line in out) + "\n"


def _x(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def write_readme(md: str) -> None:
    text = README.read_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + md + text[stop:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the sizes above 64")
    ap.add_argument("--case", default="", help="only cases whose name or id contains this (or a section: "
                                               "accuracy, sparse, cli, cold)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", action="store_true", help="let numpy and the peers use every core (default: one)")
    ap.add_argument("--json", help="save the measurements to this file")
    ap.add_argument("--from", dest="load", help="start from saved measurements (without --case, only report them)")
    ap.add_argument("--markdown", help="write the README's tables to this file (- for stdout)")
    ap.add_argument("--readme", action="store_true", help="write the tables into README.md")
    ap.add_argument("--worker", nargs=2, metavar=("CASE", "TOOL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        if args.worker[0] in SECTIONS:
            print(json.dumps({"lines": SECTIONS[args.worker[0]](args.repeat)}))
        else:
            print(json.dumps(worker(*args.worker, args.repeat)))
        return

    log = print if args.markdown != "-" else (lambda *a: print(*a, file=sys.stderr))
    results = json.loads(Path(args.load).read_text()) if args.load else \
        {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "cases": {}, "load": []}
    run = not args.load or bool(args.case)
    if run:
        results["load"].append(os.getloadavg()[0])
        for case in CASES:
            if args.case and args.case not in case.name and args.case not in case.id:
                continue
            if args.quick and case.n > 64:
                continue
            results["cases"][case.id] = run_case(case, args.repeat, args.threads, log)
            if args.load:                         # (rerun over saved measurements: said in the tables' header)
                results["cases"][case.id]["rerun"] = {"commit": machine()["commit"],
                                                      "date": time.strftime("%Y-%m-%d")}
            results["load"].append(os.getloadavg()[0])
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=1))
        for name in SECTIONS:
            if not args.case or args.case in name:
                r = run_worker(name, name, args.repeat, args.threads)
                log("\n" + "\n".join(r.get("lines", [f"{name}: {r.get('failed')}"])))
        if not args.case or args.case in "cli check":
            results["cli"] = cli_check(7, args.quick)
            results["cli_commit"] = machine()["commit"]
            log("\nCLI wall time, default check against --fd none (medians of 7 interleaved fresh processes)")
            for r in results["cli"]:
                log(f"  {r['command']:<80} {fmt(r['default']):>9} {fmt(r['none']):>9} "
                    f"{r['default'] / r['none']:6.2f}×  exit {r['exit codes']}")
        if not args.case or args.case in "cold start":
            import startup

            results["cold_start"] = startup.measure(40)
            results["cold_start"]["commit"] = machine()["commit"]
            shown = startup.report(results["cold_start"]).replace("\n", "\n  ")
            log("\ncold start of the canonical command\n  " + shown)
        results["load"].append(os.getloadavg()[0])
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
    md = markdown(results)
    if args.markdown == "-":
        sys.stdout.write(md)
    elif args.markdown:
        Path(args.markdown).write_text(md)
    if args.readme:
        write_readme(md)


if __name__ == "__main__":
    main()
