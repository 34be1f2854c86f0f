"""The page templates of share/templates: read once, when create_app builds the application."""

from __future__ import annotations

from pathlib import Path
from string import Template


class Templates:
    """`string.Template`s by file name (`app.html`, `file.html`); the values are escaped by the caller."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._items = {path.name: Template(path.read_text("utf-8")) for path in sorted(directory.glob("*.html"))}

    def __getitem__(self, name: str) -> Template:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"No template {name} in {self.directory}") from None
