"""Where the shipped files (share/) are, in a checkout and when installed."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path


def share_dir() -> Path:
    here = Path(__file__).resolve().parent
    candidates = [
        here.parent / "share",  # a checkout or an editable install
        here / "share",  # packaged next to the code
        Path(sysconfig.get_path("data")) / "share" / "convos",
        Path(sys.prefix) / "share" / "convos",
    ]
    for path in candidates:
        if (path / "convos-api.json").is_file():
            return path
    raise FileNotFoundError("Cannot find convos' share/ directory (convos-api.json).")
