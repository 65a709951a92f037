"""mcalc against the memory floor and its peers, measured in one run.

    python bench/bench.py                 every case (a few minutes)
    python bench/bench.py --quick         the smaller sizes only
    python bench/bench.py --case tanh     cases whose name contains 'tanh'

For each case it times, as medians of several runs: the floor (allocating and filling an array of the Jacobian's
size; for a gradient, one plain numpy evaluation of the expression), mcalc's analytic Jacobian through the public
API (parsing included), mcalc's finite differences, and the peers that are installed: JAX jacfwd/jacrev (jitted,
warm), torch.func jacfwd/jacrev (warm) and numdifftools.  It prints each one's ratio to the floor and its max error
against mcalc's analytic Jacobian (relative to max(1, max|J|)).  Then the accuracy of the finite-difference
methods on smooth cases (numdifftools' beside them), sparse Jacobians against filling arrays of their nonzeros, and
the CLI's cold start against `python -c "import numpy, typer, rich.console"`.

Everything runs on one thread (BLAS, XLA, PyTorch) unless --threads is given: on a small machine, threaded
libraries timed in one process inflate each other's figures.

Peers: `pip install ".[bench]"` installs JAX and numdifftools; PyTorch is used when present.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

if "--threads" not in sys.argv:      # single-threaded unless asked: numpy and the peers on the same footing (set
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):   # before numpy is imported)
        os.environ.setdefault(_var, "1")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

import mcalc
from mcalc.finite import finite_jacobian
from mcalc.problem import prepare


@dataclass
class Case:
    name: str
    expr: str
    wrt: str
    values: Callable[[np.random.Generator], dict]
    fn: Callable                     # f(xp, wrt_value, other values) for the peers, xp = jax.numpy or torch
    gradient: bool = False
    plain: Callable | None = None    # the expression in plain numpy, the floor of a gradient
    fd: bool = True
    results: list = field(default_factory=list)


def matmul_case(n):
    return Case(f"A@B wrt A, n={n}", "A@B", "A",
                lambda r: {"A": r.normal(size=(n, n)), "B": r.normal(size=(n, n))},
                lambda xp, A, v: A @ v["B"])


CASES = [
    *(matmul_case(n) for n in (16, 32, 64, 96)),
    Case("tanh(W@x + b) wrt W, n=256", "tanh(W@x + b)", "W",
         lambda r: {"W": r.normal(size=(256, 256)) / 16, "x": r.normal(size=256), "b": r.normal(size=256)},
         lambda xp, W, v: xp.tanh(W @ v["x"] + v["b"])),
    Case("inv(A) wrt A, n=32", "inv(A)", "A",
         lambda r: {"A": r.normal(size=(32, 32)) + 8 * np.eye(32)},
         lambda xp, A, v: xp.linalg.inv(A)),
    Case("softmax(x) wrt x, n=1000", "softmax(x)", "x",
         lambda r: {"x": r.normal(size=1000)},
         lambda xp, x, v: xp.exp(x - x.max()) / xp.exp(x - x.max()).sum()),
    Case("gradient of sum(exp(A@B) * C) wrt A, n=256", "sum(exp(A@B) * C)", "A",
         lambda r: {"A": r.normal(size=(256, 256)) / 16, "B": r.normal(size=(256, 256)) / 16,
                    "C": r.normal(size=(256, 256))},
         lambda xp, A, v: (xp.exp(A @ v["B"]) * v["C"]).sum(), gradient=True,
         plain=lambda v: np.sum(np.exp(v["A"] @ v["B"]) * v["C"])),
]


def _spd(r, n):
    V = r.normal(size=(n, n))
    return V @ V.T / n + np.eye(n)


def _signed(xp, U):
    """Eigenvectors with their largest entry positive, as mcalc's eigh returns them."""
    big = xp.take_along_axis(U, xp.argmax(xp.abs(U), axis=0)[None, :], axis=0)
    return U * xp.where(big < 0, -1.0, 1.0)


N9 = 64     # issue 9: structured Jacobians at n = 64, linear-algebra gradients at n = 128
CASES += [
    Case(f"max(A, axis=0) wrt A, n={N9}", "max(A, axis=0)", "A", lambda r: {"A": r.normal(size=(N9, N9))},
         lambda xp, A, v: A.max(axis=0)),
    Case(f"where(A > 0, A, 0.1*A) wrt A, n={N9}", "where(A > 0, A, 0.1*A)", "A",
         lambda r: {"A": r.normal(size=(N9, N9))}, lambda xp, A, v: xp.where(A > 0, A, 0.1 * A)),
    Case(f"A.reshape(32, 128) wrt A, n={N9}", "A.reshape(32, 128)", "A", lambda r: {"A": r.normal(size=(N9, N9))},
         lambda xp, A, v: A.reshape(32, 128)),
    Case(f"A[[5, 0, 63, 2, 2, 17, 40, 9], ::-2] wrt A, n={N9}", "A[[5, 0, 63, 2, 2, 17, 40, 9], ::-2]", "A",
         lambda r: {"A": r.normal(size=(N9, N9))}, lambda xp, A, v: A[xp.asarray([5, 0, 63, 2, 2, 17, 40, 9])][:, ::-2]),
    Case(f"einsum('ij,jk->ik', A, B) wrt A, n={N9}", "einsum('ij,jk->ik', A, B)", "A",
         lambda r: {"A": r.normal(size=(N9, N9)), "B": r.normal(size=(N9, N9))},
         lambda xp, A, v: xp.einsum("ij,jk->ik", A, v["B"])),
    Case(f"tensordot(A, B, 1) wrt A, n={N9}", "tensordot(A, B, 1)", "A",
         lambda r: {"A": r.normal(size=(N9, N9)), "B": r.normal(size=(N9, N9))},
         lambda xp, A, v: xp.tensordot(A, v["B"], 1)),
    Case("gradient of b @ solve(A, b) wrt A, n=128", "b @ solve(A, b)", "A",
         lambda r: {"A": r.normal(size=(128, 128)) + 12 * np.eye(128), "b": r.normal(size=128)},
         lambda xp, A, v: v["b"] @ xp.linalg.solve(A, v["b"]), gradient=True,
         plain=lambda v: v["b"] @ np.linalg.solve(v["A"], v["b"])),
    Case("gradient of sum(cholesky(S) * C) wrt S, n=128", "sum(cholesky(S) * C)", "S",
         lambda r: {"S": _spd(r, 128), "C": r.normal(size=(128, 128))},
         lambda xp, S, v: (xp.linalg.cholesky(S) * v["C"]).sum(), gradient=True,
         plain=lambda v: np.sum(np.linalg.cholesky(v["S"]) * v["C"])),
    Case("gradient of b @ eigvalsh(H) wrt H, n=128", "b @ eigvalsh(H)", "H",
         lambda r: {"H": (lambda V: (V + V.T) / 2)(r.normal(size=(128, 128))), "b": r.normal(size=128)},
         lambda xp, H, v: v["b"] @ xp.linalg.eigvalsh(H), gradient=True,
         plain=lambda v: v["b"] @ np.linalg.eigvalsh(v["H"])),
    Case("gradient of sum(eigh(H)[1] * C) wrt H, n=128", "sum(eigh(H)[1] * C)", "H",
         lambda r: {"H": (lambda V: (V + V.T) / 2)(r.normal(size=(128, 128))), "C": r.normal(size=(128, 128))},
         lambda xp, H, v: (_signed(xp, xp.linalg.eigh((H + H.T) / 2)[1]) * v["C"]).sum(), gradient=True,
         plain=lambda v: np.sum(np.linalg.eigh(v["H"])[1] * v["C"])),
]


def median_time(f, repeat: int, budget: float = 20.0):
    """(median seconds, last result): at least one run, at most `repeat`, stopping once `budget` is spent."""
    times, out, start = [], None, time.perf_counter()
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - start > budget:
            break
    return statistics.median(times), out


def rel_error(J, ref) -> float:
    J = np.asarray(J, dtype=float).reshape(ref.shape)
    return float(np.abs(J - ref).max() / max(1.0, np.abs(ref).max()))


# --- the peers -------------------------------------------------------------------------------------------------

def jax_methods(case: Case, vals: dict):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return []
    jax.config.update("jax_enable_x64", True)
    other = {k: jnp.asarray(v) for k, v in vals.items() if k != case.wrt}
    x = jnp.asarray(vals[case.wrt])

    def f(z):
        return case.fn(jnp, z, other)

    out = []
    for name, make in (("jax jacfwd", jax.jacfwd), ("jax jacrev", jax.jacrev)):
        if case.gradient and name == "jax jacfwd":
            continue
        compiled = jax.jit(make(f))
        out.append((name, lambda c=compiled: np.asarray(c(x).block_until_ready())))
    return out


def torch_methods(case: Case, vals: dict):
    try:
        import torch
        from torch import func
    except ImportError:
        return []
    torch.set_default_dtype(torch.float64)
    if "--threads" not in sys.argv:
        torch.set_num_threads(1)
    other = {k: torch.as_tensor(v) for k, v in vals.items() if k != case.wrt}
    x = torch.as_tensor(vals[case.wrt])

    class TorchXP:                      # the few numpy names the case functions use
        tanh, exp = torch.tanh, torch.exp

        class linalg:
            inv = torch.linalg.inv

    def f(z):
        return case.fn(TorchXP, z, other)

    out = []
    for name, make in (("torch jacfwd", func.jacfwd), ("torch jacrev", func.jacrev)):
        if case.gradient and name == "torch jacfwd":
            continue
        jf = make(f)
        out.append((name, lambda j=jf: j(x).detach().numpy()))
    return out


def numdifftools_methods(case: Case, vals: dict, n_in: int):
    try:
        import numdifftools as nd
    except ImportError:
        return []
    if n_in > 1024:
        return []                       # one evaluation per entry, in Python: too slow to be worth waiting for
    other = dict(vals)
    shape = np.shape(vals[case.wrt])

    def f(z):
        return np.ravel(case.fn(np, z.reshape(shape), other))

    jac = nd.Gradient(f) if case.gradient else nd.Jacobian(f)
    return [("numdifftools", lambda: jac(np.ravel(vals[case.wrt])))]


# --- running ---------------------------------------------------------------------------------------------------

def run_case(case: Case, repeat: int) -> None:
    rng = np.random.default_rng(0)
    vals = case.values(rng)
    n_in = int(np.size(vals[case.wrt]))
    api = mcalc.gradient if case.gradient else mcalc.jacobian
    t_an, J = median_time(lambda: api(case.expr, case.wrt, vals), repeat)
    J = np.asarray(J, dtype=float)
    ref = J.reshape(1, -1) if case.gradient else J
    if case.gradient:
        t_floor, _ = median_time(lambda: case.plain(vals), repeat)
        floor_name = "floor: one numpy evaluation"
    else:
        t_floor, _ = median_time(lambda: np.full(J.shape, 1.0), repeat)
        floor_name = f"floor: fill a {J.shape[0]}×{J.shape[1]} array"
    rows = [(floor_name, t_floor, None), ("mcalc analytic", t_an, 0.0)]
    p = prepare(case.expr, case.wrt, vals)
    from mcalc.finite import sample_columns

    cols = sample_columns(p.nodes, p.wrt, "central")
    t_fd, fr = median_time(lambda: finite_jacobian(p.nodes, p.values, p.wrt, "central", cols), max(1, repeat // 2))
    checked = ~np.isnan(fr.J)
    fd_err = float(np.abs(fr.J[checked] - ref[checked]).max() / max(1.0, np.abs(ref).max()))
    label = "mcalc finite differences (central)" + ("" if cols is None else f", {len(cols)} of {n_in} columns")
    rows.append((label, t_fd, fd_err))
    for name, f in jax_methods(case, vals) + torch_methods(case, vals) + numdifftools_methods(case, vals, n_in):
        try:
            f()                                                    # warm: compile, allocate
            t, out = median_time(f, repeat)
            rows.append((name, t, rel_error(out, ref)))
        except Exception as e:  # noqa: BLE001 - a peer failing (out of memory) is a result
            rows.append((name, None, f"failed: {type(e).__name__}: {str(e).splitlines()[0][:60]}"))
    print(f"\n{case.name}   (J {ref.shape[0]}×{ref.shape[1]})")
    print(f"  {'method':<48} {'median':>10} {'× floor':>9}  {'max error':>10}")
    for name, t, err in rows:
        ratio = "" if t is None else f"{t / t_floor:9.2f}"
        shown = "" if t is None else f"{t * 1e3:8.2f}ms"
        e = "" if err is None else (err if isinstance(err, str) else f"{err:10.1e}")
        print(f"  {name:<48} {shown:>10} {ratio:>9}  {e:>10}")
    jax_rows = [t for name, t, _ in rows if name == "jax jacrev" and t]
    if case.gradient and jax_rows:
        print(f"  mcalc analytic / jax.grad (jit, warm): {t_an / jax_rows[0]:.2f}")


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


def accuracy() -> None:
    print("\nfinite differences against the analytic Jacobian: max |F - J| / max(1, max|J|)")
    print(f"  {'case':<24} {'central':>10} {'richardson':>11} {'complex':>10} {'forward':>10} {'numdifftools':>13}"
          f"  (targets: central ≤ 1e-8, richardson and complex ≤ 1e-11)")
    for expr, wrt, vals in ACCURACY:
        p = prepare(expr, wrt, vals)
        J = p.analytic()
        errs = [rel_error(finite_jacobian(p.nodes, p.values, p.wrt, m).J, J)
                for m in ("central", "richardson", "complex", "forward")]
        print(f"  {expr:<24} " + " ".join(f"{e:10.1e}" for e in errs) + " " + numdifftools_error(p, J))


def sparse_output(repeat: int) -> None:
    """--format npz: the Jacobian built sparse from its structure, against filling arrays of its nonzeros."""
    from importlib.util import find_spec

    if find_spec("scipy") is None:
        return
    print("\nsparse Jacobians (--format npz): A@B wrt A, built from I ⊗ Bᵀ without the dense matrix")
    print(f"  {'n':>5} {'J':>17} {'nonzeros':>12} {'floor (fill nnz)':>17} {'mcalc sparse':>13} {'× floor':>8}")
    for n in (64, 200, 400):
        vals = {"A": np.ones((n, n)), "B": np.random.default_rng(0).normal(size=(n, n))}
        t, S = median_time(lambda: mcalc.jacobian("A@B", "A", vals, sparse=True), max(1, repeat // 2))
        t_floor, _ = median_time(lambda: (np.full(S.nnz, 1.0), np.full(S.nnz, 1, dtype=np.int64)), repeat)
        print(f"  {n:>5} {f'{n * n}×{n * n}':>17} {S.nnz:>12,} {t_floor * 1e3:15.1f}ms {t * 1e3:11.1f}ms "
              f"{t / t_floor:8.2f}")


def cold_start(runs: int = 15) -> None:
    script = Path(__file__).with_name("startup.py")
    out = subprocess.run([sys.executable, str(script), "--runs", str(runs)], capture_output=True, text=True)
    print("\ncold start of the canonical command")
    print("  " + out.stdout.strip().replace("\n", "\n  "))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the sizes above 64")
    ap.add_argument("--case", default="", help="only cases whose name contains this")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", action="store_true", help="let numpy and the peers use every core (default: one)")
    args = ap.parse_args()
    for case in CASES:
        if args.case not in case.name or args.quick and any(s in case.name for s in ("n=96", "n=256", "n=1000")):
            continue
        run_case(case, args.repeat)
    if not args.case:
        accuracy()
        sparse_output(args.repeat)
        cold_start()


if __name__ == "__main__":
    main()
