"""How the command line fails: one line on stderr (plus the expression with a caret under the column, for errors
inside it) and an exit code, never a traceback.  Click's usage errors read as mcalc's own: 'usage error: no such
option: --wrtt (hint: did you mean --wrt?)', lower case, no full stop, the advice as a hint.

Exit codes: 2 bad input or usage (mcalc's errors and click's usage errors), 3 a bug in mcalc (MCALC_DEBUG=1 shows
the traceback), 130 interrupted.  The exit codes 0 and 1 of a command that ran are its own.
"""

from __future__ import annotations

import errno
import os
import re
import sys

from typer.core import TyperGroup

from .errors import McalcError, printable

COMMANDS = ("jac", "grad", "check", "explain")
ALIASES = {"jacobian": "jac", "gradient": "grad", "hessian": "hess", "derivative": "jac", "diff": "jac",
           "verify": "check", "derive": "explain", "derivation": "explain", "operations": "ops"}


# What a character that the output's encoding lacks is written as (then its compatibility form: ᵀ → T, ₃ → 3).
ASCII = {"⊗": "x", "⊙": "*", "⊘": "/", "∂": "d", "∇": "grad ", "‖": "|", "━": "-", "─": "-", "│": "|", "┃": "|",
         "┼": "+", "╋": "+", "┿": "+", "╂": "+", "✓": "ok", "✗": "X", "•": "*", "…": "...", "×": "x", "⁻": "-",
         "−": "-", "→": "->", "≤": "<=", "≥": ">=", "≠": "!=", "∘": "o", "λ": "lambda", "σ": "sigma", "π": "pi",
         "⚠": "!", "≈": "~", "·": "*", "⁺": "+", "⊕": "+", "∑": "sum", "√": "sqrt", "∞": "inf", "±": "+-",
         "⁽": "(", "⁾": ")"}
SUPERSCRIPT = dict(zip("ᵀ⁻⁺⁰¹²³⁴⁵⁶⁷⁸⁹∘", "T-+0123456789o"))            # X⁻ᵀ as X^-T, X² as X^2


def _ascii_fallback(err: UnicodeEncodeError):
    import unicodedata

    out = []
    raised = err.start > 0 and err.object[err.start - 1] in SUPERSCRIPT
    for ch in err.object[err.start:err.end]:
        if ch in SUPERSCRIPT:
            out.append(SUPERSCRIPT[ch] if raised else "^" + SUPERSCRIPT[ch])
            raised = True
            continue
        raised = False
        text = ASCII.get(ch)
        if text is None:
            norm = unicodedata.normalize("NFKD", ch)
            text = norm if norm.isascii() and norm else "?"
        out.append(text)
    return "".join(out), err.end


def encodable_output() -> None:
    """Where the terminal or a pipe cannot encode mcalc's symbols (PYTHONIOENCODING=ascii, cp1252), they are
    written in ASCII (⊗ as x, ᵀ as T, ‖ as |) instead of failing."""
    import codecs

    codecs.register_error("mcalc-ascii", _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        try:
            if "\u2297\u1d40\u2502".encode(stream.encoding or "ascii", errors="strict"):
                continue
        except (UnicodeEncodeError, LookupError):
            try:
                stream.reconfigure(errors="mcalc-ascii")
            except (AttributeError, ValueError):
                pass


TERMINAL_AT_LEAST = {"COLUMNS": 20, "LINES": 5}     # below these, a block matrix (or the help) has no room


def usable_terminal_size() -> None:
    """COLUMNS or LINES that is not a number, or too small to show anything (COLUMNS=0: rich would print nothing
    and mcalc exit 0), is ignored, as if unset: the terminal's own size, or rich's default, is used."""
    for name, least in TERMINAL_AT_LEAST.items():
        v = os.environ.get(name)
        if v is not None and not (v.strip().isdigit() and int(v) >= least):
            del os.environ[name]


def fail(message: str, caret: str | None = None, code: int = 2):
    message = printable(message)
    sys.stderr.write(f"mcalc: {message}\n" + (caret + "\n" if caret else ""))
    sys.stderr.flush()
    sys.exit(code)


UNWRITABLE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS)   # what writing to stdout can meet


def internal(e: Exception):
    """A bug: one line, exit 3 (MCALC_DEBUG=1: the traceback)."""
    if os.environ.get("MCALC_DEBUG"):
        raise e
    fail(f"internal error: {type(e).__name__}: {e} (a bug in mcalc; please report it with the command; "
         "MCALC_DEBUG=1 shows the traceback)", code=3)


class Group(TyperGroup):
    """Turns library errors and usage errors into one line on stderr and exit code 2, never a traceback.  Shell
    completion (completion.py) is set up here, only when it is asked for."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from .completion import prepare

        prepare(self)
        try:
            rv = super().main(args=args, prog_name="mcalc", complete_var=complete_var, standalone_mode=False,
                              **extra)
        except McalcError as e:
            fail(str(e), e.caret())
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except BrokenPipeError:                       # (the help, to mcalc -h | head: the output's own is
            sys.exit(0 if (sys.argv[1:] if args is None else args) else 2)    # emit.writing()'s; bare mcalc: 2)
        except OSError as e:
            if e.errno not in UNWRITABLE:
                internal(e)
            from .emit import _drop_stdout

            _drop_stdout()                            # (the help, the version, ops, a completion script to a full
            fail(f"cannot write the output: {e.strerror or e}")      # disk: as a command's output, emit.writing())
        except MemoryError:
            fail("too large: mcalc ran out of memory (hint: use smaller shapes, or --fd none)")
        except RecursionError:                        # (as the API says it: a chain of 300 terms is deep too)
            fail("syntax error: the expression is nested too deeply (hint: name its parts, s = a - b - c; t = p - q; "
                 "s - t, or add a list: sum([a, b, c]))")
        except Exception as e:
            if hasattr(e, "format_message") and hasattr(e, "exit_code"):      # click's usage errors
                message = usage_message(e, [str(a) for a in (sys.argv[1:] if args is None else args)])
                if message is None:                   # bare 'mcalc': the help is already printed
                    sys.exit(2)
                fail(message)
            if type(e).__name__ == "Abort":
                fail("aborted", code=130)
            internal(e)
        sys.exit(rv if isinstance(rv, int) else 0)

    def format_help(self, ctx, formatter) -> None:
        from .cli_help import to_a_closed_pipe

        with to_a_closed_pipe():
            super().format_help(ctx, formatter)

    def parse_args(self, ctx, args):
        """mcalc --show-completion [SHELL] and --install-completion [SHELL], before click reads SHELL as a command."""
        from .completion import OPTIONS, run

        if args and args[0] in OPTIONS and not ctx.resilient_parsing:
            run(args[0], list(args[1:]), ctx.info_name or "mcalc")
            ctx.exit(0)
        return super().parse_args(ctx, args)


def usage_message(e, argv: list[str]) -> str | None:
    """A click usage error as one line in mcalc's style (None when it has no text), with a hint: a guess for a
    misspelt command or option, the command an option belongs to (grad --det), or where the help is.  An
    expression that starts with '-' and was read as options ('-sum(x)': the option -s with the value um(x)) says
    so, and how to quote it."""
    message = e.format_message().replace("\n", " ").strip()
    if not message:
        return None
    message, _, guess = message.partition(" Did you mean ")          # (Typer's guess for a command)
    message = re.sub(r" \(Possible options: [^)]*\)", "", message)   # (click's guesses for an option: see below)
    message = message[:1].lower() + message[1:].rstrip(".")
    hint = f"did you mean {guess.rstrip('?')}?" if guess else None
    unknown = re.match(r"no such command '([^']*)'$", message)
    if unknown and unknown.group(1).lower() in ALIASES:              # the long names people type
        hint = f"did you mean '{ALIASES[unknown.group(1).lower()]}'?"
    ctx = getattr(e, "ctx", None)
    option = re.match(r"no such option: (\S+)", message)
    if option and ctx is not None and re.fullmatch(r"--[A-Za-z][\w-]*", option.group(1)):
        hint = option_hint(ctx, option.group(1))
    dashed = next((a for k, a in enumerate(argv) if re.match(r"-[^-].*[][()@*+/'^]", a)    # "-sum(x)", not the
                   and not (k and argv[k - 1].startswith("-"))), None)                        # value of an option
    takes_expression = ctx is None or any(p.name == "expr" for p in getattr(ctx.command, "params", ()))
    if option and not takes_expression:              # (mcalc -v, mcalc ops -f: no expression to quote)
        hint = option_hint(ctx, option.group(1)) or _other_case(ctx, option.group(1))
    elif option and not re.fullmatch(r"--[A-Za-z][\w-]*", option.group(1)) or \
            message.startswith("missing argument") and dashed:
        text = option.group(1) if option else dashed
        text = text if len(text) <= 30 else text[:27] + "..."
        message = f"no such option: {text}" if option else f"{message}: '{text}' was read as options"
        command = next((a for a in argv if a in COMMANDS), "jac")
        hint = ("start an expression that begins with '-' with a space, \" -x\", or put it after the options and "
                f"'--': mcalc {command} --wrt x -- \"-x\"")
    if hint is None and ctx is not None:
        hint = f"see '{ctx.command_path} --help'"
    return f"usage error: {message}" + (f" (hint: {hint})" if hint else "")


def _other_case(ctx, name: str) -> str | None:
    """-v for -V: the command's option spelled in the other case, as a guess."""
    opts = [o for p in getattr(ctx.command, "params", ()) for o in getattr(p, "opts", ())]
    return f"did you mean {name.swapcase()}?" if name.swapcase() in opts else None


FULL_APP = None       # the whole Typer app, set by cli.py (which builds only the invoked command to start faster)


def option_hint(ctx, name: str) -> str | None:
    """For an option the command lacks: the commands that have it (grad --det: jac's), or the command's own option
    that it is a likely misspelling of (--wrtt: --wrt); else None."""
    import difflib

    import typer

    commands = typer.main.get_command(FULL_APP).commands if FULL_APP is not None else \
        getattr(ctx.find_root().command, "commands", {})    # (every command: main() builds only the one invoked)
    here = ctx.command.name
    others = [f"mcalc {n}" for n, c in commands.items() if n != here and any(name in p.opts for p in c.params)]
    if others:
        listed = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
        return f"{name} is an option of {listed}, not of {ctx.command_path}"
    own = [o for p in ctx.command.params for o in p.opts if o.startswith("--")]
    close = difflib.get_close_matches(name, own, n=1, cutoff=0.7)
    return f"did you mean {close[0]}?" if close else None
