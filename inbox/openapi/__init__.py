"""The OpenAPI document, kept as one JSON file per area (core.json, then the others in name order)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def document() -> dict:
    """The whole document: core.json with every other file's tags, paths and components merged in."""
    whole = json.loads((HERE / "core.json").read_text())
    for part in sorted(HERE.glob("*.json")):
        if part.name == "core.json":
            continue
        fragment = json.loads(part.read_text())
        whole["tags"].extend(fragment.get("tags", []))
        for path, operations in fragment.get("paths", {}).items():
            whole["paths"].setdefault(path, {}).update(operations)
        for section, entries in fragment.get("components", {}).items():
            clashes = set(entries) & set(whole["components"].setdefault(section, {}))
            if clashes:
                raise ValueError(f"{part.name} redefines components {sorted(clashes)}")
            whole["components"][section].update(entries)
    return whole
