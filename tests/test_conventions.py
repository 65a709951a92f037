"""Issue 12's command-line conventions, one test per defect: marks that do not depend on colour, a header that says
who chose each value, help and error messages in one style, output that keeps its indent at 60 columns, and shell
completion."""

import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mcalc.cli import app

runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, list(args), env=env)


WRONG = ["check", "A@B", "--wrt", "A", "--value", "A=1 2; 3 4", "--value", "B=1 0; 2 1",
         "--expect", "kron(eye(2), B.T) + 0.5*(kron(eye(2), B.T) > 1.5)"]
DISAGREE = ["jac", "sin(1000*x)", "--wrt", "x", "--value", "x=0.3 0.4 0.1", "--fd", "central", "--tol", "1e-12"]


def _rows(out: str, label: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(label)]


# --- marks that do not depend on colour ------------------------------------------------------------------------------

def test_check_marks_wrong_entries_in_the_matrix_without_colour():
    r = run(*WRONG)                                      # piped: no colour
    assert r.exit_code == 1 and "\x1b[" not in r.output
    answer = r.output.split("your answer")[1]
    assert "[2.5]" in answer and answer.count("[2.5]") == 2
    assert "[ ] marks a wrong entry of your answer" in r.output
    lines = _rows(answer, "f[0,0]") + _rows(answer, "f[0,1]")
    assert lines[0].index("[2.5]") + len("[2.5]") - 1 == lines[1].index("1.0 ") + len("1.0")   # aligned
    header = next(line for line in answer.splitlines() if "A[0,1]" in line)
    assert header.rindex("A[0,1]") + len("A[0,1]") == lines[1].index("1.0 ") + len("1.0")
    assert "f[0,0] wrt A[0,1]: expected 2, got 2.5" in r.output                 # listed by label


def test_marks_follow_the_colour_settings(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")               # as on a terminal: colour, no brackets
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    coloured = run(*WRONG).output
    assert "\x1b[" in coloured and "[2.5]" not in coloured and "[ ] marks" not in coloured
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        out = run(*WRONG, env=env).output
        assert "\x1b[" not in out and "[2.5]" in out and "[ ] marks" in out, env
    out = run(*WRONG, "--no-color").output
    assert "\x1b[" not in out and "[2.5]" in out


def test_jac_grad_and_hess_mark_and_list_disagreements():
    r = run(*DISAGREE)
    assert r.exit_code == 1
    assert "[-22.0966]" in r.output and "[-525.2963]" in r.output and "[862.3189]" in r.output
    assert "[ ] marks an entry where analytic and finite differences disagree" in r.output
    assert "also at f[1] wrt x[1], f[0] wrt x[0]" in " ".join(r.output.split())
    r = run("grad", "sum(sin(1000*x))", "--wrt", "x", "--value", "x=0.3 0.4", "--fd", "central", "--tol", "1e-12")
    assert r.exit_code == 1 and "[-525.2963]" in r.output and "[ ] marks" in r.output
    assert "worst at ∂f/∂x[" in r.output and "also at ∂f/∂x[" in r.output      # as the gradient's labels say
    r = run("hess", "sum(sin(1000*x))", "--wrt", "x", "--value", "x=0.3 0.4", "--fd", "central", "--tol", "1e-12")
    assert r.exit_code == 1 and "[999755.8399]" in r.output and "[ ] marks" in r.output
    r = run("jac", "A@B", "--wrt", "A", "--shape", "2x2")                   # nothing to mark: no legend
    assert r.exit_code == 0 and "[ ] marks" not in r.output and "│ [" not in r.output


def test_kinks_are_marked_and_every_one_is_listed():
    r = run("jac", "abs(x)", "--value", "x=0 1 0")
    assert r.exit_code == 1
    assert _rows(r.output, "f[0]")[0].split()[2] == "[0]" and _rows(r.output, "f[2]")[0].split()[-1] == "[0]"
    assert "[ ] marks an entry that is not differentiable here" in r.output
    assert "2 such entries: f[0] wrt x[0], f[2] wrt x[2]" in " ".join(r.output.split())


# --- the header says who chose each value ----------------------------------------------------------------------------

def test_header_says_who_chose_each_value():
    r = run("jac", "A@B", "--wrt", "A", "--value", "A=1 2; 3 4", "--shape", "2x2")
    assert r.exit_code == 0
    assert "[3, 4]]  (given)" in r.output
    assert "(chosen by mcalc, seed 0; set with --value)" in r.output
    assert "(chosen by mcalc, seed 3; set" in run("jac", "A@B", "--wrt", "A", "--shape", "2x2", "--seed", "3").output


def test_values_the_user_gave_are_never_called_mcalcs_choice():
    """An answer right at the values given but wrong elsewhere is shown at mcalc's values: the header said x was
    'chosen by mcalc; set with --value' although it had been set with --value."""
    r = run("check", "sum(x**3)", "--wrt", "x", "--value", "x=1 1", "--expect", "3*x")
    assert r.exit_code == 1 and "right at the values you gave (x = [1, 1])" in r.output
    line = next(line for line in r.output.splitlines() if line.startswith("value"))
    assert "set with --value" not in line and "in place of the value you gave" in line
    r = run("hess", "x@A@x", "--wrt", "x", "--value", "x=1 2", "--shape", "A=2x2")
    assert "x = [1, 2]  (given)" in r.output and "(chosen by mcalc" in r.output


# --- help and messages in one style -----------------------------------------------------------------------------------

def test_help_shows_metavars_and_choices():
    out = run("jac", "-h").output
    assert "Usage: mcalc jac [OPTIONS] EXPR" in out and "{EXPR}" not in out
    assert "<str>" not in out and "TEXT" not in out and "<int" not in out and "<float>" not in out
    for option, metavar in (("--wrt", "NAME"), ("--shape", "SHAPE"), ("--value", "NAME=VALUE"), ("--order", "[row|col]"),
                            ("--layout", "[num|denom]"), ("--fd ", "METHOD"), ("--fd-columns", "[auto|all|N]"),
                            ("--format", "FORMAT"), ("--out", "FILE"), ("--precision", "DIGITS")):
        row = next(line for line in out.splitlines() if option in line)
        assert metavar in row, (option, row)
    text = " ".join(out.replace("│", " ").split())
    for choices in ("central, forward, complex, richardson or none", "row (also row-major, C", "or col (also",
                    "numerator (num:", "denominator (denom:", "auto (all of them", "pretty, json, csv, plain, npy",
                    "latex or markdown"):
        assert choices in text, choices


def test_command_summaries_are_one_paragraph():
    from typer.main import get_command

    group = get_command(app)
    for name, command in group.commands.items():
        assert command.short_help and "\n" not in command.short_help, name
    out = run("-h", env={"COLUMNS": "60"}).output
    assert "differences of that gradient" in " ".join(out.replace("│", " ").split())


def test_examples_wrap_as_a_shell_reads_them():
    from mcalc.cli_help import shell_words, wrapped

    out = run("jac", "-h", env={"COLUMNS": "60"}).output
    examples = out.split("Examples:")[1].splitlines()
    assert all(len(line) <= 60 for line in examples if not line.strip().startswith('"$('))
    continued = [k for k, line in enumerate(examples) if line.endswith(" \\")]
    assert continued
    for k in continued:
        indent = len(examples[k]) - len(examples[k].lstrip())
        assert len(examples[k + 1]) - len(examples[k + 1].lstrip()) > indent     # continuations indented further
    assert 'A="1 2 3; 4 5 6"' in out                                              # never broken inside quotes
    nested = 'mcalc check "A@B" --expect "$(mcalc explain "A@B" --wrt A -f plain)"'
    assert shell_words(nested)[-1] == '"$(mcalc explain "A@B" --wrt A -f plain)"'
    assert " ".join(w.rstrip(" \\").strip() for w in wrapped(nested, 30)) == nested


@pytest.mark.parametrize("args,hint", [
    (["jac", "x", "--wrtt", "x"], "did you mean --wrt?"),
    (["grad", "sum(x)", "--det"], "--det is an option of mcalc jac, not of mcalc grad"),
    (["jac", "x", "--hvp", "1"], "--hvp is an option of mcalc hess"),
    (["jacobian", "x"], "did you mean 'jac'?"),
    (["jca", "x"], "did you mean 'jac'?"),
    (["jac"], "see 'mcalc jac --help'"),
    (["jac", "x", "--precision", "x"], "see 'mcalc jac --help'"),
    (["jac", "x", "y"], "see 'mcalc jac --help'"),
    (["jac", "x", "--seed", "-1"], "see 'mcalc jac --help'"),
    (["jac", "x", "--order", "diagonal"], "use row"),
])
def test_usage_errors_read_as_mcalcs_own(args, hint):
    """One style for click's messages and mcalc's: lower case, no full stop, the advice as '(hint: ...)'."""
    r = run(*args)
    assert r.exit_code == 2 and r.stdout == ""
    line = r.stderr.splitlines()[0]
    assert re.match(r"mcalc: usage error: [a-z]", line), line
    assert ". (hint" not in line and not line.endswith(".") and f"(hint: {hint}" in line, line
    assert "Possible options" not in line and "Did you mean" not in line


# --- output that keeps its indent at 60 columns -------------------------------------------------------------------

def test_wrapped_lines_keep_their_indent_at_60_columns():
    r = run("jac", "tanh(W@x + b)", "--wrt", "x", "--shape", "W=3x4,x=4,b=3", env={"COLUMNS": "60"})
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert all(len(line) <= 60 for line in lines)
    header = lines[:lines.index("")]
    assert all(re.match(r"(\w+|∇f|H =) +\S| {8,}\S", line) for line in header), header
    assert any(line.strip() == "seed 0; set with --value)" and line.startswith(" " * 12) for line in header)
    verdict = lines[lines.index("", len(header) + 1) + 1:]
    assert verdict[0].startswith("✓ ") and all(line.startswith("  ") for line in verdict[1:]), verdict
    r = run(*WRONG, env={"COLUMNS": "60"})
    verdict = r.output.split("✗ ")[1].splitlines()
    assert all(line.startswith("  ") for line in verdict[1:]) and len(verdict) > 4, verdict
    bullets = verdict[next(k for k, line in enumerate(verdict) if line.startswith("  • ")):]
    assert all(line.startswith(("  • ", "    ")) for line in bullets), bullets


def test_a_vector_gradient_has_no_empty_header():
    r = run("grad", "sum(x**2)", "--wrt", "x", "--value", "x=1 2 3")
    assert r.exit_code == 0
    assert not any(re.fullmatch(r" *│ *", line) for line in r.output.splitlines())
    assert "━" not in r.output and "∂f/∂x[0] │ 2" in r.output
    r = run("check", "sum(x**2)", "--wrt", "x", "--value", "x=1 2", "--expect", "2*x + 1")
    assert not any(re.fullmatch(r"[ │]*", line) and "│" in line for line in r.output.splitlines())
    r = run("grad", "sum(A**2)", "--wrt", "A", "--value", "A=1 2; 3 4")        # a matrix keeps its column labels
    assert "[:,0]" in r.output and "━" in r.output


# --- shell completion -------------------------------------------------------------------------------------------

def test_show_completion_prints_the_script():
    for shell in ("bash", "zsh", "fish"):
        r = run("--show-completion", shell)
        assert r.exit_code == 0 and "_MCALC_COMPLETE" in r.output, shell
    r = run("--show-completion", env={"SHELL": "/bin/zsh"})       # the shell mcalc runs under (or $SHELL)
    assert r.exit_code == 0 and "_MCALC_COMPLETE" in r.output
    r = run("--show-completion", "tcsh")
    assert r.exit_code == 2 and "no completion for the shell 'tcsh'" in r.stderr
    assert "--show-completion" in run("-h").output and "--install-completion" in run("-h").output


def test_install_completion_writes_the_shells_files(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "mcalc", "--install-completion", "bash"], env=env, capture_output=True,
                       text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0 and "bash completion installed in" in r.stdout, r.stderr
    assert "_MCALC_COMPLETE" in (tmp_path / ".bash_completions" / "mcalc.sh").read_text()
    assert ".bash_completions/mcalc.sh" in (tmp_path / ".bashrc").read_text()


def _complete(words: str, shell: str = "bash") -> list[str]:
    env = {"_MCALC_COMPLETE": f"complete_{shell}", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1),
           "_TYPER_COMPLETE_ARGS": words}
    r = run(env=env)
    assert r.exit_code == 0, r.output
    return r.output.split()


def test_completion_offers_each_options_words():
    assert _complete("mcalc jac x --order ")[:2] == ["row", "col"]
    assert _complete("mcalc jac x --order co") == ["col", "column-major"]
    assert _complete("mcalc jac x --layout d") == ["denominator", "denom"]
    assert _complete("mcalc jac x --fd ") == ["central", "forward", "complex", "richardson", "none"]
    assert _complete("mcalc check x --format ") == ["pretty", "json"]
    assert "npz" in _complete("mcalc jac x --format ")
    assert _complete("mcalc jac tanh(W@x+b) --wrt ") == ["W", "x", "b"]
    assert _complete("mcalc jac --shape 2x2 A@B --wrt ") == ["A", "B"]
    assert "jac" in _complete("mcalc ") and "explain" in _complete("mcalc ")


def test_completion_is_set_up_only_when_asked():
    """The canonical command attaches no completion functions (Typer inspects each one at every start)."""
    from typer.main import get_command

    group = get_command(app)
    assert all(p._custom_shell_complete is None for c in group.commands.values() for p in c.params)


@pytest.mark.parametrize("args,fragment", [
    (["ops", "-f", "json"], "-f is an option of mcalc jac, mcalc grad, mcalc hess, mcalc check and mcalc explain"),
    (["-v"], "did you mean -V?"),
])
def test_a_command_without_an_expression_gets_no_hint_about_expressions(args, fragment):
    """mcalc ops and mcalc itself take no expression: an unknown short option is not 'an expression that begins
    with -' there (issue 12's tester)."""
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and fragment in res.stderr and "expression" not in res.stderr, res.stderr


@pytest.mark.parametrize("option,value", [("--layout", "n"), ("--layout", "d"), ("--order", "r"), ("-f", "js"),
                                          ("--fd", "cent"), ("--fd-columns", "al")])
def test_choices_are_taken_by_any_unambiguous_prefix(option, value):
    """Click's and numpy's habit, for every option with choices (one letter where it is enough; issue 12's tester
    found --layout n, --order r, -f js, --fd cent and --fd-columns al refused)."""
    res = CliRunner().invoke(app, ["jac", "A@B", "--wrt", "A", "--shape", "2x2", option, value])
    assert res.exit_code == 0, res.stderr


@pytest.mark.parametrize("command", ["jac", "grad", "hess", "check", "explain", "ops"])
def test_help_at_60_columns_cuts_no_word(command):
    """A word longer than the help column was cut with an ellipsis (A="[[1,2],[3,4]]…, MCALC_NO_FILES=1…)."""
    env = {**os.environ, "COLUMNS": "60", "TERM": "xterm"}
    out = subprocess.run([sys.executable, "-m", "mcalc", command, "-h"], capture_output=True, text=True, env=env,
                         timeout=60).stdout
    assert out and "…" not in out, out
