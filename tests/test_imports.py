"""The package's internal imports form no cycle: each module can be read, and loaded, after the ones it uses."""

import ast
from pathlib import Path

import mcalc

PACKAGE = Path(mcalc.__file__).parent


def module_names() -> set[str]:
    return {p.stem for p in PACKAGE.glob("*.py")}


def internal_imports(source: str, modules: set[str]) -> set[str]:
    """The package's modules a module's source imports, anywhere in it (inside functions too): `from .x import`,
    `from . import x`, `import mcalc.x`, `from mcalc.x import`, `from mcalc import x`.  A name that is not a module
    (`from . import __version__`) is an import of the package's __init__."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and not (node.module or "").startswith("mcalc"):
                continue
            parts = (node.module or "").split(".")[0 if node.level else 1:]
            if parts and parts[0]:
                found.add(parts[0])
            else:
                found |= {a.name if a.name in modules else "__init__" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("mcalc.")}
    return found & modules


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {m: internal_imports((PACKAGE / f"{m}.py").read_text(), modules) - {m} for m in modules}


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


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_package_imports_form_no_cycle():
    graph = import_graph()
    assert "problem" in graph["check"] and "errors" in graph["problem"]      # the graph is really read
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph))
