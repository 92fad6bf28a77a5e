"""Break a content file in memory: the real texts with one edit, built by its builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest


def real_texts(directory: str | Path) -> dict[str, str]:
    """Every YAML file of a content directory, by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(directory).glob("*.yaml"))}


def broken(
    build: Callable[[Mapping[str, str]], Any],
    directory: str | Path,
    file: str,
    old: str,
    new: str,
    error: type[Exception],
) -> str:
    """The message `build` raises when `old` becomes `new` in `file` (the edit must apply)."""
    texts = real_texts(directory)
    assert old in texts[file], old
    texts[file] = texts[file].replace(old, new, 1)
    with pytest.raises(error) as caught:
        build(texts)
    return str(caught.value)
