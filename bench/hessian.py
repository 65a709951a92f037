"""Hessians: mcalc against the cost of evaluating their closed form once (numpy) and against jax.hessian (jitted,
warm), measured in one run, single-threaded unless --threads.

    python bench/hessian.py            every case
    python bench/hessian.py --quick    the smaller sizes only

For each case: the closed form evaluated once in numpy (the floor), mcalc.hessian through the public API (parsing
included), jax.hessian when JAX is installed and torch.func.hessian when PyTorch is; the ratios to the floor and
peer / mcalc, and the largest difference between mcalc's Hessian and the closed form (or JAX's, without one).
"""

from __future__ import annotations

import argparse

from bench import median_time         # bench/bench.py, first: it pins the threads before numpy loads

import numpy as np

import mcalc


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def quadratic(n, r):
    return ("x@A@x", "x", {"x": r.normal(size=n), "A": r.normal(size=(n, n))},
            lambda v: v["A"] + v["A"].T, lambda jnp, x, v: x @ v["A"] @ x)


def least_squares(n, r):
    return ("sum((A@x - b)**2)", "x", {"x": r.normal(size=n), "A": r.normal(size=(2 * n, n)), "b": r.normal(size=2 * n)},
            lambda v: 2 * v["A"].T @ v["A"], lambda jnp, x, v: jnp.sum((v["A"] @ x - v["b"]) ** 2))


def logistic(n, r):
    m = 10 * n
    values = {"X": r.normal(size=(m, n)) / np.sqrt(n), "w": r.normal(size=n), "y": (r.random(m) > 0.5) * 1.0}

    def closed(v):
        s = _sigmoid(v["X"] @ v["w"])
        return v["X"].T @ (v["X"] * (s * (1 - s))[:, None])
    return ("sum(log(1 + exp(X@w)) - y*(X@w))", "w", values, closed,
            lambda jnp, w, v: jnp.sum(_log1p_exp(jnp, v["X"] @ w) - v["y"] * (v["X"] @ w)))


def logdet(n, r):
    def closed(v):
        Xi = np.linalg.inv(v["X"])
        return -np.einsum("jk,li->ijkl", Xi, Xi).reshape(n * n, n * n)
    return ("logdet(X)", "X", {"X": r.normal(size=(n, n)) + n * np.eye(n)}, closed,
            lambda jnp, X, v: jnp.linalg.slogdet(X)[1])


def _log1p_exp(xp, z):
    return xp.log1p(xp.exp(z))


def tanh_net(n, r):
    return ("sum(tanh(W@x + b) * c)", "W", {"W": r.normal(size=(n, n)) / np.sqrt(n), "x": r.normal(size=n),
                                             "b": r.normal(size=n), "c": r.normal(size=n)}, None,
            lambda jnp, W, v: jnp.sum(jnp.tanh(W @ v["x"] + v["b"]) * v["c"]))


CASES = [(quadratic, (100, 1000, 2000)), (least_squares, (100, 1000)), (logistic, (100, 1000)), (logdet, (8, 24, 48, 96)),
         (tanh_net, (8, 24))]


def jax_hessian(expr_fn, wrt, values):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    other = {k: jnp.asarray(v) for k, v in values.items() if k != wrt}
    h = jax.jit(jax.hessian(lambda z: expr_fn(jnp, z, other)))
    x = jnp.asarray(values[wrt])
    h(x).block_until_ready()
    n = values[wrt].size
    return lambda: np.asarray(h(x).block_until_ready()).reshape(n, n)


def torch_hessian(expr_fn, wrt, values, threads: bool):
    try:
        import torch
        from torch import func
    except ImportError:
        return None
    torch.set_default_dtype(torch.float64)
    if not threads:
        torch.set_num_threads(1)
    other = {k: torch.as_tensor(v) for k, v in values.items() if k != wrt}

    class XP:                           # the numpy names the cases use
        sum, tanh, exp, log1p = torch.sum, torch.tanh, torch.exp, torch.log1p

        class linalg:
            slogdet = torch.linalg.slogdet

    h = func.hessian(lambda z: expr_fn(XP, z, other))
    x = torch.as_tensor(values[wrt])
    h(x)
    n = values[wrt].size
    return lambda: h(x).detach().numpy().reshape(n, n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", action="store_true")
    args = ap.parse_args()
    print(f"{'case':<36} {'n':>6} {'floor':>10} {'mcalc':>10} {'÷floor':>7} {'jax':>10} {'jax÷mcalc':>9} "
          f"{'torch':>10} {'torch÷mcalc':>11} {'max err':>8}")
    for make, sizes in CASES:
        for n in sizes[:1] if args.quick else sizes:
            r = np.random.default_rng(0)
            expr, wrt, values, closed, fn = make(n, r)
            t_mc, H = median_time(lambda: mcalc.hessian(expr, wrt, values), 7)
            if closed is not None:
                t_floor, ref = median_time(lambda: closed(values), 7)
                err = float(np.abs(H - ref).max() / max(1.0, np.abs(ref).max()))
            else:
                t_floor, err = None, None
            jf = jax_hessian(fn, wrt, values)
            t_jax = median_time(jf, 7)[0] if jf is not None else None
            tf = torch_hessian(fn, wrt, values, args.threads)
            t_torch = median_time(tf, 3)[0] if tf is not None else None
            if jf is not None and closed is None:
                err = float(np.abs(H - jf()).max() / max(1.0, np.abs(H).max()))
            size = values[wrt].size
            cells = [f"{expr:<36}", f"{size:>6}",
                     f"{t_floor * 1e3:8.2f}ms" if t_floor else f"{'':>10}", f"{t_mc * 1e3:8.2f}ms",
                     f"{t_mc / t_floor:7.2f}" if t_floor else f"{'':>7}",
                     f"{t_jax * 1e3:8.2f}ms" if t_jax else f"{'':>10}",
                     f"{t_jax / t_mc:9.2f}" if t_jax else f"{'':>9}",
                     f"{t_torch * 1e3:8.2f}ms" if t_torch else f"{'':>10}",
                     f"{t_torch / t_mc:11.2f}" if t_torch else f"{'':>11}", f"{err:8.1e}" if err is not None else ""]
            print(" ".join(cells), flush=True)


if __name__ == "__main__":
    main()
