"""Lists the modules and functions of kerascli/ that are longer than the house style asks.

STYLE.md: small modules with one concern (about 350 lines at most) and
functions short enough to read at once (about 60 lines at most). This is a
check to read, not a test: it prints what is over and exits 0.

    python tools/size_report.py [--module-lines 350] [--function-lines 60] [PACKAGE_DIR]

A function's length runs from its `def` line (decorators excluded) to its
last line, nested functions included; methods are named `Class.method` and
nested functions `outer.inner`.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def long_functions(tree: ast.AST, limit: int) -> list[tuple[str, int, int]]:
    """The functions and methods in `tree` longer than `limit` lines.

    Args:
        tree: a parsed module.
        limit: the most lines a function may have.

    Returns:
        `(qualified name, first line, length)` for each, in source order.
    """
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                length = child.end_lineno - child.lineno + 1
                if length > limit:
                    found.append((name, child.lineno, length))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def report(package: Path, module_limit: int, function_limit: int) -> list[str]:
    """The report's lines: modules over `module_limit` lines, then functions over `function_limit`.

    Args:
        package: the package directory to scan.
        module_limit: the most lines a module may have.
        function_limit: the most lines a function may have.

    Returns:
        One line per finding, paths relative to the package's parent.
    """
    modules, functions = [], []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        shown = path.relative_to(package.parent)
        lines = len(text.splitlines())
        if lines > module_limit:
            modules.append(f"  {shown}: {lines} lines")
        for name, line, length in long_functions(ast.parse(text, str(path)), function_limit):
            functions.append(f"  {shown}:{line}: {name}: {length} lines")
    out = [f"modules over {module_limit} lines: {len(modules)}", *modules]
    out += [f"functions over {function_limit} lines: {len(functions)}", *functions]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", type=Path, default=REPO / "kerascli", help="package directory")
    parser.add_argument("--module-lines", type=int, default=350, help="most lines a module may have")
    parser.add_argument("--function-lines", type=int, default=60, help="most lines a function may have")
    args = parser.parse_args()
    print("\n".join(report(args.package.resolve(), args.module_lines, args.function_lines)))


if __name__ == "__main__":
    main()
