"""Errors: one line with a place and a hint; text that names a setting said in the words of whoever reads it."""

import pickle

import pytest

from mcalc.errors import API, CLI, DomainError, McalcError, ShapeError, UsageError, phrase, setting


def test_settings_with_a_value_as_each_side_writes_them():
    assert CLI.eg("shape", "A=2x2") == "--shape A=2x2" and API.eg("shape", "A=2x2") == 'shapes="A=2x2"'
    assert CLI.eg("wrt", "x") == "--wrt x" and API.eg("wrt", "x") == 'wrt="x"'
    assert CLI.eg("fd", "none") == "--fd none" and API.eg("fd", "none") == 'fd="none"'
    assert CLI.eg("tol", "1e-6", text=False) == "--tol 1e-6" and API.eg("tol", "1e-6", text=False) == "tol=1e-6"
    assert (CLI.value, API.value) == ("--value", "values=")


def test_the_value_of_a_variable_and_of_a_setting():
    assert CLI.value_of("A") == API.value_of("A") == "the value of A"
    assert CLI.value_of(setting("cotangent")) == "the value of --vjp"
    assert API.value_of(setting("cotangent")) == "the cotangent"
    assert phrase(setting("tangent"), CLI) == "--jvp" and phrase("plain text", API) == "plain text"


def test_an_error_is_said_in_the_command_lines_words_until_phrased_otherwise():
    e = UsageError(lambda w: f"{w.value} names 'z'", hint=lambda w: f"e.g. {w.eg('shape', 'z=2x2')}")
    assert str(e) == "usage error: --value names 'z' (hint: e.g. --shape z=2x2)"
    assert (e.message, e.hint, e.args) == ("--value names 'z'", "e.g. --shape z=2x2", ("--value names 'z'",))
    assert e.line(API) == 'usage error: values= names \'z\' (hint: e.g. shapes="z=2x2")'
    assert str(e).startswith("usage error: --value")             # line() in other words leaves the error as it was
    assert e.phrased(API) is e
    assert str(e) == 'usage error: values= names \'z\' (hint: e.g. shapes="z=2x2")'
    assert (e.message, e.hint, e.args) == ("values= names 'z'", 'e.g. shapes="z=2x2"', ("values= names 'z'",))


def test_plain_text_and_the_place_are_kept():
    e = ShapeError("'@' needs matrices", hint="give A a shape", col=1, source="A@B")
    assert str(e) == str(e.phrased(API)) == "shape error at column 2: '@' needs matrices (hint: give A a shape)"
    assert e.caret() == "  A@B\n   ^"
    e.hint = lambda w: f"try {w.eg('wrt', 'A')}"                   # a hint given later is phrased too
    assert e.hint == 'try wrt="A"'
    e.message = "changed"
    assert e.args == ("changed",) and str(e) == 'shape error at column 2: changed (hint: try wrt="A")'


def test_errors_pickle_as_said():
    e = DomainError(lambda w: f"give it {w.with_value}", hint=lambda w: w.vjp, col=0, source="x").phrased(API)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is DomainError and str(back) == str(e) == "domain error at column 1: give it in values= " \
                                                                 "(hint: mcalc.vjp)"
    assert back.caret() == e.caret()


def test_errors_are_exceptions_with_their_message():
    with pytest.raises(McalcError, match="--tol must"):
        raise UsageError(lambda w: f"{w.tol} must be positive")
