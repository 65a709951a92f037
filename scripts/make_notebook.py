"""Write examples/notebook.ipynb: mcalc's Python API in a notebook, run by a Jupyter kernel so that the outputs
saved are the ones Jupyter shows (HTML, with LaTeX beside it for a PDF export).  Needs nbformat, nbclient and
ipykernel (pip install nbformat nbclient ipykernel); tests/test_api_results.py checks that the outputs are current.

    python scripts/make_notebook.py
"""

from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "examples" / "notebook.ipynb"

CELLS = [
    ("md", "# mcalc in a notebook\n\n"
           "`jacobian()`, `gradient()`, `hessian()`, `vjp()` and `jvp()` return numpy arrays. `explain()` and "
           "`check()` return objects that hold the numbers and display as labelled block matrices: here as HTML "
           "(with LaTeX beside it, which a PDF export uses), in a terminal with `rich.print(x)`, as plain text with "
           "`print(x)`."),
    ("code", 'import numpy as np\n'
             'import mcalc\n'
             '\n'
             'A = np.array([[1.0, 2.0], [3.0, 4.0]])\n'
             'B = np.array([[5.0, 6.0], [7.0, 8.0]])\n'
             'J = mcalc.jacobian("A@B", wrt="A", values={"A": A, "B": B})\n'
             'J'),
    ("md", "The same Jacobian from `explain()`: each row and column labelled with the entry of `f = A@B` and of "
           "`A` it is (row-major order, as numpy flattens), the blocks shaded, the derivation and its closed form "
           "`I ⊗ Bᵀ`, checked against the numbers."),
    ("code", 'e = mcalc.explain("A@B", wrt="A", values={"A": A, "B": B})\n'
             'e'),
    ("code", 'e.closed_form, e.verified, np.array_equal(e.jacobian, J), e.col_labels'),
    ("md", "Values that are not given are chosen by mcalc (reproducibly, with `seed=`) and shown:"),
    ("code", 'mcalc.explain("softmax(W@x)", wrt="x", shapes="W=2x3,x=3")'),
    ("md", "`check()` judges a hand-derived answer, a formula in the same variables or an array. This one is the "
           "Jacobian in column-major order: the wrong entries are marked, and the diagnosis names the slip."),
    ("code", 'v = mcalc.check("A@B", "kron(B.T, eye(2))", wrt="A", values={"A": A, "B": B})\n'
             'v'),
    ("code", 'bool(v), v.diagnosis[0], v.wrong[0]'),
    ("md", "A gradient, given as an array shaped like the variable:"),
    ("code", 'mcalc.check("trace(A@B)", B.T, wrt="A", values={"A": A, "B": B})'),
]


def main() -> None:
    nb = new_notebook(cells=[new_markdown_cell(text) if kind == "md" else new_code_cell(text)
                             for kind, text in CELLS],
                      metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}})
    NotebookClient(nb, kernel_name="python3", timeout=120, record_timing=False).execute()
    nbformat.validate(nb)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(nbformat.writes(nb) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
