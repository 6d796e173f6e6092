"""YAML loading that refuses alias bombs.

``yaml.safe_load`` shares an anchored node between its aliases, so a 591-byte document of
nested aliases ("billion laughs") loads quickly but stands for billions of values; whatever
walks the result as a tree (our clean-up, JSON encoding, validation) then runs for minutes
and gigabytes. Here the composed node graph is measured as the tree it expands to, in time
linear in the document, and refused above a limit before anything is constructed.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_EXPANDED_NODES = 200_000
"""Far above any real campaign or fleet file (one node per scalar, list and mapping)."""


class YamlTooLargeError(ValueError):
    """The document expands (through aliases) to more values than MAX_EXPANDED_NODES."""


def _expanded_size(root: yaml.Node, limit: int) -> int:
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise YamlTooLargeError("an alias refers to a node that contains it (recursive)")
        in_progress.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        if total > limit:
            raise YamlTooLargeError(
                f"expands to more than {limit} values through aliases (an alias bomb?)"
            )
        in_progress.discard(key)
        sizes[key] = total
        return total

    return size(root)


def load(text: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """Like ``yaml.load(text, loader)`` for a safe loader, but bounded.

    Raises YamlTooLargeError for documents that expand too far or nest too deeply, and
    yaml.YAMLError for invalid YAML.
    """
    parser = loader(text)
    try:
        try:
            node = parser.get_single_node()
            if node is None:
                return None
            _expanded_size(node, MAX_EXPANDED_NODES)
            return parser.construct_document(node)
        except RecursionError:
            raise YamlTooLargeError("nested too deeply") from None
    finally:
        parser.dispose()
