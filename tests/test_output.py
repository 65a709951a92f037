"""Output without copies: pretty output formats the entries it shows, the machine formats are written a band of rows
at a time, and what they write is what the whole-matrix conversions wrote.  Memory is measured with tracemalloc
(which sees numpy's buffers), never with timers."""

import io
import json
import tracemalloc

import numpy as np
from rich.console import Console
from typer.testing import CliRunner

import mcalc
from mcalc import output
from mcalc.cli import app
from mcalc.compare import compute
from mcalc.output import BAND, Nulls, dumps, latex_matrix, markdown_matrix, write_json, write_matrix_text, write_npy
from mcalc.problem import prepare
from mcalc.render import BlockMatrix, jac_view, number_format

runner = CliRunner()


def peak(f) -> int:
    """The largest number of bytes f allocates at once (beyond what it returns)."""
    tracemalloc.start()
    try:
        f()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Sink:
    """A binary or text stream that keeps only the number of characters written to it."""

    def __init__(self):
        self.size = 0

    def write(self, data) -> int:
        self.size += len(data)
        return len(data)


def render(renderable, width=120) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, highlight=False).print(renderable)
    return buf.getvalue()


# --- pretty output: the window, not the matrix -------------------------------------------------------------------

def test_pretty_output_of_a_large_jacobian_allocates_its_window_not_the_matrix():
    result = compute(prepare("A@B", "A", shapes="40x40"), "none")         # J: 1600×1600, 20 MB
    J = result.J
    used = peak(lambda: render(jac_view(result)))
    assert used < J.nbytes / 4, (used, J.nbytes)                            # (it was 3 to 5 times J)
    out = render(jac_view(result))
    assert "showing 40 of 1600 rows" in out


def test_a_matrix_wider_than_any_terminal_formats_a_head_and_its_last_columns():
    rng = np.random.default_rng(0)
    M = rng.integers(-9, 10, size=(500, 5000)).astype(float)              # 20 MB, wider than BlockMatrix.WIDE
    M[0, :3], M[0, -1] = [0.5, 1e-20, 0], 7e-3                            # shown: decimals, a tiny, a zero
    rows, cols = [f"f[{i}]" for i in range(500)], [f"x[{j}]" for j in range(5000)]
    used = peak(lambda: render(BlockMatrix(M, rows, cols, max_rows=12)))
    assert used < M.nbytes / 10, (used, M.nbytes)
    out = render(BlockMatrix(M, rows, cols, max_rows=12))
    first = next(line for line in out.splitlines() if line.lstrip().startswith("f[0] "))
    assert first.split()[2:5] == ["0.500", "0", "0"] and first.split()[-1] == "0.007"    # 3 decimals, for 0.007
    assert "x[4999]" in out and "…" in out and "showing 12 of 500 rows" in out


def test_the_format_is_chosen_from_the_entries_shown():
    M = np.ones((100, 100))
    M[50, 50] = 0.5                                                        # hidden by the ellipsis
    rows = [f"f[{i}]" for i in range(100)]
    out = render(BlockMatrix(M, rows, rows, max_rows=10), width=80)
    assert "0.5" not in out and " 1 " in out                                # integers: what is shown is


def test_number_format_of_a_whole_matrix_works_a_chunk_at_a_time():
    M = np.linspace(1, 2, 4_000_000).reshape(2000, 2000)                   # 32 MB
    used = peak(lambda: number_format(M, 4))
    assert used < M.nbytes / 10, (used, M.nbytes)
    fmt = number_format(M, 4)
    assert fmt(1.25) == "1.2500" and fmt(0.0) == "0"
    assert number_format(np.arange(12.0).reshape(3, 4), 4)(3.0) == "3"     # the same answers as before
    assert number_format(np.array([1e-13, 1.0]), 4)(1e-13) == "0"           # within 1e-12 of the largest
    assert number_format(np.array([0.5, np.nan]), 4)(0.5) == "5.000e-01"   # nan: scientific, as before


# --- machine formats: a band of rows at a time ---------------------------------------------------------------

def big(m=1500, n=2000) -> np.ndarray:
    return np.random.default_rng(1).standard_normal((m, n))                # 24 MB: several bands


def test_csv_and_json_are_written_without_a_copy_of_the_matrix(monkeypatch):
    monkeypatch.setattr(output, "BAND", 256)         # (small bands show it on a small matrix: tracemalloc is slow)
    J = big(300, 400)
    for write in (lambda: write_matrix_text(Sink(), J, ",", None),
                  lambda: write_json({"jacobian": J, "finite_difference": Nulls(J)}, Sink())):
        used = peak(write)
        assert used < J.nbytes / 4, (used, J.nbytes)


def test_npy_is_written_in_pieces_to_a_stream_and_straight_to_a_file(tmp_path):
    J = big(3000, 3000)                                                    # 72 MB: numpy writes 16 MiB at a time
    used = peak(lambda: write_npy(Sink(), J))
    assert used < J.nbytes / 3, (used, J.nbytes)
    path = tmp_path / "J.npy"
    with open(path, "wb") as f:
        used = peak(lambda: write_npy(f, J))
    assert used < 1 << 20 and np.array_equal(np.load(path), J)


def test_streamed_text_is_what_the_whole_conversion_wrote():
    J = big(100, 700)                                                      # three bands
    J[3, 4], J[5, 6], J[7, 8] = np.nan, np.inf, -0.0
    text = io.StringIO()
    write_matrix_text(text, J, ",", None)
    assert text.getvalue() == "".join(",".join(repr(float(v)) for v in row) + "\n" for row in J)
    text = io.StringIO()
    write_matrix_text(text, J[:3], " ", 3)
    assert text.getvalue() == "".join(" ".join(f"{v:.3g}" for v in row) + "\n" for row in J[:3])
    doc = {"a": "x", "jacobian": J, "F": Nulls(J), "nested": {"v": np.arange(3), "s": np.float64(2)},
           "empty": np.zeros((0, 3)), "scalar": np.array(1.5), "list": [1, None], "tensor": np.ones((2, 3, 4))}
    F = np.where(np.isnan(J), None, J.astype(object)).tolist()
    plain = {**doc, "jacobian": J.tolist(), "F": F, "nested": {"v": [0, 1, 2], "s": 2.0}, "empty": [],
             "scalar": 1.5, "tensor": np.ones((2, 3, 4)).tolist()}
    assert dumps(doc) == json.dumps(plain) + "\n"
    assert BAND < J.size
    T = np.arange(2 * 3 * 200 * 200.0).reshape(2, 3, 200, 200)             # a tensor whose slices exceed a band
    assert dumps({"tensor": T}) == json.dumps({"tensor": T.tolist()}) + "\n" and T[0].size > BAND


def test_npy_and_npz_round_trip_through_a_file_and_stdout(tmp_path):
    J = mcalc.jacobian("A@B", wrt="A", shapes="40x40")                   # 20 MB: more than one 16 MiB piece
    res = runner.invoke(app, ["jac", "A@B", "--wrt", "A", "--shape", "40x40", "--fd", "none", "-f", "npy", "-o", "-"])
    assert res.exit_code == 0 and np.array_equal(np.load(io.BytesIO(res.stdout_bytes)), J)
    res = runner.invoke(app, ["jac", "A@B", "--wrt", "A", "--shape", "40x40", "--fd", "none", "-f", "npy",
                              "-o", str(tmp_path / "J.npy")])
    assert res.exit_code == 0 and np.array_equal(np.load(tmp_path / "J.npy"), J)
    from scipy import sparse

    for out in ("-", str(tmp_path / "J")):                                 # (no .npz added to the name given)
        res = runner.invoke(app, ["jac", "A@B", "--wrt", "A", "--shape", "3x3", "-f", "npz", "-o", out])
        assert res.exit_code == 0
        S = sparse.load_npz(io.BytesIO(res.stdout_bytes) if out == "-" else out)
        assert np.array_equal(S.toarray(), mcalc.jacobian("A@B", wrt="A", shapes="3x3"))


def test_latex_and_markdown_are_written_a_line_at_a_time():
    M = np.arange(6.0).reshape(2, 3)
    assert latex_matrix(M) == "\\begin{bmatrix}\n  0 & 1 & 2 \\\\\n  3 & 4 & 5\n\\end{bmatrix}\n"
    assert markdown_matrix(M, ["a", "b"], ["x", "y", "z"]).splitlines()[2] == "| `a` | 0 | 1 | 2 |"
    res = runner.invoke(app, ["jac", "A@B", "--wrt", "A", "--shape", "2x2", "-f", "latex"])
    lines = res.stdout.splitlines()
    assert lines[0].startswith("% rows: f[0,0]") and lines[2] == "\\[" and lines[-1] == "\\]"


def test_json_says_why_symbolic_entries_are_missing():
    """--symbolic -f json for a Jacobian whose symbols would take too long (inv(X) at 8×8: each entry a ratio of
    determinants) has no jacobian_symbolic, and says why in symbolic_skipped (stderr alone said it); a Jacobian
    that builds has its entries and no such key."""
    res = runner.invoke(app, ["jac", "inv(X)", "--wrt", "X", "--shape", "8x8", "--symbolic", "-f", "json"])
    doc = json.loads(res.stdout)
    assert res.exit_code == 0 and "jacobian_symbolic" not in doc and doc["symbolic_skipped"].startswith("too large")
    for args in (["jac", "A@B", "--wrt", "A"], ["grad", "trace(A@B)", "--wrt", "A"]):
        res = runner.invoke(app, args + ["--shape", "2x2", "--symbolic", "-f", "json"])
        doc = json.loads(res.stdout)
        assert res.exit_code == 0 and "symbolic_skipped" not in doc
        assert any(k.endswith("_symbolic") for k in doc)
