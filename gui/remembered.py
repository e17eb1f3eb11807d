"""What the monitor remembers between sessions: recent files and each graph's inputs."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 8


class Remembered:
    """Reads and writes the user's settings (a `QSettings`; tests give a file of their own)."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def recent_files(self) -> list[str]:
        """Newest first."""
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def remember_file(self, path: Path) -> None:
        recent = [str(path), *(p for p in self.recent_files() if p != str(path))]
        self.settings.setValue("recent", recent[:MAX_RECENT])

    def last_dir(self) -> Path:
        """Where to start looking for a file: beside the last one opened."""
        recent = self.recent_files()
        return Path(recent[0]).parent if recent else Path.cwd()

    def inputs(self, file: Path | None, graph: str) -> dict[str, str]:
        """The input texts last run with this graph of this file ({} if none, or if the
        settings were edited by hand into something else)."""
        remembered = self.settings.value(_inputs_key(file, graph), "")
        if remembered:
            with contextlib.suppress(TypeError, ValueError):
                texts = json.loads(remembered)
                if isinstance(texts, dict):
                    return {str(name): str(text) for name, text in texts.items()}
        return {}

    def remember_inputs(self, file: Path | None, graph: str, texts: dict[str, str]) -> None:
        self.settings.setValue(_inputs_key(file, graph), json.dumps(texts))


def _inputs_key(file: Path | None, graph: str) -> str:
    return f"inputs/{file}/{graph}"
