"""YAML → a checked spec, without Keras: positions, `--set`, the Pydantic spec, the checks, the catalogue, the schema.

    document.py   YAML with a line and column for every key (`Document`, `parse`)
    overrides.py  `--set KEY=VALUE`
    loading.py    a config file → `Document` (read, parse, overrides)
    spec/         the Pydantic models of the config
    checks/       Keras-free checks: names, graph, safety
    graph.py      node references, build order and cycles (shared with the model builder)
    blocks.py     block parameters, inputs and instances
    catalog.py    the catalogue reader (Keras names and arguments, from catalog.json)
    schema.py     the JSON Schema
    tables.py     small tables several stages share

Nothing in this package imports Keras, by any path (a test enforces it).
"""

from kerascli.config.document import Document, Key, format_key, parse
from kerascli.config.loading import load
from kerascli.config.overrides import apply_override, parse_override

__all__ = ["Document", "Key", "format_key", "parse", "load", "apply_override", "parse_override"]
