"""The imported config as YAML: commented, one flow mapping per node, as a person would write it."""

from __future__ import annotations

from pathlib import Path


def write_config(config: dict, source: Path) -> str:
    """The imported config as commented YAML, one flow mapping per node."""
    import yaml

    class Flow(dict):
        pass

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))

    def flow_nodes(graph: dict) -> dict:
        graph = dict(graph)
        graph["layers"] = [Flow(node) for node in graph["layers"]]
        if isinstance(graph.get("inputs"), dict):
            graph["inputs"] = {k: Flow(v) for k, v in graph["inputs"].items()}
        return graph

    data = dict(config)
    if "blocks" in data:
        data["blocks"] = {name: flow_nodes(block) for name, block in data["blocks"].items()}
    data["model"] = flow_nodes(data["model"])
    body = yaml.dump(data, Dumper=Dumper, sort_keys=False, width=120, allow_unicode=True)
    header = (
        f"# Imported from {source.name} by `kerascli import`: the architecture only (weights are not carried over).\n"
        "# Add data:, compile: and fit: sections to train it. For editor completion, add a first line\n"
        "# `# yaml-language-server: $schema=<path to kerascli.schema.json>` (`kerascli schema -o ...` writes one).\n"
    )
    return header + body
