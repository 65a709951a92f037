"""Shell completion: `mcalc --show-completion [SHELL]` prints the script for bash, zsh, fish or PowerShell, and
`mcalc --install-completion [SHELL]` adds it to the shell's start-up files; then the shell completes commands,
options and their words (`--order <TAB>`: row col ...; `--wrt <TAB>`: the expression's variables).

Typer's completion machinery does the work.  It is set up only when it is asked for (these two options, or the
shell asking through the _MCALC_COMPLETE variable): the options' words are attached to the built command then, not
declared with each option, since Typer inspects every completion function at every start (about 0.1 ms each).
"""

from __future__ import annotations

import os

from .errors import UsageError

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
OPTIONS = ("--show-completion", "--install-completion")
VARIABLE = "_MCALC_COMPLETE"          # (Typer's name for it: _{PROG}_COMPLETE)

# The words an option completes to, by parameter name: those mcalc prints first, then the aliases it accepts.
WORDS = {"order": ("row", "col", "row-major", "column-major", "C", "F"),
         "layout": ("numerator", "denominator", "num", "denom"),
         "fd": ("central", "forward", "complex", "richardson", "none"),
         "fd_columns": ("auto", "all")}


def prepare(group) -> None:
    """When the shell asks for completions (_MCALC_COMPLETE set): Typer's completion classes, and each option's
    words attached to the built commands (--format: the command's own formats; --wrt: the expression's variables)."""
    if not os.environ.get(VARIABLE):
        return
    from typer.completion import completion_init

    from . import emit
    from .output import FORMATS

    completion_init()
    formats = {"grad": emit.GRAD_FORMATS, "check": emit.CHECK_FORMATS, "hess": emit.HESS_FORMATS,
               "explain": emit.EXPLAIN_FORMATS}
    for name, command in getattr(group, "commands", {}).items():
        for param in command.params:
            if param.name == "wrt":
                param._custom_shell_complete = lambda ctx, param, typed: [v for v in variables(ctx)
                                                                          if v.startswith(typed)]
            elif param.name == "fmt" or param.name in WORDS:
                choices = formats.get(name, FORMATS) if param.name == "fmt" else WORDS[param.name]
                param._custom_shell_complete = lambda ctx, param, typed, choices=choices: [
                    c for c in choices if c.startswith(typed)]


def variables(ctx) -> list[str]:
    """--wrt <TAB>: the variables of the expression typed before it (none while there is none, or it is wrong)."""
    from .parse import parse

    try:
        return list(parse(ctx.params.get("expr") or _expression(ctx)).variables())
    except Exception:                                # (a half-typed expression: nothing to offer)
        return []


def _expression(ctx) -> str:
    """The command's first argument, read from the words after the command: click leaves the parameters unread
    while the option being completed (--wrt, last) lacks its value."""
    words = list(getattr(ctx.parent, "args", None) or [])
    valued = {o for p in ctx.command.params if p.param_type_name == "option" and not p.is_flag for o in p.opts}
    skip = False
    for k, word in enumerate(words):
        if word == "--":
            return words[k + 1] if k + 1 < len(words) else ""
        if skip or word.startswith("-") and len(word) > 1:
            skip = not skip and word in valued
            continue
        return word
    return ""


def shell(named: str | None) -> str:
    """The shell named, else the one mcalc runs under (its parent process; else $SHELL)."""
    if named is not None:
        if named.lower() not in SHELLS:
            raise UsageError(f"no completion for the shell '{named}'", hint="name bash, zsh, fish or powershell")
        return named.lower()
    try:
        import shellingham                           # (Typer's dependency, as Typer detects it)

        found = shellingham.detect_shell()[0]
    except Exception:
        found = os.path.basename(os.environ.get("SHELL", ""))
    if found.lower() not in SHELLS:
        raise UsageError("cannot tell which shell this is" + (f" ({found})" if found else ""),
                         hint="name it: mcalc --show-completion bash (or zsh, fish, powershell)")
    return found.lower()


def run(option: str, args: list[str], prog: str = "mcalc") -> None:
    """--show-completion [SHELL] prints the script; --install-completion [SHELL] installs it and says where."""
    if len(args) > 1:
        raise UsageError(f"{option} takes one shell name at most, got {' '.join(args)}")
    from typer.completion import get_completion_script, install

    name = shell(args[0] if args else None)
    if option == "--show-completion":
        print(get_completion_script(prog_name=prog, complete_var=VARIABLE, shell=name))
        return
    name, path = install(shell=name, prog_name=prog, complete_var=VARIABLE)
    print(f"{name} completion installed in {path}; it takes effect in a new shell")
