"""Every text the browser app looks up with t("...") is a msgid of share/i18n/en.po (docs/i18n.md),
so a new UI string cannot be forgotten by the translators."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import ROOT

from convos.web.po import parse_po

JS = ROOT / "share" / "public" / "js"
# t("...") or t('...') with escapes; the text is a JS string literal.
LITERAL = re.compile(r"""\bt\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')""")
TEMPLATE = re.compile(r"\bt\(\s*`")


def code_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a module that are not whole-line comments (those quote t("...") as examples)."""
    return [(n, line) for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
            if not line.strip().startswith(("//", "/*", "*"))]


def js_string(body: str, quote: str) -> str:
    if quote == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    return str(json.loads(f'"{body}"'))


def ui_msgids() -> dict[str, str]:
    """msgid -> where it is first used."""
    found: dict[str, str] = {}
    for path in sorted(JS.rglob("*.js")):
        for n, line in code_lines(path):
            for m in LITERAL.finditer(line):
                text = js_string(m.group(1), '"') if m.group(1) is not None else js_string(m.group(2), "'")
                found.setdefault(text, f"{path.relative_to(ROOT)}:{n}")
    return found


def test_every_ui_string_is_in_en_po() -> None:
    used = ui_msgids()
    assert len(used) > 200, "the extraction found too little; did the t() pattern change?"
    assert "Account settings" in used and "Send the text with ¯\\_(ツ)_/¯." in used
    known = set(parse_po((ROOT / "share" / "i18n" / "en.po").read_text("utf-8")).messages)
    missing = {text: where for text, where in used.items() if text not in known}
    assert missing == {}, "add these to share/i18n/en.po and every other language file: " + json.dumps(
        missing, indent=1, ensure_ascii=False)


def test_no_template_literals_in_t() -> None:
    # t(`...${x}`) cannot be looked up: put the values in with %1, %2.
    bad = [f"{path.relative_to(ROOT)}:{n}" for path in sorted(JS.rglob("*.js"))
           for n, line in code_lines(path) if TEMPLATE.search(line)]
    assert bad == []

