"""The hint for a custom layer named without its `--plugin`: which module registered it before.

A config that uses a custom layer trains with `--plugin mypkg.layers`; the
run records the module and the names it registered (`run.json["plugins"]`).
Validating the config again without `--plugin` would say `unknown layer
'Residual' (did you mean 'Rescaling'?)`; with this hint it says which module
to pass instead. Keras-free: it reads the config's earlier `run.json` files.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from kerascli.config.document import Document
from kerascli.errors import Problem

_UNKNOWN = re.compile(r"^unknown layer '([^']+)'")


def recorded_plugins(doc: Document) -> dict[str, tuple[str, str]]:
    """Name → (module, run directory) for every name a plugin registered in this config's runs."""
    data = doc.data if isinstance(doc.data, dict) else {}
    output = data.get("output") if isinstance(data.get("output"), dict) else {}
    name = data.get("name") if isinstance(data.get("name"), str) else doc.path.stem
    base = Path(output.get("dir") if isinstance(output.get("dir"), str) else "runs") / name
    found: dict[str, tuple[str, str]] = {}
    for run_json in sorted(base.glob("*/run.json")) if base.is_dir() else []:
        try:
            plugins = json.loads(run_json.read_text(encoding="utf-8")).get("plugins") or {}
        except (OSError, ValueError):
            continue
        for module, names in plugins.items() if isinstance(plugins, dict) else []:
            for registered in names if isinstance(names, list) else []:
                for alias in {str(registered), str(registered).split(">")[-1]}:
                    found[alias] = (module, str(run_json.parent))
    return found


def with_plugin_hints(problems: list[Problem], doc: Document) -> list[Problem]:
    """`problems`, with unknown layers that an earlier run's plugin registered explained."""
    unknown = [p for p in problems if _UNKNOWN.match(p.message)]
    if not unknown:
        return problems
    plugins = recorded_plugins(doc)
    out = []
    for problem in problems:
        match = _UNKNOWN.match(problem.message)
        if match and match.group(1) in plugins:
            module, run = plugins[match.group(1)]
            message = (
                f"unknown layer '{match.group(1)}': it is registered by the plugin module '{module}' "
                f"that {run} was trained with; pass --plugin {module}"
            )
            problem = dataclasses.replace(problem, message=message)
        out.append(problem)
    return out
