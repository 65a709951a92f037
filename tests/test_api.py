"""The Python API: its results, and its promise that any input whatsoever raises only McalcError."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mcalc
import mcalc.linops


def test_jacobian_and_gradient():
    J = mcalc.jacobian("A@B", "A", {"A": [[1, 2], [3, 4]], "B": [[5, 6], [7, 8]]})
    assert J.shape == (4, 4) and J[0, 0] == 5 and J[0, 1] == 7
    g = mcalc.gradient("trace(A@B)", "A", {"A": [[1, 2], [3, 4]], "B": [[5, 6], [7, 8]]})
    np.testing.assert_array_equal(g, [[5, 7], [6, 8]])                 # Bᵀ
    assert mcalc.jacobian("x*y", "x", shapes={"x": 3, "y": (3,)}).shape == (3, 3)
    assert mcalc.jacobian("x*y", "x", shapes="x=3,y=3").shape == (3, 3)
    assert mcalc.jacobian("A@B", "A", shapes=(2, 2), order="F").shape == (4, 4)


def test_products_and_sparse_jacobians():
    rng = np.random.default_rng(0)
    A, B, U, V = (rng.normal(size=(3, 3)) for _ in range(4))
    vals = {"A": A, "B": B}
    np.testing.assert_allclose(mcalc.vjp("A@B", "A", V, vals), V @ B.T, rtol=1e-12)      # d<V, AB>/dA = V Bᵀ
    np.testing.assert_allclose(mcalc.jvp("A@B", "A", U, vals), U @ B, rtol=1e-12)        # d(AB)[U] = U B
    np.testing.assert_allclose(mcalc.jvp("inv(A)", "A", U, {"A": A}), -np.linalg.inv(A) @ U @ np.linalg.inv(A),
                               rtol=1e-10)
    with pytest.raises(mcalc.UsageError, match="shaped like"):
        mcalc.vjp("A@B", "A", [1, 2, 3], vals)
    pytest.importorskip("scipy")
    for order in ("row", "col"):
        S = mcalc.jacobian("A@B", "A", vals, order=order, sparse=True)
        np.testing.assert_array_equal(S.toarray(), mcalc.jacobian("A@B", "A", vals, order=order))
        assert S.nnz == 27                                                                # I ⊗ Bᵀ: 3 blocks


def test_gradient_refuses_non_scalar_outputs():
    with pytest.raises(mcalc.UsageError, match="scalar"):
        mcalc.gradient("A@B", "A", shapes="2x2")
    g = mcalc.gradient("x.T@x", "x", values={"x": [[1.0], [2.0], [3.0]]})      # 1×1 is a scalar too: 2x
    np.testing.assert_array_equal(g, [[2.0], [4.0], [6.0]])


@pytest.mark.parametrize("args", [
    dict(expr=None, wrt="x"), dict(expr=3, wrt="x"), dict(expr="x", wrt=3), dict(expr="x", wrt="x", values=5),
    dict(expr="x", wrt="x", shapes={"x": "nope"}), dict(expr="x", wrt="x", shapes={"x": (0,)}),
    dict(expr="x", wrt="x", shapes={"x": (1, 2, 3)}), dict(expr="x", wrt="x", values={"x": object()}),
    dict(expr="x", wrt="x", order="Z"), dict(expr="x", wrt="x", layout=None),
])
def test_bad_arguments_raise_mcalc_errors(args):
    with pytest.raises(mcalc.McalcError) as info:
        mcalc.jacobian(**args)
    assert not isinstance(info.value, mcalc.InternalError), info.value


def test_errors_speak_the_api(monkeypatch):
    """Advice in the API's words: shapes="A=2x2", sparse=True, mcalc.vjp; never a command-line option."""
    monkeypatch.setattr(mcalc.linops, "_BUDGET", 1 << 20)
    with pytest.raises(mcalc.TooLargeError) as info:
        mcalc.jacobian("A@B", "A", shapes="30x30")
    assert "sparse=True" in str(info.value) and "mcalc.vjp" in str(info.value) and "--" not in str(info.value)
    with pytest.raises(mcalc.ShapeError) as info:
        mcalc.jacobian("A@B", "A")
    assert 'shapes="A=2x2"' in str(info.value) and "--" not in str(info.value)
    with pytest.raises(mcalc.ValueSpecError) as info:
        mcalc.jacobian("A@B", "A", values={"A": "1 2; 3 4"}, shapes={"A": "3x3"})
    assert "shapes= says" in str(info.value) and "--" not in str(info.value)
    with pytest.raises(mcalc.UsageError) as info:
        mcalc.vjp("A@x", "x", [1, 2, 3], shapes="A=2x3,x=3")
    assert "the cotangent needs" in str(info.value)
    with pytest.raises(mcalc.DomainError) as info:                  # the user's own text is left as written
        mcalc.jacobian("sqrt(x--shape)", "x", values={"x": 1.0, "shape": -5.0})
    assert "sqrt(x--shape)" in str(info.value)
    assert not {"annotations", "contextmanager"} & set(dir(mcalc))


TOKENS = ["A", "B", "x", "s", "e", "pi", "1", "2", "0", "-1", "0.5", "+", "-", "*", "/", "**", "^", "@", "'", ".T",
          "(", ")", "[", "]", ",", ":", " ", "exp", "log", "sqrt", "inv", "det", "logdet", "sum", "trace", "norm",
          "softmax", "diag", "kron", "outer", "dot", "vec", "eye", "ones", "zeros", "axis=", "abs", "relu", "tanh",
          "__", "lambda", "import", "'a'", ";", "=", "!", "#", "\\", "{", "}", "1e308", "mean", "arcsin", "transpose"]


@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map("".join),
       st.sampled_from(["2x2", "3", "scalar", "1x3", "A=2x3,B=3x2"]))
def test_token_soup_raises_only_mcalc_errors(monkeypatch_budget, text, shapes):
    try:
        J = mcalc.jacobian(text, None, shapes=shapes)
    except mcalc.InternalError as e:                 # a bug: fail loudly
        raise AssertionError(f"{text!r}: {e}") from e
    except mcalc.McalcError:
        return
    assert J.ndim == 2 and np.all(np.isfinite(J))


@given(st.text(max_size=40))
def test_arbitrary_text_raises_only_mcalc_errors(monkeypatch_budget, text):
    try:
        mcalc.jacobian(text, None, shapes="2x2")
    except mcalc.InternalError as e:
        raise AssertionError(f"{text!r}: {e}") from e
    except mcalc.McalcError:
        pass


@pytest.fixture(scope="module")
def monkeypatch_budget():
    old = mcalc.linops._BUDGET
    mcalc.linops._BUDGET = 16 << 20                  # fuzzing must not allocate gigabytes
    yield
    mcalc.linops._BUDGET = old
