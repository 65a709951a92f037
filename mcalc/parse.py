"""Text → syntax tree, with Python's ``ast`` and a whitelist.  User text is never evaluated.

Two marks are not Python and are rewritten before ``ast.parse``, keeping a map back to the user's columns:
``A'`` (and ``Aᵀ``) becomes ``A .T``; ``^`` (matrix power) becomes ``**``, so that it binds as tightly as ``**``
(Python's own ``^`` binds looser than ``+``, which would make ``X^2 + B`` mean ``X^(2 + B)``), and the positions
of the rewritten operators are remembered to tell ``X^2`` from ``X**2``.
"""

from __future__ import annotations

import ast
import warnings
from functools import lru_cache
from dataclasses import dataclass, field

from .errors import ParseError, UnknownNameError
from .ops import CONSTANTS, FUNCTIONS, LITERALS, METHODS, MODULES, VOCABULARY

MAX_LENGTH = 10_000
FOREIGN = {"torch": "PyTorch", "math": "Python's math", "onp": "numpy under another name", "tf": "TensorFlow",
           "sympy": "SymPy", "sp": "SymPy", "cupy": "CuPy", "autograd": "autograd"}
MAX_DEPTH = 200
NOT_FINITE = {"inf", "nan", "Inf", "NaN", "NAN", "infty", "Infinity"}    # numpy's names of what no value may be

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_COMPARE = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
_FORBIDDEN_BINOPS = {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
                     ast.BitAnd: "&", ast.BitXor: "^"}
_NAMES = {
    "Lambda": "lambda", "ListComp": "a comprehension", "SetComp": "a comprehension", "DictComp": "a comprehension",
    "GeneratorExp": "a generator", "BoolOp": "and/or", "IfExp": "a conditional",
    "Dict": "a dict", "Set": "a set", "JoinedStr": "a string", "NamedExpr": "':='", "Starred": "'*' unpacking",
    "Await": "await", "Yield": "yield", "YieldFrom": "yield", "Tuple": "a tuple", "Slice": "a slice",
}


@dataclass(eq=False)                 # (nodes are never compared: by identity, and one exec less at each start)
class Syn:
    """A node of the syntax tree: kind is num, name, call, binop, neg, T, index or list.  col..end is its text in
    the user's expression; point is the column an error about it should point at (a binary operator's symbol)."""

    kind: str
    col: int
    end: int
    value: object = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    op_col: int | None = None
    operands: int | None = None          # a call's operand count, where numpy takes them as one list

    @property
    def point(self) -> int:
        return self.col if self.op_col is None else self.op_col


@dataclass(eq=False)
class Parsed:
    """The expression (tree), after the named intermediates it may define first (bindings: (name, Syn), in order:
    s = softmax(W@x); -sum(y*log(s)))."""

    source: str
    tree: Syn
    bindings: list = field(default_factory=list)
    _variables: list | None = field(default=None, repr=False, compare=False)     # (a parsed tree never changes)

    def text(self, syn: Syn) -> str:
        return self.source[syn.col:syn.end].strip()

    def variables(self) -> list[str]:
        """Variable names in order of first appearance (not the names the expression defines)."""
        if self._variables is None:
            self._variables = self._find_variables()
        return list(self._variables)

    def _find_variables(self) -> list[str]:
        names: list[str] = []
        bound = {name for name, _ in self.bindings}
        stack = [self.tree] + [syn for _, syn in reversed(self.bindings)]
        stack.reverse()
        while stack:
            s = stack.pop()
            if s.kind == "name" and s.value not in CONSTANTS and s.value not in bound and s.value not in names:
                names.append(s.value)
            stack.extend(reversed(list(s.args) + list(s.kwargs.values())))
        return names

    def error(self, cls, message, syn: Syn | None = None, col: int | None = None, hint=None):
        return cls(message, hint=hint, col=syn.col if syn is not None else col, source=self.source)


def _dotted(node) -> str | None:
    """'np.linalg' for the attribute chain np.linalg, None for anything that is not a dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def parse(source: str) -> Parsed:
    """The syntax tree of an expression.  Parsed trees are never changed after parsing, so a text parsed before
    (a script calling mcalc in a loop) is parsed once."""
    if not isinstance(source, str):
        raise ParseError(f"the expression must be a string, got {type(source).__name__}")
    return _parse(source)


@lru_cache(maxsize=256)
def _parse(source: str) -> Parsed:
    if not source.strip():
        raise ParseError("empty expression", hint='try something like "A@B"')
    if len(source) > MAX_LENGTH:
        raise ParseError(f"the expression is {len(source):,} characters long; the limit is {MAX_LENGTH:,}")
    return _Parser(source).run()


def _names_used(syn: Syn) -> set:
    out, stack = set(), [syn]
    while stack:
        s = stack.pop()
        if s.kind == "name":
            out.add(s.value)
        stack.extend(list(s.args) + list(s.kwargs.values()))
    return out


def _ends_statement(before: list, after: str) -> bool:
    """Whether a newline outside brackets separates statements (s = x*x, newline, s + 1) rather than continue
    one (A @, newline, B): it does unless the line ends with an operator or the next starts with one other than
    '-' (which starts a statement: -sum(y * log(s)))."""
    prev = "".join(before).rstrip()[-1:]
    following = after.lstrip()[:1]
    return bool(prev) and prev not in "+-*/@^=<>,;!&|%" and following not in ("+", "*", "/", "@", "^", ")", "]",
                                                                                 "}", "=", "<", ">", ",", ".", "!",
                                                                                 "&", "|", "%", "")


def _literal_node(node) -> bool:
    """Whether a list's element is a literal (tensordot's axes=([1], [0])), not an expression ([x, 2*x])."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_literal_node(e) for e in node.elts)
    return isinstance(node, ast.Constant)


class _Parser:
    def __init__(self, source: str):
        self.source = source
        chars, cols, self.carets = [], [], set()
        quote, opened = None, 0                        # the quote mark of the string being read, and where
        depth = 0                                      # brackets open: a newline outside them ends a statement
        for i, ch in enumerate(source):
            if (not chars or chars[-1] == "\n") and ch.isspace() and quote is None:
                continue                               # leading blanks of a statement: Python would call them an indent
            if quote is None and ch in "\n\r" and depth == 0 and _ends_statement(chars, source[i + 1:]):
                chars.append("\n")
                cols.append(i)
                continue
            if quote is None:
                depth += (ch in "([{") - (ch in ")]}")
            if ch == "\0":
                raise ParseError("the expression contains a NUL character", col=i, source=source)
            if quote is not None:                      # inside a string: as it is
                chars.append(ch)
                cols.append(i)
                quote = None if ch == quote else quote
            elif ch == "^":
                self.carets.add(len(chars))
                chars += "**"
                cols += [i, i]
            elif ch in "'ᵀ":
                prev = "".join(chars).rstrip()[-1:]
                if ch == "'" and not (prev.isalnum() or prev and prev in "_)]."):   # a string: norm(A, 'fro')
                    quote, opened = ch, i
                    chars.append(ch)
                    cols.append(i)
                    continue
                if not prev or not (prev.isalnum() or prev in "_)]."):
                    raise ParseError("a transpose mark needs something before it", col=i, source=source,
                                     hint="write A' or A.T for the transpose of A")
                nxt = source[i + 1:i + 2]
                if nxt.isalnum() or nxt == "_":            # (b'abc': read as b .Tabc, 'unknown attribute')
                    raise ParseError(f"a name follows the transpose mark {ch} with no operator between them",
                                     col=i + 1, source=source, hint="write A' @ b for a product; text in quotes is "
                                                                    "only an option's, as in norm(A, 'fro')")
                chars += " .T"
                cols += [i, i, i]
            elif ch == '"':
                quote, opened = ch, i
                chars.append(ch)
                cols.append(i)
            else:
                chars.append(" " if ch in "\n\r\t\f\v" else ch)
                cols.append(i)
        if quote is not None:
            raise ParseError("a string is not closed", col=opened, source=source,
                             hint=f"close it with {quote}; for a transpose, write A' right after A")
        self.code = "".join(chars)
        self.cols = cols + [len(source)]

    # positions: ast gives lines and UTF-8 byte offsets into them; errors speak of the user's columns
    def _pos(self, lineno: int, byte_col: int) -> int:
        """The character index in self.code of a (line, byte offset) position."""
        lines = self.code.split("\n")
        line = max(1, min(lineno or 1, len(lines)))
        start = sum(len(t) + 1 for t in lines[:line - 1])
        return start + len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def _orig(self, char_idx: int) -> int:
        return self.cols[min(max(char_idx, 0), len(self.cols) - 1)]

    def _span(self, node) -> tuple[int, int]:
        start = self._pos(node.lineno, node.col_offset)
        end = self._pos(node.end_lineno, node.end_col_offset)
        return self._orig(start), (self._orig(end - 1) + 1 if end > 0 else 0)

    def error(self, message, node=None, col=None, cls=ParseError, hint=None):
        if node is not None:
            col = self._span(node)[0]
        return cls(message, hint=hint, col=col, source=self.source)

    def run(self) -> Parsed:
        try:
            with warnings.catch_warnings():             # e.g. "invalid decimal literal" is also a SyntaxWarning
                warnings.simplefilter("ignore")
                tree = ast.parse(self.code, mode="exec")
        except SyntaxError as e:
            comma = "Perhaps you forgot a comma?" in (e.msg or "")
            msg = (e.msg or "invalid syntax").replace("Perhaps you forgot a comma?", "").strip().rstrip(".")
            hint = "check the operators and parentheses near the caret"
            if comma and msg == "invalid syntax":     # (kron(eye(2) B.T): Python points at the first of the two)
                msg = "two terms side by side"
                hint = "separate arguments and entries with commas, kron(A, B) and [1, 2]; write A @ x for a " \
                       "matrix product, or 2*x for a product with a number"
            lines = self.code.split("\n")
            line = max(1, min(e.lineno or 1, len(lines)))
            at = sum(len(t) + 1 for t in lines[:line - 1]) + (e.offset or 0) - 1
            if not e.offset or e.offset - 1 > len(lines[line - 1]) or at >= len(self.code):
                col = len(self.source)                         # Python reports the end of input as offset 0
                msg = "the expression ends too early" if msg == "invalid syntax" else msg
            else:
                col = self._orig(at)
            if "decimal literal" in msg:
                msg, hint = "a number runs into a name", "multiplication needs a *: write 2*x, not 2x"
            unicode_hints = {"⊗": "write kron(A, B) for A ⊗ B", "⊙": "write A * B for the element-wise product",
                             "·": "write A @ B or A * B", "×": "write A @ B or A * B", "ᵀ": "write A.T or A'",
                             "⁻": "write inv(A) for A⁻¹", "²": "write x**2 (or X^2 for a matrix power)",
                             "√": "write sqrt(x)", "∑": "write sum(x)", "Σ": "write sum(x)"}
            for ch, h in unicode_hints.items():
                if ch in msg:
                    hint = h
            before = self.source[:col].rstrip()
            if msg == "invalid syntax" and before and (before[-1].isalnum() or before[-1] in ")]_") and \
                    col < len(self.source) and (self.source[col].isalpha() or self.source[col] in "(_"):
                msg = "two terms side by side"          # (A x, as a page or MATLAB writes a product)
                hint = "write A @ x for a matrix product, or 2*x for a product with a number"
            raise ParseError(msg, col=col, source=self.source, hint=hint) from None
        except (RecursionError, MemoryError):
            raise ParseError(f"the expression is nested too deeply (at most {MAX_DEPTH} levels)") from None
        except ValueError as e:
            raise ParseError(str(e)) from None
        return self.program(tree.body)

    def program(self, body) -> Parsed:
        """Named intermediates (name = expression), then the expression, separated by ';' or newlines."""
        if not body:
            raise ParseError("empty expression", hint='try something like "A@B"')
        *defs, last = body
        if not isinstance(last, ast.Expr):
            raise self.error("the last statement must be the expression itself, its value the result", last,
                             hint="s = softmax(W@x); -sum(y * log(s))")
        bindings, bound = [], set()
        for stmt in defs:
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0],
                                                                                             ast.Name)):
                raise self.error("only 'name = expression' may come before the expression", stmt,
                                 hint="s = softmax(W@x); -sum(y * log(s))")
            name = stmt.targets[0].id
            if name in FUNCTIONS or name in CONSTANTS or "__" in name:
                raise self.error(f"'{name}' names a function or constant of the language", stmt.targets[0],
                                 hint="choose another name for the intermediate")
            if name in bound:
                raise self.error(f"'{name}' is defined twice", stmt.targets[0])
            syn = self.walk(stmt.value, 0)
            used = [n for n in Parsed(self.source, syn).variables() if n not in bound]
            if name in used:
                raise self.error(f"'{name}' is used in its own definition", stmt.targets[0],
                                 hint="a name stands for one intermediate; choose a new one")
            bindings.append((name, syn))
            bound.add(name)
        parsed = Parsed(self.source, self.walk(last.value, 0), bindings)
        used = _names_used(parsed.tree) | {n for _, syn in bindings for n in _names_used(syn)}
        for name, syn in bindings:
            if name not in used:
                raise parsed.error(ParseError, f"'{name}' is defined but never used", syn,
                                   hint="the last statement is the result: it should use the names defined before "
                                        "it (a line that starts with '-' starts a new statement)")
        for k, (name, syn) in enumerate(bindings):                   # used before its definition: a variable
            earlier = Parsed(self.source, Syn("list", 0, 0, None, tuple(s for _, s in bindings[:k])),
                             bindings[:k]).variables() if k else []
            if name in earlier:
                raise parsed.error(ParseError, f"'{name}' is used before it is defined", syn)
        return parsed

    def walk(self, node, depth: int) -> Syn:
        if depth > MAX_DEPTH:
            raise self.error(f"the expression is nested too deeply (at most {MAX_DEPTH} levels)", node)
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            what = _NAMES.get(type(node).__name__, type(node).__name__)
            hint = "use [a, b] to build a vector" if isinstance(node, ast.Tuple) else None
            raise self.error(f"{what} is not part of the language", node, hint=hint)
        col, end = self._span(node)
        return method(node, depth + 1, col, end)

    def _BinOp(self, node, depth, col, end):
        # a + b + c + ... is a left spine as deep as it is long: walk it iteratively, so that only real nesting
        # counts against MAX_DEPTH
        spine = []
        while isinstance(node, ast.BinOp):
            spine.append(node)
            node = node.left
        left = self.walk(node, depth)
        for b in reversed(spine):
            right = self.walk(b.right, depth)
            op_pos = self._operator_position(b)
            if type(b.op) in _FORBIDDEN_BINOPS:
                raise ParseError(f"operator '{_FORBIDDEN_BINOPS[type(b.op)]}' is not part of the language",
                                 col=self._orig(op_pos), source=self.source,
                                 hint="the operators are + - * / ** @ ^, ' (transpose) and comparisons")
            symbol = _BINOPS[type(b.op)]
            if symbol == "**" and op_pos in self.carets:
                symbol = "^"
            bcol, bend = self._span(b)
            left = Syn("binop", bcol, bend, symbol, (left, right), op_col=self._orig(op_pos))
        return left

    def _Compare(self, node, depth, col, end):
        """a > b (one comparison: a 0/1 mask); 0 < x < 1 is refused, as its meaning in numpy is an error."""
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            what = "a chained comparison" if len(node.ops) > 1 else "'is' and 'in'"
            raise self.error(f"{what} is not part of the language", node,
                             hint="compare once, and multiply masks: (0 < x) * (x < 1)")
        left, right = self.walk(node.left, depth), self.walk(node.comparators[0], depth)
        op_pos = self._operator_position(node, node.left, node.comparators[0])
        return Syn("binop", col, end, _COMPARE[type(node.ops[0])], (left, right), op_col=self._orig(op_pos))

    def _operator_position(self, node, left=None, right=None) -> int:
        left, right = left or node.left, right or node.right
        start, stop = self._pos(left.end_lineno, left.end_col_offset), self._pos(right.lineno, right.col_offset)
        for i in range(start, stop):
            if self.code[i] not in " )":
                return i
        return start

    def _UnaryOp(self, node, depth, col, end):
        operand = self.walk(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return Syn("neg", col, end, None, (operand,))
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.error("'not' and '~' are not part of the language", node)

    def _Constant(self, node, depth, col, end):
        v = node.value
        if isinstance(v, (bool, str)) or v is None:
            what = {str: "a string is", bool: "True or False is"}.get(type(v), "None is")
            raise self.error(f"{what} not a value in the language, only a parameter of functions", node,
                             hint="e.g. norm(A, 'fro'), sum(A, axis=0, keepdims=True)")
        if not isinstance(v, (int, float)):
            what = "complex numbers are" if isinstance(v, complex) else f"{type(v).__name__} literals are"
            raise self.error(f"{what} not part of the language", node)
        if isinstance(v, int) and abs(v) > 2 ** 53:
            raise self.error(f"the integer {v} is too large to represent exactly", node)
        return Syn("num", col, end, v)

    def _Name(self, node, depth, col, end):
        if "__" in node.id:
            raise self.error(f"names with '__' are not allowed ({node.id})", node)
        if node.id in NOT_FINITE:                         # (x + inf was a variable named inf, valued 1)
            raise self._not_finite(node.id, node)
        return Syn("name", col, end, node.id)

    def _not_finite(self, name: str, node):
        e = self.error(f"{name} is not a value mcalc differentiates at: values are finite numbers", node,
                       hint="inf is read only as a parameter, as in norm(x, inf); for no bound write None, as in "
                            "clip(x, None, 1)" if name.split(".")[-1] == "inf" else None)
        e.not_finite = True                               # (a --value of nan says so in its own words)
        return e

    def _Attribute(self, node, depth, col, end):
        if node.attr.startswith("_"):
            raise self.error(f"attribute .{node.attr} is not allowed", node)
        if _dotted(node.value) in MODULES and node.attr in CONSTANTS:       # np.pi
            return Syn("name", col, end, node.attr)
        if _dotted(node.value) in MODULES and node.attr in NOT_FINITE:      # np.nan
            raise self._not_finite(f"{_dotted(node.value)}.{node.attr}", node)
        if node.attr != "T":
            raise self.error(f"unknown attribute .{node.attr}", node, hint="the only attribute is .T, the transpose")
        return Syn("T", col, end, None, (self.walk(node.value, depth),))

    def _function(self, node, depth) -> tuple[str, Syn | None]:
        """(the function's name, the array a method is called on, or None): exp(x), np.exp(x), x.sum()."""
        func = node.func
        if isinstance(func, ast.Name):
            self.walk(func, depth)                                           # (names with '__' are refused)
            return func.id, None
        if isinstance(func, ast.Attribute) and not func.attr.startswith("_"):
            module = _dotted(func.value)
            if module in MODULES:                                            # np.exp, np.linalg.inv
                qualified = f"{module}.{func.attr}"                          # (scipy.linalg.qr: SciPy's defaults)
                return (qualified if qualified in FUNCTIONS else func.attr), None
            self._foreign(module, func)
            receiver = self.walk(func.value, depth)                          # (its errors first: they come first)
            if func.attr in METHODS:                                         # x.sum(axis=0), A.dot(B)
                return METHODS[func.attr], receiver
            import difflib

            close = difflib.get_close_matches(func.attr, list(METHODS), n=1, cutoff=0.7)
            raise self.error(f"arrays have no method .{func.attr}() in mcalc", func, cls=UnknownNameError,
                             hint=f"did you mean .{close[0]}()?" if close else
                             "methods: " + ", ".join(f".{m}()" for m in sorted(METHODS)))
        raise self.error("only the functions of the language can be called", node,
                         hint="run 'mcalc ops' for the list")

    def _foreign(self, module: str | None, func) -> None:
        """torch.exp, math.exp, np.lnalg.inv: a module mcalc does not read (or a misspelt one), said as such."""
        if module is None:
            return
        head = module.split(".")[0]
        within = sorted(m for m in MODULES if m.endswith("." + module) and m.count(".") == 1)
        if within and func.attr not in METHODS:           # linalg.norm(x): numpy's submodule without np.
            raise self.error(f"unknown module '{module}'", func, cls=UnknownNameError,
                             hint=f"write {'np.' + module if 'np.' + module in within else within[-1]}.{func.attr}(...)")
        if head in FOREIGN:
            raise self.error(f"mcalc does not read the module '{head}' ({FOREIGN[head]}), only numpy's, SciPy's and "
                             "JAX's spellings", func, cls=UnknownNameError,
                             hint=f"write {func.attr}(...) or np.{func.attr}(...)")
        if "." in module and head in {m.split(".")[0] for m in MODULES}:
            import difflib

            close = difflib.get_close_matches(module, sorted(MODULES), n=1, cutoff=0.8)
            raise self.error(f"unknown module '{module}'", func, cls=UnknownNameError,
                             hint=f"did you mean '{close[0]}'?" if close else "modules: " + ", ".join(sorted(MODULES)))

    def _unknown(self, name: str, node):
        """A function the language lacks: a numpy function said to be one, a typo corrected (never to a function
        of another meaning: expm is not exp)."""
        import builtins

        if name in vars(builtins) and name not in VOCABULARY:
            return self.error(f"'{name}' is Python's, not a function of the language", node,
                              hint="run 'mcalc ops' for the functions it has")
        if name in VOCABULARY:
            return self.error(f"'{name}' is a numpy function that mcalc does not have", node, cls=UnknownNameError,
                              hint="run 'mcalc ops' for the functions it has")
        import difflib

        close = difflib.get_close_matches(name, [f for f in FUNCTIONS if f not in VOCABULARY], n=1, cutoff=0.65)
        return self.error(f"unknown function '{name}'", node, cls=UnknownNameError,
                          hint=f"did you mean '{close[0]}'?" if close else "run 'mcalc ops' for the list")

    def _Call(self, node, depth, col, end):
        name, receiver = self._function(node, depth)
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise self._unknown(name, node.func)
        if fn.if_none:                                    # np.clip(x, None, hi): the function without that operand
            given = ([None] if receiver is not None else []) + list(node.args)
            if receiver is not None and len(given) < fn.operands and not node.keywords:   # x.clip(lo): numpy's
                given += [ast.Constant(value=None)] * (fn.operands - len(given))          # method's max is None
            missing = [i for i in fn.if_none if i < len(given) and isinstance(given[i], ast.Constant)
                       and given[i].value is None]
            if len(missing) > 1:
                raise self.error(f"{name}() needs at least one bound that is not None", node)
            if missing:
                kept = [a for k, a in enumerate(given) if k != missing[0]]
                func = ast.copy_location(ast.Name(id=fn.if_none[missing[0]], ctx=ast.Load()), node.func)
                call = ast.copy_location(ast.Call(func=func, args=kept if receiver is None else kept[1:],
                                                  keywords=node.keywords), node)
                if receiver is not None:                  # x.clip(None, hi): the receiver first
                    call.args = [node.func.value] + call.args
                return self._Call(call, depth, col, end)
        args = [] if receiver is None else [receiver]
        count = None
        positional = list(node.args)
        listed = positional and isinstance(positional[0], (ast.List, ast.Tuple)) and positional[0].elts
        if fn.sequence and listed:                        # concatenate([a, b], 0): the list holds the operands
            args = [self.walk(e, depth) for e in positional.pop(0).elts]
            count = len(args)
        elif fn.sequence is True:                         # (hstack(A, B): mcalc's closed forms' spelling too)
            raise self.error(f"{name}() takes the arrays as one list, as numpy does: {name}([a, b])", node)
        for a in positional:
            if isinstance(a, ast.Starred):
                raise self.error("'*' unpacking is not part of the language", a)
            operand = count is None and fn.operand_at(len(args))
            args.append(self.walk(a, depth) if operand else self.parameter(a, depth))
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error("'**' unpacking is not part of the language", kw.value)
            if kw.arg in kwargs:                          # (Python refuses it when compiling, not when parsing)
                raise self.error(f"{name}() got the keyword '{kw.arg}' twice", kw.value)
            if kw.arg not in fn.kwargs:
                allowed = ", ".join(fn.kwargs) or "none"
                raise self.error(f"{name}() has no keyword '{kw.arg}' (keywords: {allowed})", kw.value)
            kwargs[kw.arg] = self.walk(kw.value, depth) if kw.arg in fn.operand_kw else self.parameter(kw.value, depth)
        lo, hi = fn.nargs
        if count is not None:
            if len(args) - count > len(fn.literals):
                raise self.error(f"{name}() takes a list and at most {len(fn.literals)} more argument(s)", node)
        elif not (lo <= len(args) + len(kwargs) and len(args) <= hi):
            own = 1 if receiver is not None else 0            # (a method's count leaves out the array it is on,
            lo -= own + (len(fn.if_none) - 1 if own and fn.if_none else 0)   # and x.clip(lo) leaves out max)
            hi, got = hi - own, len(args) - own
            want = "no" if hi == 0 else str(lo) if lo == hi else f"{lo} or more" if hi >= 900 else f"{lo} to {hi}"
            called = f".{ast.unparse(node.func).rsplit('.', 1)[1]}()" if own else f"{name}()"
            raise self.error(f"{called} takes {want} argument{'s' * (not lo == hi == 1)}, got {got}", node)
        elif fn.operands > 0 and sum(map(fn.operand_at, range(len(args)))) < fn.operands:
            # (a keyword is never an array argument: take_along_axis(x, axis=0), polygamma(1))
            lead = f" after {fn.lead} parameter{'s' * (fn.lead > 1)}" if fn.lead else ""
            raise self.error(f"{name}() takes {fn.operands} array argument{'s' * (fn.operands > 1)}{lead}, got "
                             f"{max(0, len(args) - fn.lead)}", node)
        return Syn("call", col, end, name, tuple(args), kwargs, operands=count)

    def parameter(self, node, depth) -> Syn:
        """A function's parameter: a number, a string, True/False, None, inf (np.inf), np.newaxis, or a tuple of
        them; other expressions are walked as values (and refused by the builder)."""
        col, end = self._span(node)
        if isinstance(node, (ast.Tuple, ast.List)) and all(not isinstance(e, ast.Starred) for e in node.elts) and \
                (isinstance(node, ast.Tuple) or all(_literal_node(e) for e in node.elts)):
            return Syn("tuple", col, end, None, tuple(self.parameter(e, depth + 1) for e in node.elts))
        if isinstance(node, ast.Constant) and (isinstance(node.value, (bool, str)) or node.value is None):
            return Syn("lit", col, end, node.value)
        named = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) and \
            _dotted(node.value) in MODULES else None
        if named in LITERALS:
            return Syn("lit", col, end, LITERALS[named])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return Syn("neg", col, end, None, (self.parameter(node.operand, depth + 1),))
        return self.walk(node, depth)

    def _Subscript(self, node, depth, col, end):
        value = self.walk(node.value, depth)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        key = tuple(self._index_part(p) for p in parts)
        return Syn("index", col, end, key, (value,))

    def _index_part(self, p):
        if isinstance(p, ast.Slice):
            return slice(*(self._int_literal(x) if x is not None else None for x in (p.lower, p.upper, p.step)))
        if isinstance(p, ast.Constant) and p.value is None or isinstance(p, ast.Attribute) and \
                p.attr == "newaxis" and _dotted(p.value) in MODULES:
            return None                                           # x[:, None]: a new axis of size 1
        if isinstance(p, ast.List):                               # x[[0, 2]], x[[True, False, True]]
            if not p.elts:
                raise self.error("an empty index list selects nothing", p)
            if all(isinstance(e, ast.Constant) and isinstance(e.value, bool) for e in p.elts):
                return tuple(bool(e.value) for e in p.elts)
            return tuple(self._int_literal(e) for e in p.elts)
        return self._int_literal(p)

    def _int_literal(self, p) -> int:
        sign = 1
        if isinstance(p, ast.UnaryOp) and isinstance(p.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(p.op, ast.USub) else 1
            p = p.operand
        if isinstance(p, ast.Constant) and isinstance(p.value, int) and not isinstance(p.value, bool):
            return sign * p.value
        raise self.error("indices must be integer literals, slices like 1:3, lists of them, True/False masks or "
                         "None", p, hint="indexing is 0-based, as in numpy: x[0], A[1, 0], A[:, [2, 0]], x[:, None]")

    def _List(self, node, depth, col, end):
        if not node.elts:
            raise self.error("an empty list is not a value", node)
        return Syn("list", col, end, None, tuple(self.walk(e, depth) for e in node.elts))
