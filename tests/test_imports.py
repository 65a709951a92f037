"""The package's internal imports form no cycle: each module can be read, and loaded, after the ones it uses."""

import ast
from pathlib import Path

import mcalc

PACKAGE = Path(mcalc.__file__).parent


def module_names() -> set[str]:
    """Every module of the package by its dotted name below mcalc: 'expr', 'ops' (a sub-package), 'ops.core'."""
    names = set()
    for p in PACKAGE.rglob("*.py"):
        parts = list(p.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        names.add(".".join(parts))
    return names


def internal_imports(source: str, modules: set[str], package: str = "") -> set[str]:
    """The package's modules a module's source imports, anywhere in it (inside functions too): `from .x import`,
    `from . import x`, `from ..x import` (in a sub-package), `import mcalc.x`, `from mcalc.x import`,
    `from mcalc import x`.  package: the sub-package the module is in ('' for the top).  A name that is not a
    module (`from . import __version__`) is an import of its package's __init__."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and not (node.module or "").startswith("mcalc"):
                continue
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
            else:
                base = []
            rest = (node.module or "").split(".")[0 if node.level else 1:]
            target = ".".join(b for b in base + rest if b)
            for a in node.names:
                sub = f"{target}.{a.name}" if target else a.name
                found.add(sub if sub in modules else target or "__init__")
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("mcalc.")}
    return {_owner(m, modules) for m in found} & modules


def _owner(name: str, modules: set[str]) -> str:
    """The module a dotted name lives in (ops.maps.eye → ops.maps)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph = {}
    for m in modules:
        path = PACKAGE / (m.replace(".", "/") + ".py")
        package = m.rsplit(".", 1)[0] if "." in m else ""
        if not path.exists():                                   # a sub-package: its __init__.py
            path, package = PACKAGE / m.replace(".", "/") / "__init__.py", m
        graph[m] = internal_imports(path.read_text(), modules, package) - {m}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a path [a, b, ..., a], or None."""
    state, path = {}, []             # state: 1 on the current path, 2 done

    def visit(m):
        state[m] = 1
        path.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        state[m] = 2
        path.pop()
        return None

    return next((c for m in sorted(graph) if m not in state and (c := visit(m))), None)


def test_the_edge_finder_sees_every_kind_of_import():
    modules = {"a", "b", "c", "d", "e", "__init__"}
    source = ("from .a import x\nfrom . import b, __version__\nimport mcalc.c\n"
              "def f():\n    from mcalc.d import y\n    from mcalc import e\nimport numpy\nfrom os import path\n")
    assert internal_imports(source, modules) == {"a", "b", "c", "d", "e", "__init__"}
    modules |= {"ops", "ops.core", "ops.maps"}
    source = "from .core import Op\nfrom ..tree import call\nfrom . import maps\nfrom .. import e\n"
    assert internal_imports(source, modules | {"tree"}, "ops") == {"ops.core", "tree", "ops.maps", "e"}


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_package_imports_form_no_cycle():
    graph = import_graph()
    assert "problem" in graph["check"] and "errors" in graph["problem"]      # the graph is really read
    assert "ops.core" in graph["ops.elementwise"] and "tree" in graph["ops.core"]     # sub-packages too
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph))
