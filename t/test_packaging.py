"""The installed package must hold every module and the shipped files."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_setup_cfg_lists_every_package():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = {p.strip() for p in cfg["options"]["packages"].split() if p.strip()}
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "convos").rglob("__init__.py")}
    assert found - listed == set(), "add these to [options] packages in setup.cfg"
    assert "convos.share" in listed


def test_share_has_the_api_document():
    from convos.paths import share_dir

    assert (share_dir() / "convos-api.json").is_file()
    assert (share_dir() / "templates" / "app.html").is_file()


def test_a_built_package_holds_every_module_and_finds_its_share(tmp_path: Path) -> None:
    """Build as an install does (setuptools, from a copy of the checkout), then import from the build:
    every package is there (the bot and link previews beside web/ too) and share/ is found inside it."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "convos", src / "convos", ignore=ignore)
    shutil.copytree(ROOT / "share", src / "share", ignore=ignore)
    build = tmp_path / "build"
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build", "--build-base",
                    str(build)], cwd=src, check=True, capture_output=True, timeout=120)
    lib = build / "lib"
    built = {".".join(p.parent.relative_to(lib).parts) for p in lib.rglob("__init__.py")}
    expected = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "convos").rglob("__init__.py")}
    assert expected <= built
    probe = ("import convos.bot, convos.cli, convos.embed, convos.web.app, convos.paths; "
             "print(convos.paths.share_dir())")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(lib)}, timeout=60)
    share = Path(out.stdout.strip())
    assert share == lib / "convos" / "share"
    assert (share / "convos-api.json").is_file() and (share / "public" / "js" / "app.js").is_file()
