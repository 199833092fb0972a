"""`validate`: a config parsed and checked without importing Keras."""

from __future__ import annotations

import dataclasses
import os

from kerascli.config import checks, document, spec
from kerascli.config.loading import load
from kerascli.config.space.fit import space_problems
from kerascli.errors import ConfigError, Problem


@dataclasses.dataclass
class Checked:
    """A config that passed every Keras-free check.

    Args:
        doc: the parsed YAML with positions (overrides applied).
        cfg: the validated spec.
        warnings: what is legal but probably a mistake, as `Problem`s.
    """

    doc: document.Document
    cfg: spec.Config
    warnings: list[Problem]


def validate(path: str | os.PathLike, overrides: list[str] = ()) -> Checked:
    """Parses and checks a config without importing Keras.

    Returns:
        The `Checked` config with its warnings (the caller shows them).

    Raises:
        ConfigError: every problem found, each with its line and column.
    """
    doc = load(path, overrides)
    warnings: list[Problem] = []
    problems = checks.check(doc, warnings=warnings)
    if problems:
        from kerascli.run.plugin_hints import with_plugin_hints

        problems = with_plugin_hints(problems, doc)
    try:
        cfg = spec.from_document(doc)
    except ConfigError as exc:
        raise ConfigError(_dedupe(exc.problems + problems)) from None
    if problems:
        raise ConfigError(_dedupe(problems))
    problems = space_problems(doc)  # a tune: section, checked against the config it tunes
    if problems:
        raise ConfigError(problems)
    return Checked(doc, cfg, [dataclasses.replace(w, message=f"warning: {w.message}") for w in warnings])


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if (p.line, p.col, p.path, p.message) not in seen:
            seen.add((p.line, p.col, p.path, p.message))
            out.append(p)
    return out
