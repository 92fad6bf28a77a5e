"""Read a content YAML file the one way: keys written once, and one error for a broken file.

YAML silently keeps the last of two equal keys in a mapping; an editor who writes a key twice
almost always meant something else, so the loader refuses it (keys merged in by `<<: *base` may
be overridden on purpose). Every loader of content/ raises `ContentFileError` (or a subclass
kept for its domain's name), whose lines each name the file, the item and the field.
"""

from __future__ import annotations

from typing import Any

import yaml


class ContentFileError(ValueError):
    """A content file is broken; each line names the file, the item and the field."""

    def __init__(self, lines: list[str] | str) -> None:
        lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(lines))
        self.lines = lines

    @property
    def problems(self) -> list[str]:
        """The same lines (the name the domain loaders used)."""
        return self.lines


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (YAML keeps the last silently)."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """Build a mapping, refusing a key written twice (except keys merged by `<<`)."""
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *base` brings keys that the mapping may override on purpose
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str) -> Any:
    """The data of one YAML document; yaml.YAMLError (with its line) for bad YAML or a key twice."""
    return yaml.load(text, Loader=UniqueKeyLoader)


def yaml_problem(label: str, exc: yaml.YAMLError) -> str:
    """The one-line message of a file that is not YAML (or writes a key twice)."""
    return f"{label}: YAML syntax error: {' '.join(str(exc).split())}"
