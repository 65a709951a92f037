"""Names of the Jacobian's rows and columns: which output and input entry each one is."""

from __future__ import annotations

import numpy as np

from .chain import as_matrix_shape, flatten_perm


# --- labels --------------------------------------------------------------------------------------------------

def entry_labels(name: str, shape: tuple, order: str) -> list[str]:
    """Labels of the entries of an array in flatten order: A[0,1] (0-based, as in numpy)."""
    if not shape:
        return [name]
    perm = flatten_perm(shape, order)
    return [name + "[" + ",".join(str(int(i)) for i in np.unravel_index(p, shape)) + "]" for p in perm]


def entry_groups(shape: tuple, order: str) -> np.ndarray:
    """Block index of each entry in flatten order: its row (row-major) or column (column-major) of a matrix."""
    size = int(np.prod(shape, dtype=np.int64))
    if len(shape) < 2:
        return np.zeros(size, dtype=int)
    rows, cols = np.unravel_index(flatten_perm(shape, order), shape)
    return cols if order == "col" else rows


def axis_labels(parts, order: str) -> tuple[list[str], list[tuple]]:
    """Labels and (part, block) group keys for one side of the Jacobian: parts is [(name, shape), ...]."""
    labels, groups = [], []
    for k, (name, shape) in enumerate(parts):
        labels += entry_labels(name, shape, order)
        groups += [(k, int(g)) for g in entry_groups(shape, order)]
    return labels, groups


def axis_blocks(parts, order: str) -> tuple[np.ndarray, np.ndarray]:
    """(part, block) of each entry along one side of the Jacobian, as two integer arrays (axis_labels' groups
    without building a label per entry)."""
    part = np.concatenate([np.full(int(np.prod(shape, dtype=np.int64)), k) for k, (_, shape) in enumerate(parts)])
    block = np.concatenate([entry_groups(shape, order) for _, shape in parts])
    return part, block


def label_at(parts, order: str, k: int) -> str:
    """The label of entry k along one side of the Jacobian (one of axis_labels' labels, computed alone)."""
    return Axis(parts, order)[k]


class Axis:
    """One side of the Jacobian's labels (groups=True: its (part, block) group keys), each computed when it is
    asked for: what axis_labels lists, for a view that shows a window of it (a side of 10⁸ entries is never
    listed)."""

    def __init__(self, parts, order: str, groups: bool = False):
        self.parts = [(name, tuple(shape), int(np.prod(shape, dtype=np.int64))) for name, shape in parts]
        self.order, self.groups = order, groups
        self.n = sum(size for *_, size in self.parts)

    def __len__(self) -> int:
        return self.n

    def changes(self) -> int:
        """How many times the group key changes along the side (between parts, and between the blocks of a
        matrix: its rows in row-major order, its columns in column-major), as counting neighbours would say."""
        parts = [p for p in self.parts if p[2]]
        inner = sum((shape[1] if self.order == "col" else shape[0]) - 1 for _, shape, _ in parts if len(shape) >= 2)
        return max(len(parts) - 1, 0) + inner

    def __iter__(self):
        return (self[k] for k in range(self.n))

    def __getitem__(self, k: int):
        if not -self.n <= k < self.n:
            raise IndexError(k)
        k %= self.n
        for part, (name, shape, size) in enumerate(self.parts):
            if k < size:
                at = tuple(int(i) for i in np.unravel_index(k, shape, order="F" if self.order == "col" else "C"))
                if self.groups:
                    return part, (at[1] if self.order == "col" else at[0]) if len(shape) >= 2 else 0
                return name + "[" + ",".join(map(str, at)) + "]" if shape else name
            k -= size
        raise IndexError(k)


def lazy_axis_labels(parts, order: str) -> tuple[Axis, Axis]:
    """axis_labels' labels and groups, computed one at a time when asked for."""
    return Axis(parts, order), Axis(parts, order, groups=True)


def entry_name(out: str, wrt: str, gradient: bool = False) -> str:
    """How verdicts and lists name one entry of a derivative: 'f[1,1] wrt A[0,1]' (the output entry, then the
    input entry, in either layout), or '∂f/∂A[0,1]' for an entry of a gradient, as the gradient's own labels say."""
    return f"∂{out}/∂{wrt}" if gradient else f"{out} wrt {wrt}"


def jacobian_entry(p, i: int, j: int) -> tuple[str, str]:
    """(output label, input label) of entry (i, j) of a problem's Jacobian, whichever its layout."""
    rows, cols = jacobian_sides(p)
    a, b = label_at(rows, p.order, i), label_at(cols, p.order, j)
    return (a, b) if p.layout == "numerator" else (b, a)


def jacobian_sides(p):
    """(row parts, column parts) of a problem's Jacobian as [(name, shape)]: numerator rows are the output
    entries."""
    out_part = p.out_parts()
    in_parts = [(v.name, v.shape) for v in p.wrt]
    return (out_part, in_parts) if p.layout == "numerator" else (in_parts, out_part)


# --- arrays in their own shape, as the 2-D grids the renderers show -------------------------------------------

def shaped_labels(name: str, shape: tuple) -> tuple[list[str], list[str]]:
    """Row and column labels for an array shown in its own shape."""
    if len(shape) == 2:
        return [f"{name}[{i},:]" for i in range(shape[0])], [f"[:,{j}]" for j in range(shape[1])]
    if len(shape) == 1:
        return [f"{name}[{i}]" for i in range(shape[0])], [""]
    return [name], [""]


def shaped(M, shape):
    """An array as a 2-D grid (a vector as a column, a scalar 1×1): floats, or text for symbolic entries."""
    if isinstance(M, np.ndarray) and M.dtype == object:
        return [[str(e) for e in row] for row in M.reshape(as_matrix_shape(shape)).tolist()]
    return np.asarray(M, dtype=float).reshape(as_matrix_shape(shape))
