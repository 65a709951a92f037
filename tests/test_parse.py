"""The parser: Python's ast behind a whitelist, MATLAB-style transposes, ^ as matrix power, and errors with columns."""

import pytest

from mcalc.errors import ParseError, UnknownNameError
from mcalc.parse import MAX_DEPTH, parse


def kinds(text):
    t = parse(text).tree
    return t.kind, t.value


def test_operators_and_precedence():
    assert kinds("A@B + C") == ("binop", "+")
    assert kinds("X^2 + B") == ("binop", "+")                  # ^ binds like **, not like Python's ^
    t = parse("X^2 + B").tree
    assert t.args[0].kind == "binop" and t.args[0].value == "^"
    assert parse("X**2").tree.value == "**"
    assert kinds("-X^2") == ("neg", None)                      # -(X^2), as in mathematics
    assert kinds("2^3^2")[1] == "^"
    assert parse("2^3^2").tree.args[1].value == "^"            # right-associative


def test_transpose_marks():
    for text in ("A'", "A.T", "(A@B)'", "A''", "x[0]'", "Aᵀ"):
        assert parse(text).tree.kind == "T", text
    assert parse("A''").tree.args[0].kind == "T"
    assert parse("A'@B").tree.value == "@"


def test_indexing_keys():
    assert parse("A[1, 0]").tree.value == (1, 0)
    assert parse("A[:, 0]").tree.value == (slice(None), 0)
    assert parse("x[-1]").tree.value == (-1,)
    assert parse("A[1:, ::2]").tree.value == (slice(1, None), slice(None, None, 2))


def test_variables_in_order_of_appearance_without_constants():
    assert parse("B@A + exp(pi*x) - B*e").variables() == ["B", "A", "x"]


def test_text_of_subexpressions_keeps_the_users_spelling():
    p = parse("log(A') + X^2")
    call = p.tree.args[0]
    assert p.text(call) == "log(A')"
    assert p.text(p.tree.args[1]) == "X^2"


@pytest.mark.parametrize("text,col,fragment", [
    ("A@@B", 2, "invalid syntax"),
    ("A @ B +", 7, "ends too early"),
    ("exp(A", 3, "never closed"),
    ("A // B", 2, "'//'"),
    ("A % 2", 2, "'%'"),
    ("A | B", 2, "'|'"),
    ("x < y < z", 0, "chained comparison"),
    ("lambda: 1", 0, "lambda"),
    ("[x for x in y]", 0, "comprehension"),
    ("(a, b)", 0, "tuple"),
    ("{1: 2}", 0, "dict"),
    ("A.shape", 0, "unknown attribute"),
    ("A.__class__", 0, "not allowed"),
    ("__import__", 0, "'__'"),
    ("x[i]", 2, "integer literals"),
    ("x + inf", 4, "inf is not a value mcalc differentiates at"),          # (it was a variable named inf)
    ("x + nan", 4, "nan is not a value"), ("x + np.nan", 4, "np.nan is not a value"),
    ("'abc'", 0, "a string"),
    ('"abc"', 0, "a string"),
    ("1j + x", 0, "complex"),
    ("True", 0, "True or False"),
    ("f(x)(y)", 0, "only the functions"),
    ("sum(A, bxis=0)", 12, "no keyword 'bxis'"),
    ("kron(A)", 0, "takes 2 arguments"),
    ("M.flatten('F')", 0, ".flatten() takes no arguments, got 1"),     # (a method's count leaves out M)
    ("x.sum(0, 1, 2)", 0, ".sum() takes 0 to 2 arguments, got 3"),
    ("x + polygamma(1)", 4, "takes 1 array argument after 1 parameter, got 0"),    # (the order n, then x)
    ("take_along_axis(x, axis=0)", 0, "takes 2 array arguments, got 1"),            # (a keyword is no array)
    ("exp(*A)", 4, "unpacking"),
    ("[]", 0, "empty list"),
    ("not x", 0, "'not'"),
    ("b'abc'", 2, "a name follows the transpose mark '"),          # (was 'unknown attribute .Tabc')
    ("A'b", 2, "with no operator between them"), ("Aᵀx", 2, "the transpose mark ᵀ"),
])
def test_errors_point_at_the_column(text, col, fragment):
    with pytest.raises(ParseError) as info:
        parse(text)
    e = info.value
    assert fragment in str(e)
    assert e.col == col, (e.col, str(e))
    assert e.caret().splitlines()[1].index("^") - 2 == col


def test_unknown_function_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="did you mean 'exp'"):
        parse("expp(x)")
    with pytest.raises(UnknownNameError, match="unknown function 'foo'"):
        parse("foo(x)")


def test_python_internals_are_rejected_before_anything_runs():
    for text in ("__import__('os').system('true')", "().__class__.__bases__", "exp.__globals__",
                 "(lambda: 0)()", "getattr(A, 'T')", "eval('1')", "open('x')"):
        with pytest.raises(ParseError):
            parse(text)


def test_absurd_inputs_fail_fast_and_cleanly():
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("-" * 5000 + "x")
    with pytest.raises(ParseError):
        parse("(" * 1000 + "x" + ")" * 1000)
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("**".join(["x"] * (MAX_DEPTH + 5)))             # right-associative: really nested
    with pytest.raises(ParseError, match="characters long"):
        parse("x+" * 10_000 + "x")
    with pytest.raises(ParseError, match="empty"):
        parse("   ")
    with pytest.raises(ParseError, match="NUL"):
        parse("x\0")


def test_long_flat_chains_are_not_nesting():
    p = parse("+".join(f"x[{i}]" for i in range(3 * MAX_DEPTH)))
    assert p.tree.kind == "binop" and p.variables() == ["x"]


def test_leading_blanks_are_ignored_and_columns_stay_the_users():
    p = parse("   -x + y")
    assert p.tree.value == "+" and p.tree.op_col == 6
    with pytest.raises(ParseError) as info:
        parse("  x @@ y")
    assert info.value.col == 5


def test_newlines_and_tabs_are_spaces():
    assert parse("A @\n B\t+ C").tree.value == "+"


def test_a_numpy_submodule_without_its_module_is_named():
    """linalg.norm(x) read as the method .norm() of a variable called linalg ('arrays have no method .norm()')."""
    from mcalc.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="unknown module 'linalg'") as info:
        parse("linalg.norm(x)")
    assert info.value.hint == "write np.linalg.norm(...)"
    assert parse("special.sum()").variables() == ["special"]          # (a variable of that name, with a method)
