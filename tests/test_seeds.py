"""The closed forms of the seed documents and the Matrix Cookbook, in both flatten orders.  Expected values are
built here with numpy from the formulas, independently of mcalc's rules."""

import numpy as np
import pytest

import mcalc
from helpers import commutation

A2 = np.array([[1.0, 2.0], [3.0, 4.0]])
B2 = np.array([[5.0, 6.0], [7.0, 8.0]])


# --- seed 000: the Jacobian of a matrix product ---------------------------------------------------------------------

def test_seed000_2x2_entries_by_hand():
    """c1 = aw + by, c2 = ax + bz, c3 = cw + dy, c4 = cx + dz (row-major c and a)."""
    (a, b), (c, d) = A2
    (w, x), (y, z) = B2
    expected = np.array([[w, y, 0, 0], [x, z, 0, 0], [0, 0, w, y], [0, 0, x, z]])
    np.testing.assert_array_equal(mcalc.jacobian("A@B", "A", {"A": A2, "B": B2}), expected)


@pytest.mark.parametrize("m,p,n", [(2, 2, 2), (2, 3, 4), (4, 3, 2), (1, 5, 1)])
def test_seed000_kronecker_forms_in_both_orders(m, p, n):
    r = np.random.default_rng(m * 100 + p * 10 + n)
    A, B = r.normal(size=(m, p)), r.normal(size=(p, n))
    vals = {"A": A, "B": B}
    np.testing.assert_allclose(mcalc.jacobian("A@B", "A", vals), np.kron(np.eye(m), B.T))              # I ⊗ Bᵀ
    np.testing.assert_allclose(mcalc.jacobian("A@B", "A", vals, order="col"), np.kron(B.T, np.eye(m)))  # Bᵀ ⊗ I
    np.testing.assert_allclose(mcalc.jacobian("A@B", "B", vals), np.kron(A, np.eye(n)))                 # A ⊗ I
    np.testing.assert_allclose(mcalc.jacobian("A@B", "B", vals, order="col"), np.kron(np.eye(n), A))    # I ⊗ A


def test_seed000_jacobian_as_4d_tensor():
    """J[(i,j),(k,l)] = δ_ik B_lj, reshaped from the 4-D tensor of shape (2,2,2,2)."""
    J = mcalc.jacobian("A@B", "A", {"A": A2, "B": B2}).reshape(2, 2, 2, 2)
    T = np.einsum("ik,lj->ijkl", np.eye(2), B2)
    np.testing.assert_array_equal(J, T)


# --- seed 001: derivative of matrices (row-major, PyTorch) ---------------------------------------------------------

SEED1_A = [[1, 2, 3], [4, 5, 6]]


def test_seed001_gradient_of_2_sum_A_is_a_matrix_of_twos():
    np.testing.assert_array_equal(mcalc.gradient("2*sum(A)", "A", {"A": SEED1_A}), 2 * np.ones((2, 3)))


def test_seed001_4x6_jacobian_of_AW_plus_bias():
    J = mcalc.jacobian("A@W + B", "W", {"A": SEED1_A, "W": [[7, 8], [10, 11], [12, 13]], "B": [13, 14]})
    expected = [[1, 0, 2, 0, 3, 0], [0, 1, 0, 2, 0, 3], [4, 0, 5, 0, 6, 0], [0, 4, 0, 5, 0, 6]]
    np.testing.assert_array_equal(J, expected)


def test_seed001_4x6_jacobian_in_column_major_order():
    """vec_c(A W) = (I ⊗ A) vec_c(W): the column-major form of the same Jacobian."""
    J = mcalc.jacobian("A@W + B", "W", {"A": SEED1_A, "W": np.ones((3, 2)), "B": [13, 14]}, order="col")
    np.testing.assert_array_equal(J, np.kron(np.eye(2), np.array(SEED1_A, dtype=float)))


def test_seed001_gradient_through_the_bias():
    g = mcalc.gradient("sum(A@W + B)", "W", {"A": SEED1_A, "W": [[7, 8], [10, 11], [12, 13]], "B": [13, 14]})
    np.testing.assert_array_equal(g, [[5, 5], [7, 7], [9, 9]])
    gb = mcalc.gradient("sum(A@W + B)", "B", {"A": SEED1_A, "W": [[7, 8], [10, 11], [12, 13]], "B": [13, 14]})
    np.testing.assert_array_equal(gb, [2, 2])                         # the bias row is added to both rows


def test_seed001_vjp_of_sum_is_the_product_with_ones():
    """dS/dW = dS/dZ · dZ/dW with dS/dZ a row of ones (row-major): [5 5 7 7 9 9]."""
    vals = {"A": SEED1_A, "W": [[7, 8], [10, 11], [12, 13]], "B": [13, 14]}
    np.testing.assert_array_equal(np.ones(4) @ mcalc.jacobian("A@W + B", "W", vals), [5, 5, 7, 7, 9, 9])


# --- seed 002: d(A²) = dA·A + A·dA, and A³ -----------------------------------------------------------------------

def test_seed002_square_in_both_orders():
    X = A2
    I = np.eye(2)
    np.testing.assert_array_equal(mcalc.jacobian("X^2", "X", {"X": X}, order="col"), np.kron(I, X) + np.kron(X.T, I))
    np.testing.assert_array_equal(mcalc.jacobian("X^2", "X", {"X": X}), np.kron(X, I) + np.kron(I, X.T))
    np.testing.assert_array_equal(mcalc.jacobian("X@X", "X", {"X": X}, order="col"), np.kron(I, X) + np.kron(X.T, I))


def test_seed002_cube_is_the_sum_of_three_products():
    X = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0], [2.0, 1.0, 1.0]])
    I = np.eye(3)
    # column-major: vec(A dX B) = (Bᵀ ⊗ A) vec(dX) for dX X X + X dX X + X X dX
    expected = np.kron((X @ X).T, I) + np.kron(X.T, X) + np.kron(I, X @ X)
    np.testing.assert_allclose(mcalc.jacobian("X^3", "X", {"X": X}, order="col"), expected)


def test_matrix_power_binds_like_double_star():
    """X^2 + B is (X^2) + B, not X^(2 + B) as Python's ^ would have it."""
    X = A2
    np.testing.assert_array_equal(mcalc.jacobian("X^2 + B", "X", {"X": X, "B": B2}),
                                  mcalc.jacobian("X@X + B", "X", {"X": X, "B": B2}))


def test_transpose_is_the_commutation_matrix():
    X = np.arange(6.0).reshape(2, 3)
    # K vec_c(X) = vec_c(Xᵀ): in column-major order d vec(Xᵀ)/d vec(X) = K
    np.testing.assert_array_equal(mcalc.jacobian("X'", "X", {"X": X}, order="col"), commutation(2, 3))


# --- seed 003: the deep-learning Jacobians ------------------------------------------------------------------------

def test_seed003_vector_scalar_addition():
    vals = {"x": [1.0, 2.0, 3.0], "a": 0.5}
    np.testing.assert_array_equal(mcalc.jacobian("x + a", "a", vals), np.ones((3, 1)))
    np.testing.assert_array_equal(mcalc.jacobian("x + a", "x", vals), np.eye(3))


def test_seed003_elementwise_product_is_diagonal():
    x, z = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    np.testing.assert_array_equal(mcalc.jacobian("x * z", "x", {"x": x, "z": z}), np.diag(z))


def test_seed003_matrix_vector_product_wrt_the_matrix():
    """dy_i/dA_jk = x_k if i = j: the m × (m n) Jacobian I ⊗ xᵀ, and the VJP g xᵀ."""
    A, x = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0, 0.5])
    J = mcalc.jacobian("A@x", "A", {"A": A, "x": x})
    np.testing.assert_array_equal(J, np.kron(np.eye(2), x[None, :]))
    g = np.array([0.3, -1.2])
    np.testing.assert_allclose((g @ J).reshape(2, 3), np.outer(g, x))


def test_seed003_scalar_function_row_and_vector_function_column():
    """f(x) = x1² + 2 x1 x2 + 1: a row [2x1 + 2x2, 2x1]; f(x) = [3x², 6x + 1]: a column [6x, 6]."""
    J = mcalc.jacobian("x[0]**2 + 2*x[0]*x[1] + 1", "x", {"x": [1.5, -2.0]})
    np.testing.assert_allclose(J, [[2 * 1.5 + 2 * -2.0, 2 * 1.5]])
    J = mcalc.jacobian("[3*x**2, 6*x + 1]", "x", {"x": 2.0})
    np.testing.assert_allclose(J, [[12.0], [6.0]])


def test_polar_coordinates_and_their_determinant():
    r, t = 2.0, 0.7
    J = mcalc.jacobian("[r*cos(t), r*sin(t)]", ["r", "t"], {"r": r, "t": t})
    np.testing.assert_allclose(J, [[np.cos(t), -r * np.sin(t)], [np.sin(t), r * np.cos(t)]])
    assert np.isclose(np.linalg.det(J), r)


# --- the Matrix Cookbook ------------------------------------------------------------------------------------------

X3 = np.array([[2.0, 1.0, 0.5], [0.3, 3.0, 1.0], [1.0, -0.5, 2.5]])
A3 = np.array([[1.0, 0.2, -0.3], [0.5, 2.0, 0.1], [0.0, 1.0, 1.5]])
b3 = np.array([1.0, -2.0, 0.5])


@pytest.mark.parametrize("expr,expected", [
    ("trace(X)", np.eye(3)),                                                       # (100)
    ("trace(A@X)", A3.T),                                                          # (102) ∂tr(AX)/∂X = Aᵀ
    ("trace(X@A)", A3.T),
    ("trace(X.T@A)", A3),                                                          # (103)
    ("trace(X@X)", 2 * X3.T),                                                      # (106)
    ("det(X)", np.linalg.det(X3) * np.linalg.inv(X3).T),                           # (49)
    ("logdet(X)", np.linalg.inv(X3).T),                                            # (57)
    ("b@X@b", np.outer(b3, b3)),                                                   # (72)
    ("norm(X)", X3 / np.linalg.norm(X3)),
    ("sum(X*X)", 2 * X3),
])
def test_cookbook_gradients(expr, expected):
    vals = {k: v for k, v in {"X": X3, "A": A3, "b": b3}.items() if k in expr.replace("det", "").replace("trace", "")}
    np.testing.assert_allclose(mcalc.gradient(expr, "X", vals), expected, rtol=1e-12, atol=1e-12)


def test_cookbook_inverse_in_both_orders():
    """(59) d X⁻¹ = -X⁻¹ dX X⁻¹: -(X⁻ᵀ ⊗ X⁻¹) column-major, -(X⁻¹ ⊗ X⁻ᵀ) row-major."""
    Y = np.linalg.inv(X3)
    np.testing.assert_allclose(mcalc.jacobian("inv(X)", "X", {"X": X3}, order="col"), -np.kron(Y.T, Y))
    np.testing.assert_allclose(mcalc.jacobian("inv(X)", "X", {"X": X3}), -np.kron(Y, Y.T))


def test_softmax_is_diag_s_minus_s_sT():
    x = np.array([0.1, -0.4, 1.2, 0.0])
    s = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(mcalc.jacobian("softmax(x)", "x", {"x": x}), np.diag(s) - np.outer(s, s))


def test_tanh_layer_is_diag_1_minus_y2_times_I_kron_xT():
    W, x, b = np.array([[0.2, -0.1, 0.4], [0.3, 0.5, -0.2]]), np.array([1.0, 0.5, -1.0]), np.array([0.1, -0.3])
    y = np.tanh(W @ x + b)
    np.testing.assert_allclose(mcalc.jacobian("tanh(W@x + b)", "x", {"W": W, "x": x, "b": b}),
                               np.diag(1 - y ** 2) @ W)
    np.testing.assert_allclose(mcalc.jacobian("tanh(W@x + b)", "W", {"W": W, "x": x, "b": b}),
                               np.diag(1 - y ** 2) @ np.kron(np.eye(2), x[None, :]))


def test_denominator_layout_is_the_transpose():
    vals = {"A": A3, "X": X3}
    np.testing.assert_array_equal(mcalc.jacobian("A@X", "X", vals, layout="denominator"),
                                  mcalc.jacobian("A@X", "X", vals).T)


def test_several_wrt_variables_are_concatenated_in_order():
    vals = {"A": A2, "B": B2}
    J = mcalc.jacobian("A@B", ["B", "A"], vals)
    np.testing.assert_array_equal(J, np.hstack([np.kron(A2, np.eye(2)), np.kron(np.eye(2), B2.T)]))
