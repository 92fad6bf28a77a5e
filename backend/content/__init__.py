"""The content layer: every file of content/ read and validated the same way, at start-up.

`FILE_KINDS` lists each kind of file with the typed model that validates it; `load_all` reads
them all and raises one `ContentFileError` listing every problem (file, item, field), so a broken
file stops `create_app` instead of failing a request. The validated files live in the app
(`app.extensions["content"]`) and, for the code that runs outside a request (the engines, the
dispatcher), in this module's `loaded()` registry filled by the same start-up call.
"""

from __future__ import annotations

from backend.content.files import (
    CONTENT_DIR,
    FILE_KINDS,
    FileKind,
    LoadedContent,
    activate,
    check,
    content_dir,
    fill,
    init_app,
    load_all,
    load_kinds,
    loaded,
    parse,
    raw,
    typed,
    validated,
    value,
    write_schemas,
)
from backend.content.yamlfile import ContentFileError, load_yaml

__all__ = [
    "CONTENT_DIR",
    "FILE_KINDS",
    "ContentFileError",
    "FileKind",
    "LoadedContent",
    "activate",
    "check",
    "content_dir",
    "fill",
    "init_app",
    "load_all",
    "load_kinds",
    "load_yaml",
    "loaded",
    "parse",
    "raw",
    "typed",
    "validated",
    "value",
    "write_schemas",
]
