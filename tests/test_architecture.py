"""The house rules, checked: YAML → spec → Keras → run, one way Keras is imported, no import cycles.

Every `import` statement counts, those inside functions too: a lazy import
that only hides a cycle is still a cycle.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "kerascli"
# Stages, lowest first; a module may import its own stage and those below, never above.
# `model` and `data` are siblings: neither imports the other (`run` joins them).
STAGES = {"config": 0, "introspection": 1, "engine": 2, "model": 3, "data": 3, "run": 4, "cli": 5}
# Modules every stage may use: the exception tree and atomic files.
SHARED = {"kerascli", "kerascli.errors", "kerascli.atomic"}
KERAS_IMPORTER = "kerascli.engine.keras_import"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The kerascli modules `name` imports anywhere in its body (`from pkg import mod` counts as `pkg.mod`)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kerascli")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kerascli"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
    return {m for m in found if m in MODULES and m != name}


def stage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_lower_stage_never_imports_a_higher_one(name):
    own = stage(name)
    for target in imports_of(name):
        if target in SHARED or own is None:
            continue
        other = stage(target)
        assert other is not None, f"{name} imports {target}, which belongs to no stage"
        if other == own:
            continue
        assert STAGES[other] < STAGES[own], (
            f"{name} ({own}) imports {target} ({other}): a stage only imports lower ones"
        )


def test_no_import_cycles():
    graph = {name: imports_of(name) - {p for p in _parents(name)} for name in MODULES}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def test_only_the_engine_imports_keras():
    """`import keras` happens in `engine/keras_import.py` alone; Keras internals are reached from engine/introspection only."""
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for imported in names:
                if imported == "keras":
                    assert name == KERAS_IMPORTER, f"{name} imports keras itself: use engine.keras_import.load_keras()"
                elif imported.startswith("keras."):
                    assert stage(name) in ("engine", "introspection"), (
                        f"{name} reaches into Keras internals ({imported})"
                    )


def test_no_config_module_reaches_keras():
    config_modules = sorted(m for m in MODULES if stage(m) == "config")
    code = (
        "import importlib, sys\n"
        f"for name in {config_modules!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'jax', 'torch', 'tensorflow', 'numpy'))\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
