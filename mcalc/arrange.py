"""A Jacobian in a problem's flatten order and layout.

The engine builds Jacobians row-major and in the numerator layout (one row per output entry); a problem may ask for
column-major order (the vec of the Kronecker identities) or the denominator layout (the transpose).  These methods
move the rows and columns of a row-major Jacobian, dense or sparse, into the problem's arrangement, and find where
an entry of it went.  They need the problem's root, wrt, order and layout.
"""

from __future__ import annotations

import numpy as np

from .chain import assemble, flatten_perm
from .linops import Dense


class Arranged:
    """The rearranging half of a Problem (root, wrt, order and layout are the Problem's)."""

    def arrange_sparse(self, J_row):
        """A sparse row-major numerator-layout Jacobian in this problem's order and layout (CSR; CSC in the
        denominator layout, which is the transpose of a CSR array and costs nothing to make)."""
        from scipy import sparse

        if self.order == "col":
            perm_out, perm_in = self.perms()
            rows = sparse.csr_array(J_row[perm_out])
            column = np.empty_like(perm_in)                   # row-major wrt index → its column-major column
            column[perm_in] = np.arange(perm_in.size)
            J_row = sparse.csr_array((rows.data, column[rows.indices], rows.indptr), shape=J_row.shape)
            J_row.sort_indices()
        return J_row.T if self.layout == "denominator" else sparse.csr_array(J_row)   # (the transpose: CSC)

    def perms(self, order: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(perm_out, perm_in): the row-major index of each output and wrt entry in this problem's order (or the
        order given): the rows and columns of the row-major Jacobian, rearranged."""
        order = order or self.order
        perm_out = flatten_perm(self.root.shape, order)
        offsets = np.cumsum([0] + [v.size for v in self.wrt[:-1]])
        perm_in = np.concatenate([flatten_perm(v.shape, order) + off for v, off in zip(self.wrt, offsets)])
        return perm_out, perm_in

    def arrange(self, J_row: np.ndarray, order: str | None = None) -> np.ndarray:
        """A dense row-major numerator-layout Jacobian in this problem's order (or the order given) and layout
        (the same mechanism as the analytic one's, on dense blocks)."""
        blocks = np.split(J_row, np.cumsum([v.size for v in self.wrt])[:-1], axis=1)
        return assemble([Dense(b) for b in blocks], self.root, self.wrt, order or self.order, self.layout,
                        allow_nan=True)

    def position(self, i: int, j: int) -> tuple[int, int]:
        """Where entry (i, j) of the row-major numerator-layout Jacobian is in this problem's arrangement."""
        i, j = int(i), int(j)
        if self.order == "col":
            perm_out, perm_in = self.perms()
            i, j = int(np.argsort(perm_out)[i]), int(np.argsort(perm_in)[j])
        return (j, i) if self.layout == "denominator" else (i, j)
