"""Translations: the .po parser, language negotiation, getDictionary and <html lang> (spec §4.10, fact 89)."""

from __future__ import annotations

import base64
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from convos import __version__
from convos.web.i18n import (
    MAX_CANDIDATES,
    Catalog,
    choose_language,
    cookie_language,
    load_dictionaries,
    parse_language_list,
)
from convos.web.po import MAX_PROBLEMS, parse_header, parse_po

SHIPPED = ROOT / "share" / "i18n"
AVAILABLE = {"en", "es", "it", "no", "ro", "de", "fr"}


# --- the parser ---------------------------------------------------------------------------

TRICKY = r'''# A translator comment
#. An extracted comment
#: src/file.js:12
msgid ""
msgstr ""
"Project-Id-Version: Test 1.0\n"
"PO-Revision-Date: 2020-05-01 12:34+0200\n"
"Language-Team: Testish <lang-tt@convos.chat>\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
"Content-Type: text/plain; charset=UTF-8\n"

msgid "Simple"
msgstr "Enkel"

msgid ""
"Multi "
"line"
msgstr ""
"Flere "
"linjer"

msgid "Quote \" and backslash \\ and tab \t end"
msgstr "Sitat \" og skråstrek \\ og tab \t slutt"

msgid "Two\nlines"
msgstr "To\nlinjer"

msgid "Untranslated"
msgstr ""

#, fuzzy
msgid "Fuzzy"
msgstr "Usikker"

msgctxt "menu"
msgid "File"
msgstr "Fil (meny)"

msgctxt "verb"
msgid "Simple"
msgstr "Not used: the entry without context wins"

msgid "%1 file"
msgid_plural "%1 files"
msgstr[0] "%1 fil"
msgstr[1] "%1 filer"

#~ msgid "Obsolete"
#~ msgstr "Foreldet"
msgid "No blank line before"
msgstr "Ingen tom linje foran"
'''


def test_parser_reads_what_gettext_writes():
    po = parse_po(TRICKY, "tricky.po")
    assert po.problems == []
    assert po.messages == {
        "Simple": "Enkel",
        "Multi line": "Flere linjer",
        'Quote " and backslash \\ and tab \t end': 'Sitat " og skråstrek \\ og tab \t slutt',
        "Two\nlines": "To\nlinjer",
        "File": "Fil (meny)",
        "%1 file": "%1 fil",
        "No blank line before": "Ingen tom linje foran",
    }
    assert "" not in po.messages and "Untranslated" not in po.messages and "Fuzzy" not in po.messages
    assert "Obsolete" not in po.messages


def test_header_becomes_meta():
    po = parse_po(TRICKY)
    assert po.meta == {
        "project_id_version": "Test 1.0",
        "po_revision_date": "2020-05-01T12:34+0200",
        "language_team": "Testish <lang-tt@convos.chat>",
        "plural_forms": "nplurals=2; plural=(n != 1)",
        "content_type": "text/plain; charset=UTF-8",
    }
    assert parse_header("X-Generator: Poedit 3.0;\nnot a header line\n: no key\nPOT-Creation-Date: 2021-01-02 03:04\n") == {
        "x_generator": "Poedit 3.0", "pot_creation_date": "2021-01-02T03:04"}


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("source", ["tricky", *sorted(p.stem for p in SHIPPED.glob("*.po"))])
def test_parser_agrees_with_gnu_msgfmt(source, tmp_path):
    """msgfmt compiles the file, Python's gettext reads the result: an independent reading."""
    import gettext

    path = tmp_path / "x.po" if source == "tricky" else SHIPPED / f"{source}.po"
    if source == "tricky":
        path.write_text(TRICKY, "utf-8")
    subprocess.run(["msgfmt", "-o", str(tmp_path / "x.mo"), str(path)], check=True, capture_output=True)
    with open(tmp_path / "x.mo", "rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    plain: dict[str, str] = {}
    in_context: dict[str, str] = {}
    for key, value in catalog.items():
        if isinstance(key, tuple):  # plural forms: the first one translates the singular msgid
            key = key[0] if key[1] == 0 else ""
        if key:
            context, _, msgid = key.rpartition("\x04")
            (in_context if context else plain).setdefault(msgid, value)
    # An entry with msgctxt is used only when the same msgid has no entry without context.
    expected = {**in_context, **plain}
    assert parse_po(path.read_text("utf-8"), str(path)).messages == expected


@pytest.mark.parametrize(
    ("text", "good"),
    [
        ('msgid "a"\nmsgstr "A"\n\nmsgid "broken\nmsgstr "B"\n\nmsgid "c"\nmsgstr "C"\n', {"a": "A", "c": "C"}),
        ('msgid "a"\nmsgstr "A"\nthis is not po\nmsgid "c"\nmsgstr "C"\n', {"a": "A", "c": "C"}),
        ('msgstr "orphan"\n\nmsgid "c"\nmsgstr "C"\n', {"c": "C"}),
        ('msgid "no translation"\n\nmsgid "c"\nmsgstr "C"\n', {"c": "C"}),
        ('"stray string"\nmsgid "c"\nmsgstr "C"\n', {"c": "C"}),
        ('msgid "a" trailing\nmsgstr "A"\n\nmsgid "c"\nmsgstr "C"\n', {"c": "C"}),
        ('msgid "a"\nmsgstr "A"\nmsgstr "again"\n\nmsgid "c"\nmsgstr "C"\n', {"c": "C"}),
        ('msgid[1] "a"\nmsgstr "A"\n\nmsgid "c"\nmsgstr "C"\n', {"c": "C"}),
        ('msgid "c"\nmsgstr "C"\n\nmsgid "c"\nmsgstr "duplicate"\n', {"c": "C"}),
    ],
)
def test_malformed_entries_are_reported_and_skipped(text, good):
    po = parse_po(text, "bad.po")
    assert po.messages == good
    assert po.problem_count >= 1
    assert all(p.startswith("bad.po:") for p in po.problems)


def test_binary_garbage_never_raises_and_reports_a_bounded_list():
    garbage = bytes(range(256)).decode("latin-1") * 200 + "\n" + "\n".join(f"junk {i}" for i in range(5000))
    po = parse_po(garbage + '\nmsgid "ok"\nmsgstr "OK"\n', "garbage.po")
    assert po.messages == {"ok": "OK"}
    assert po.problem_count > MAX_PROBLEMS
    assert len(po.problems) == MAX_PROBLEMS


def test_long_and_deeply_escaped_strings_parse_linearly():
    # A catastrophic regex would hang here; a linear one is instant.
    evil = 'msgid "' + "\\" * 20001 + '\nmsgstr "x"\n\nmsgid "' + '\\"' * 50000 + '"\nmsgstr "quotes"\n'
    po = parse_po(evil)
    assert po.messages == {'"' * 50000: "quotes"}


# --- the shipped dictionaries ------------------------------------------------------------

def _shipped() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SHIPPED.glob("*.po"))}


def _entries(path: Path) -> list[str]:
    """Every msgid of a file, translated or not (the parser skips untranslated ones)."""
    text = re.sub(r'^msgstr ""\n(?!")', 'msgstr "-"\n', path.read_text("utf-8") + "\n", flags=re.M)
    return [m for m in parse_po(text).messages if m]


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\d", text))


def test_every_shipped_file_parses_cleanly():
    files = _shipped()
    assert set(files) >= AVAILABLE
    for lang, path in files.items():
        po = parse_po(path.read_text("utf-8"), str(path))
        assert po.problems == [], po.problems
        assert po.meta["language"] == lang
        assert re.fullmatch(rf"\S.* <lang-{lang}@convos\.chat>", po.meta["language_team"])


def test_english_is_the_list_of_msgids():
    en = parse_po((SHIPPED / "en.po").read_text("utf-8")).messages
    assert len(en) >= 200
    assert all(msgid == msgstr for msgid, msgstr in en.items())
    # Texts the pages and the API show, which the browser app translates by msgid.
    for msgid in ["Loading...", "Backend is starting", "Try again", "Autocomplete", "Email", "Password",
                  "Log in", "Sign up", "Invalid email or password.", "Need to log in first.", "Send",
                  "Search", "Notifications", "Mark as read", "Jump to first unread", "Topic", "Participants",
                  "Connected", "Connecting", "Disconnected", "Not connected.", "Not active in this room.",
                  "You have a pending invitation.", "Invalid password.", "This channel requires an invitation.",
                  "Highlight keywords", "Theme", "Light", "Dark", "Auto", "Language", "Certificate fingerprint",
                  "On-connect commands", "Wanted state", "Users", "Create invite link", "Connection profiles",
                  "Upload", "Delete file", "Send an action.", "Reconnect to the server."]:
        assert msgid in en, msgid


@pytest.mark.parametrize("lang", sorted(AVAILABLE - {"en"}))
def test_translations_match_english(lang):
    en = parse_po((SHIPPED / "en.po").read_text("utf-8")).messages
    path = SHIPPED / f"{lang}.po"
    translated = parse_po(path.read_text("utf-8")).messages
    extra = set(_entries(path)) - set(en)
    assert not extra, f"{lang}.po has msgids that are not in en.po: {sorted(extra)}"
    missing = set(en) - set(_entries(path))
    assert not missing, f"{lang}.po lacks these msgids of en.po (add them, msgstr may be empty): {sorted(missing)}"
    for msgid, msgstr in translated.items():
        assert _placeholders(msgstr) == _placeholders(msgid), (lang, msgid, msgstr)
    assert translated["Log in"] != "Log in"


def test_the_placeholder_check_can_fail():
    assert _placeholders("%1 was kicked by %2.") != _placeholders("%1 è stato espulso.")
    assert _placeholders("%2 expulsó a %1.") == _placeholders("%1 was kicked by %2.")


# --- negotiation ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("it-ch", "it"),
        ("en;q=0.5,no", "no"),
        ("no-nb,en", "no"),
        ("x,y,z", "en"),
        ("es-MX,es;q=0.8,en-US;q=0.5,en;q=0.3", "es"),
        ("ro-RO", "ro"),
        ("*", "en"),
        ("", "en"),
        ("de;q=0,fr;q=0.1", "fr"),
        ("fr;q=nan,it;q=2,es;q=0.001", "es"),
        ("pt_BR, IT", "it"),
        ("en-GB;q=0.9;foo=bar, no;q=0.95", "no"),
    ],
)
def test_choose_language(header, expected):
    assert choose_language(parse_language_list(header), AVAILABLE) == expected


def test_hostile_language_lists_stay_small():
    many = ",".join(f"x{i}" for i in range(100_000)) + ",it"
    assert len(parse_language_list(many)) <= MAX_CANDIDATES
    assert choose_language(parse_language_list(many), AVAILABLE) == "en"  # "it" is past the cut-off
    assert parse_language_list(";" * 1_000_000) == []
    assert parse_language_list("a" * 1_000_000) == []
    assert len(parse_language_list("it," * 1_000_000)) == MAX_CANDIDATES


def _cookie(data: object, urlsafe: bool = False) -> str:
    raw = json.dumps(data).encode()
    return (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()


def test_cookie_language():
    assert cookie_language(_cookie({"lang": "es", "theme": "dark"})) == "es"
    assert cookie_language(_cookie({"lang": "ro", "x": "\u00ff\u00fe?>"}, urlsafe=True).rstrip("=")) == "ro"
    for bad in [None, "", "%%%", "bm90IGpzb24=", _cookie(["lang"]), _cookie({"lang": 3}), _cookie({"lang": " "}),
                "A" * 10_000, _cookie("it")]:
        assert cookie_language(bad) is None, bad


# --- loading, overrides, defaults ------------------------------------------------------------

def test_home_overrides_and_new_languages(tmp_path, caplog):
    home = tmp_path / "i18n"
    home.mkdir()
    (home / "it.po").write_text('msgid "Log in"\nmsgstr "Entra!"\n\nmsgid "Brand new"\nmsgstr "Nuovo"\n', "utf-8")
    (home / "pt_BR.po").write_text('msgid "Log in"\nmsgstr "Entrar"\n', "utf-8")
    (home / "not a lang.po").write_text('msgid "x"\nmsgstr "y"\n', "utf-8")
    (home / "broken.po").mkdir()  # unreadable as a file
    (home / "el.po").write_bytes('msgid "Log in"\nmsgstr "Entr\xe9e"\n'.encode("latin-1"))
    with caplog.at_level(logging.WARNING, logger="convos.web.i18n"):
        d = load_dictionaries([SHIPPED, home])
    assert d.messages["it"]["Log in"] == "Entra!"
    assert d.messages["it"]["Brand new"] == "Nuovo"
    assert d.messages["it"]["Send"] == "Invia"  # shipped keys stay
    assert d.meta["it"]["language_team"] == "Italiano <lang-it@convos.chat>"
    assert d.messages["pt-br"] == {"Log in": "Entrar"}
    assert d.meta["pt-br"]["language_team"] == "pt-br <pt-br@convos.chat>"
    assert d.messages["el"]["Log in"] == "Entr\ufffde"
    assert "not a lang" not in d.meta
    logged = caplog.text
    assert "not a lang.po" in logged and "broken.po" in logged and "el.po" in logged


def test_defaults_fill_a_missing_header(tmp_path):
    (tmp_path / "xx.po").write_text('msgid "a"\nmsgstr "b"\n', "utf-8")
    meta = load_dictionaries([tmp_path]).meta
    assert meta["xx"]["content_type"] == "text/plain; charset=UTF-8"
    assert meta["xx"]["mime_version"] == "1.0"
    assert meta["xx"]["project_id_version"] == __version__
    assert meta["xx"]["report_msgid_bugs_to"] == "https://github.com/convos-chat/convos/issues"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d[+-]\d{4}", meta["xx"]["po_revision_date"])
    assert meta["xx"]["pot_creation_date"] == meta["xx"]["po_revision_date"]
    assert "en" in meta  # English always exists, even with no en.po


async def test_catalog_loads_once_unless_reloading(tmp_path):
    (tmp_path / "xx.po").write_text('msgid "a"\nmsgstr "1"\n', "utf-8")
    cached, reloading = Catalog([tmp_path]), Catalog([tmp_path], reload=True)
    assert (await cached.dictionaries()).messages["xx"] == {"a": "1"}
    assert (await reloading.dictionaries()).messages["xx"] == {"a": "1"}
    (tmp_path / "xx.po").write_text('msgid "a"\nmsgstr "2"\n', "utf-8")
    (tmp_path / "yy.po").write_text("", "utf-8")
    assert (await cached.dictionaries()).messages["xx"] == {"a": "1"}
    assert cached.languages() == {"en", "xx"}
    assert (await reloading.dictionaries()).messages["xx"] == {"a": "2"}
    assert reloading.languages() == {"en", "xx", "yy"}


# --- GET /api/i18n/{lang} ------------------------------------------------------------------

async def test_get_dictionary(client):
    res = await client.get("/api/i18n/en.json")
    assert res.status == 200
    assert res.headers["Cache-Control"] == "max-age=86400"
    body = await res.json()
    assert set(body["available_languages"]) >= AVAILABLE
    assert body["available_languages"]["en"]["language_team"] == "English <lang-en@convos.chat>"
    for lang, meta in body["available_languages"].items():
        assert re.fullmatch(rf"\S.* <lang-{lang}@convos\.chat>", meta["language_team"]), meta
        assert meta["language"] == lang
    assert body["language_team"] == "English <lang-en@convos.chat>"
    assert body["dictionary"]["Autocomplete"] == "Autocomplete"
    assert "" not in body["dictionary"]
    for key in ("content_type", "mime_version", "project_id_version", "report_msgid_bugs_to",
                "po_revision_date", "pot_creation_date", "plural_forms"):
        assert key in body, key
    assert "T" in body["po_revision_date"]


@pytest.mark.parametrize(
    ("path", "lang"),
    [("it", "it"), ("it-ch", "it"), ("IT-CH.json", "it"), ("no-nb", "no"), ("ro-RO", "ro"), ("xx", "en"),
     ("en%3Bq%3D0.5%2Cno", "no"), ("%2A", "en"), ("de", "de"), ("fr-CA", "fr")],
)
async def test_get_dictionary_negotiates_from_the_path_only(client, path, lang):
    # The answer is cached for a day, so headers and cookies must not change it.
    headers = {"Accept-Language": "es", "Cookie": f"convos_js={_cookie({'lang': 'ro'})}"}
    res = await client.get(f"/api/i18n/{path}", headers=headers)
    assert res.status == 200
    body = await res.json()
    assert body["language"] == lang
    en = (await (await client.get("/api/i18n/en")).json())["dictionary"]
    if lang == "en":
        assert body["dictionary"] == en
    else:
        assert body["dictionary"]["Log in"] != en["Log in"]
        assert set(body["dictionary"]) <= set(en)


async def test_get_dictionary_with_hostile_paths(client):
    for path in ["a" * 5000, "%00", "..%2F..%2Fetc%2Fpasswd", "en%0D%0AX-Evil:1", ",".join(["x"] * 3000),
                 "%F0%9F%92%A9", "%FF"]:
        res = await client.get(f"/api/i18n/{path}")
        assert res.status == 200, path
        assert (await res.json())["language"] == "en", path
        assert "X-Evil" not in res.headers


async def test_home_i18n_overrides_shipped_files(make_client, home):
    (home / "i18n").mkdir(parents=True)
    (home / "i18n" / "es.po").write_text('msgid ""\nmsgstr "Language-Team: Mi equipo <lang-es@convos.chat>\\n"\n\n'
                                         'msgid "Log in"\nmsgstr "Entrar ya"\n', "utf-8")
    (home / "i18n" / "sv.po").write_text('msgid "Log in"\nmsgstr "Logga in"\n', "utf-8")
    (home / "i18n" / "bad.po").write_bytes(b'\x00\xff msgid "Send"\nmsgstr\n"oops\nmsgid "Send"\nmsgstr "Skicka"\n')
    client = await make_client()
    body = await (await client.get("/api/i18n/es")).json()
    assert body["dictionary"]["Log in"] == "Entrar ya"
    assert body["dictionary"]["Send"] == "Enviar"
    assert body["language_team"] == "Mi equipo <lang-es@convos.chat>"
    assert body["available_languages"]["sv"]["language_team"] == "sv <sv@convos.chat>"
    assert (await (await client.get("/api/i18n/sv-FI")).json())["dictionary"] == {"Log in": "Logga in"}
    bad = await (await client.get("/api/i18n/bad")).json()
    assert bad["language"] == "bad" and bad["dictionary"] == {"Send": "Skicka"}
    res = await client.get("/", headers={"Accept-Language": "sv"})
    assert '<html lang="sv">' in await res.text()


async def test_reload_flag(make_client, tmp_path):
    homes = [tmp_path / "reloading", tmp_path / "cached"]
    for home in homes:
        (home / "i18n").mkdir(parents=True)
        (home / "i18n" / "it.po").write_text('msgid "Log in"\nmsgstr "Prima"\n', "utf-8")
    reloading = await make_client({"CONVOS_RELOAD_DICTIONARIES": "1"}, home_dir=homes[0])
    cached = await make_client(home_dir=homes[1])
    for client in (reloading, cached):
        body = await (await client.get("/api/i18n/it")).json()
        assert body["dictionary"]["Log in"] == "Prima"
        assert '<html lang="en">' in await (await client.get("/", headers={"Accept-Language": "fi"})).text()
    for home in homes:
        (home / "i18n" / "it.po").write_text('msgid "Log in"\nmsgstr "Dopo"\n', "utf-8")
        (home / "i18n" / "fi.po").write_text('msgid "Log in"\nmsgstr "Kirjaudu"\n', "utf-8")
    res = await reloading.get("/api/i18n/it")
    assert res.headers["Cache-Control"] == "no-cache"
    assert (await res.json())["dictionary"]["Log in"] == "Dopo"
    res = await cached.get("/api/i18n/it")
    assert res.headers["Cache-Control"] == "max-age=86400"
    assert (await res.json())["dictionary"]["Log in"] == "Prima"
    assert '<html lang="fi">' in await (await reloading.get("/", headers={"Accept-Language": "fi"})).text()
    assert '<html lang="en">' in await (await cached.get("/", headers={"Accept-Language": "fi"})).text()


async def test_missing_share_translations_still_answer(make_client, home, monkeypatch):
    import convos.web.i18n as i18n

    empty = home.parent / "empty-share"
    (empty / "i18n").mkdir(parents=True)
    monkeypatch.setattr(i18n, "share_dir", lambda: empty)
    client = await make_client()
    body = await (await client.get("/api/i18n/it")).json()
    assert body["language"] == "en" and body["dictionary"] == {}
    assert '<html lang="en">' in await (await client.get("/", headers={"Accept-Language": "it"})).text()


# --- <html lang> on pages ----------------------------------------------------------------------

def _html_lang(text: str) -> str:
    match = re.search(r'<html lang="([^"]*)">', text)
    assert match, text[:200]
    return match.group(1)


@pytest.mark.parametrize(
    ("header", "lang"),
    [("it-ch", "it"), ("en;q=0.5,no", "no"), ("no-nb,en", "no"), ("x,y,z", "en"),
     ("es-MX,es;q=0.8,en-US;q=0.5,en;q=0.3", "es"), ("ro-RO", "ro"), (None, "en"), ("de-AT", "de")],
)
async def test_html_lang_from_accept_language(client, header, lang):
    headers = {"Accept-Language": header} if header is not None else {}
    for path in ("/", "/login", "/chat/irc-x/%23y", "/settings/account"):
        res = await client.get(path, headers=headers)
        assert res.status == 200
        assert _html_lang(await res.text()) == lang, path


async def test_html_lang_query_then_cookie_then_header(client):
    headers = {"Accept-Language": "it"}
    assert _html_lang(await (await client.get("/?lang=ro", headers=headers)).text()) == "ro"
    assert _html_lang(await (await client.get("/?lang=zz", headers=headers)).text()) == "en"
    assert _html_lang(await (await client.get("/?lang=", headers=headers)).text()) == "it"
    client.session.cookie_jar.update_cookies({"convos_js": _cookie({"lang": "es-ES"})})
    assert _html_lang(await (await client.get("/", headers=headers)).text()) == "es"
    assert _html_lang(await (await client.get("/?lang=no", headers=headers)).text()) == "no"
    client.session.cookie_jar.update_cookies({"convos_js": "garbage!!"})
    assert _html_lang(await (await client.get("/", headers=headers)).text()) == "it"


async def test_html_lang_on_error_pages(client):
    res = await client.get("/register?email=a@b.c&exp=1&token=x", headers={"Accept-Language": "fr"})
    assert res.status == 410
    assert _html_lang(await res.text()) == "fr"


async def test_hostile_accept_language_on_pages(client):
    # The app accepts header fields up to 32 KiB; thousands of entries must not hurt.
    for header in [",".join(["x-y-z;q=0.5"] * 2700), "a;" * 10_000, "it;q=" + "9" * 30_000]:
        res = await client.get("/", headers={"Accept-Language": header})
        assert res.status == 200
        assert _html_lang(await res.text()) == "en"


async def test_page_theme_from_cookie(client):
    """The scheme chosen in the app (convos_js cookie, spec §7.5) is on <html> before any script runs."""
    import base64 as b64
    import json as js

    def cookie(data: object) -> str:
        return b64.b64encode(js.dumps(data).encode()).decode()

    res = await client.get("/", cookies={"convos_js": cookie({"colorScheme": "dark", "theme": "convos"})})
    assert '<html lang="en" data-theme="dark">' in await res.text()
    res = await client.get("/", cookies={"convos_js": cookie({"colorScheme": "auto"})})
    assert '<html lang="en">' in await res.text()
    res = await client.get("/", cookies={"convos_js": cookie({"colorScheme": '"><script>x</script>'})})
    text = await res.text()
    assert "<script>x" not in text and '<html lang="en">' in text
