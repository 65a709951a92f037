"""What a command may spend, known before it starts work: floating-point operations estimated from the typed tree
(each operation's own cost where its registry entry gives one: a matrix product m·n·p, a factorisation n³; else
ENTRY_COST per entry, as long as that many BLAS operations), plus a fixed cost per operation evaluated (Python's
own, about 30 µs with its checks), and the bytes of every array alive at once.  A command whose estimate exceeds
the budget is refused (exit 2) before it evaluates anything; a default finite-difference check takes what fits in
its share of the budget, and says what it skipped.

    MCALC_MAX_WORK / --max-work   floating-point operations (default 1e11: about a minute of one core at its
                                  slowest, seconds with BLAS; every homework and the benchmark sizes fit)
    MCALC_MAX_BYTES               memory (default: half of what is available, or of ulimit -v), for all live
                                  arrays together

This module knows no operation.
"""

from __future__ import annotations

import os

from .errors import TooLargeError, UsageError
from .tree import Node

NODE_COST = 3e5                # one operation evaluated from Python (~30 µs with its checks, measured), in BLAS flops
ENTRY_COST = 50                # an entry of an operation without a cost of its own (memory-bound: ~5 ns), likewise
DEFAULT_MAX_WORK = 1e11
MAX_WORK_OPTION: float | None = None    # --max-work, set by the command line for each command


def max_work() -> float:
    if MAX_WORK_OPTION is not None:
        return MAX_WORK_OPTION
    text = os.environ.get("MCALC_MAX_WORK", "").strip()
    return read_work(text, "MCALC_MAX_WORK") if text else DEFAULT_MAX_WORK


def read_work(text: str, where: str) -> float:
    """'1e11', '5e9', '200000000' → floating-point operations."""
    try:
        value = float(text[:40])
    except ValueError:
        value = float("nan")
    if not (value > 0 and value < 1e30) or len(text) > 40:
        raise UsageError(f"{where}='{text[:20]}{'…' if len(text) > 20 else ''}' is not a number of operations",
                         hint="give floating-point operations, e.g. 1e11")
    return value


def node_work(node: Node, overhead: bool = True) -> float:
    """One evaluation of one operation (with overhead: and its cost in Python)."""
    op = node.op
    if op is None:
        return 0.0
    if op.work:
        return float(op.work(node)) + NODE_COST * overhead
    return float(ENTRY_COST * (node.size + sum(a.size for a in node.args))) + NODE_COST * overhead


def forward_work(nodes: list[Node]) -> float:
    return sum(node_work(n) for n in nodes)


DERIVATIVE_COPIES = 3          # the values, and the derivative's arrays of their sizes (cotangents, gathered maps)


def live_bytes(nodes: list[Node]) -> int:
    """Every value of an evaluation is kept until it ends, and the derivative works on arrays of their sizes:
    their bytes together."""
    return 8 * DERIVATIVE_COPIES * sum(n.size for n in nodes)


def check_work(work: float, what: str, hint=None) -> None:
    limit = max_work()
    if work > limit:
        raise TooLargeError(f"{what} would take about {work:.1e} floating-point operations, more than the "
                            f"{limit:.1e} mcalc allows itself (MCALC_MAX_WORK or --max-work)",
                            hint=hint or "use smaller shapes")


def check_evaluation(nodes: list[Node], what: str = "evaluating the expression") -> None:
    """Refuse an evaluation (with its derivative's local rules, about as much again) that would exceed the work
    or the memory budget."""
    from .linops import human_bytes, memory_budget

    root = nodes[-1] if nodes else None
    work, need = (0.0, 0) if root is None else root.remember(
        ("evaluation cost", len(nodes)), lambda: (forward_work(nodes), live_bytes(nodes)))   # (shapes alone)
    check_work(2 * work, what)
    budget = memory_budget()
    if need > budget:
        raise TooLargeError(f"{what} needs {human_bytes(need)} for its arrays together, more than the "
                            f"{human_bytes(budget)} mcalc allows itself (MCALC_MAX_BYTES)", hint="use smaller shapes")
