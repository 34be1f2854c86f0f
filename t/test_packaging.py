"""The installed package must hold every module and the shipped files."""

from __future__ import annotations

import configparser

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
