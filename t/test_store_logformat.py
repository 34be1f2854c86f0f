"""Log line and notifications.log format/parse, log paths and the `match` matcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convos.store.logs.format import (
    WS,
    LogMessage,
    Matcher,
    format_body,
    format_line,
    format_notification,
    format_ts,
    iter_months,
    log_relpath,
    month_relpath,
    parse_line,
    parse_notification,
    safe_ascii_segment,
)

FIXTURE = Path(__file__).resolve().parent / "data" / "perl-8.07-home"
SUPERMAN = FIXTURE / "superman@example.com" / "irc-localhost"
LOIS = FIXTURE / "lois@example.com" / "irc-localhost"
T0 = datetime(2024, 3, 21, 8, 25, 0, tzinfo=UTC)

_ws = set()
for part in ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000",):
    _ws.update(part)
_ws.update(chr(c) for c in range(0x2000, 0x200B))
nicks = st.text(
    alphabet=st.characters(blacklist_characters="".join(_ws) + ">", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
)
messages = st.text(
    alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=80
)


# --- format ----------------------------------------------------------------


def test_format_examples_from_the_spec():
    assert format_line(T0, "private", "Supergirl", "not a superdupersuperman?") == (
        "2024-03-21T08:25:00 0 <Supergirl> not a superdupersuperman?\n"
    )
    assert (
        format_line(T0, "private", "Supergirl", "But... SUPERMAN", highlight=True, is_channel=True)
        == "2024-03-21T08:25:00 1 <Supergirl> But... SUPERMAN\n"
    )
    assert (
        format_line(T0, "action", "jhthorsen", "convos rocks!")
        == "2024-03-21T08:25:00 0 * jhthorsen convos rocks!\n"
    )
    assert (
        format_line(T0, "notice", "Supergirl", "notice this?")
        == "2024-03-21T08:25:00 0 -Supergirl- notice this?\n"
    )
    assert format_line(T0, "private", "superman", " ") == "2024-03-21T08:25:00 0 <superman>  \n"


def test_flags():
    # highlight only counts in channels; preformat sets bit 2
    assert format_line(T0, "private", "a", "x", highlight=True)[20] == "0"
    assert format_line(T0, "private", "a", "x", highlight=True, is_channel=True)[20] == "1"
    assert format_line(T0, "preformat", "a", "x")[20] == "2"
    assert format_line(T0, "preformat", "a", "x", highlight=True, is_channel=True)[20] == "3"


def test_legacy_and_unlogged_types():
    assert format_body("part", "nick", "bye") == "-!- nick parted. bye"
    assert format_body("kick", "op", "reason", part="victim") == "-!- op kicked victim. reason"
    assert format_body("nick_change", "old", "", new_nick="new") == "-!- old changed nick to new"
    for type in ("error", "join", "quit", "topic", ""):
        assert format_line(T0, type, "a", "b") is None


def test_timestamps_are_utc_seconds():
    assert format_ts(1711009500) == "2024-03-21T08:25:00"
    assert format_ts(1711009500.999) == "2024-03-21T08:25:00"
    assert format_ts(datetime(2024, 3, 21, 8, 25)) == "2024-03-21T08:25:00"  # naive = UTC
    plus2 = timezone(timedelta(hours=2))
    assert format_ts(datetime(2024, 3, 21, 10, 25, tzinfo=plus2)) == "2024-03-21T08:25:00"


def test_a_newline_cannot_forge_a_line():
    line = format_line(T0, "private", "a", "hi\n2024-03-21T08:25:00 1 <admin> fake")
    assert line.count("\n") == 1 and line.endswith("\n")


# --- parse -----------------------------------------------------------------


@pytest.mark.parametrize("flag", [0, 1, 2, 3])
def test_parse_flags(flag):
    msg = parse_line(f"2024-03-21T08:25:00 {flag} <nick> hello\n")
    assert msg.highlight is bool(flag & 1)
    assert msg.type == ("preformat" if flag & 2 else "private")
    assert (msg.from_, msg.message, msg.ts) == ("nick", "hello", "2024-03-21T08:25:00")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2015-12-01T12:00:00 <nick> hello", ("private", "nick", "hello", False)),
        ("2015-12-01T12:00:00 * nick waves", ("action", "nick", "waves", False)),
        ("2015-12-01T12:00:00 -nick- psst", ("notice", "nick", "psst", False)),
        # the notice rule comes first in the original, so legacy "-!- " lines are notices from "!"
        ("2015-12-01T12:00:00 -!- nick parted. bye", ("notice", "!", "nick parted. bye", False)),
        ("2015-12-01T12:00:00 Topic is x", ("server", "", "Topic is x", False)),
        ("2015-12-01t12:00:00 0 <nick> lower t", ("private", "nick", "lower t", False)),
        (
            "2015-12-01T12:00:00 0 -irc-localhost- * LS multi-prefix",
            ("notice", "irc-localhost", "* LS multi-prefix", False),
        ),
        ("2015-12-01T12:00:00 0 <a>\x1fhi", ("server", "", "<a>\x1fhi", False)),  # \x1f is no whitespace
    ],
)
def test_parse_legacy_and_odd_lines(line, expected):
    msg = parse_line(line)
    assert (msg.type, msg.from_, msg.message, msg.highlight) == expected


@pytest.mark.parametrize(
    "line",
    ["", "garbage", "2015-12-01 12:00:00 0 <a> b", "2015-12-01T12:00:00", "x2015-12-01T12:00:00 0 <a> b"],
)
def test_unparsable_lines(line):
    assert parse_line(line) is None


def test_control_codes_and_unicode_kept_verbatim():
    text = "Colours: \x0304red\x03 and \x02bold\x02 \x1funder\x1f \x1d\x16 æøå 🚀"
    msg = parse_line(format_line(T0, "private", "jimmy", text))
    assert msg.message == text
    assert parse_line(format_line(T0, "private", "jimmy", text).encode()).message == text


@settings(max_examples=300, deadline=None)
@given(
    type=st.sampled_from(["private", "action", "notice", "preformat"]),
    nick=nicks,
    message=messages,
    highlight=st.booleans(),
    is_channel=st.booleans(),
    epoch=st.integers(0, 253402300799),
)
def test_round_trip(type, nick, message, highlight, is_channel, epoch):
    line = format_line(epoch, type, nick, message, highlight=highlight, is_channel=is_channel)
    assert line.endswith("\n") and line.count("\n") == 1
    msg = parse_line(line)
    # NUL is stored as its symbol, ␀
    nick, message = nick.replace("\0", "\u2400"), message.replace("\0", "\u2400")
    assert msg == LogMessage(format_ts(epoch), nick, message, type, highlight and is_channel)
    assert msg.to_dict() == {
        "from": nick,
        "highlight": highlight and is_channel,
        "message": message,
        "ts": format_ts(epoch),
        "type": type,
    }


# --- the 8.07 fixture --------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines(keepends=True)


def test_fixture_convos_log():
    msgs = [parse_line(line) for line in _lines(SUPERMAN / "2026/11/#convos.log")]
    assert len(msgs) == 10 and all(msgs)
    assert [m.message for m in msgs if m.highlight] == [
        "superman: can you help me with the layout?",
        "Careful, there is kryptonite in the basement",
    ]
    assert [m.type for m in msgs] == ["private"] * 4 + ["action", "notice"] + ["private"] * 3 + ["action"]
    assert msgs[4].from_ == "jimmy" and msgs[4].message == "waves"
    assert msgs[6].message == "Unicode test: æøå ÆØÅ – 🚀🎉 ☕"
    assert msgs[7].message == "Colours: \x0304red\x03 and \x02bold\x02 and \x0303,01green on black\x03 done"
    assert (msgs[9].from_, msgs[9].message) == ("superman", "flies away")
    lois = [parse_line(line) for line in _lines(LOIS / "2026/11/#convos.log")]
    assert [m.message for m in lois] == [m.message for m in msgs] and not any(m.highlight for m in lois)


def test_fixture_other_logs_and_round_trip():
    server = [parse_line(line) for line in _lines(SUPERMAN / "2026/11.log")]
    assert server[0].type == "notice" and server[0].from_ == "irc-localhost"
    assert (server[3].type, server[3].from_) == ("private", "irc.test.local")
    assert (server[-1].type, server[-1].message) == ("preformat", '"Test server"')
    assert len([parse_line(x) for x in _lines(SUPERMAN / "2026/11/#with%2Fslash.log")]) == 2
    assert [m.from_ for m in map(parse_line, _lines(SUPERMAN / "2026/11/jimmy.log"))] == [
        "jimmy",
        "jimmy",
        "superman",
    ]
    # formatting the parsed messages gives back the bytes Convos 8.07 wrote
    for path in [SUPERMAN / "2026/11/#convos.log", SUPERMAN / "2026/11.log"]:
        for line in _lines(path):
            m = parse_line(line)
            ts = datetime.strptime(m.ts, "%Y-%m-%dT%H:%M:%S")
            assert format_line(ts, m.type, m.from_, m.message, highlight=m.highlight, is_channel=True) == line


def test_fixture_notifications():
    found = [parse_notification(line) for line in _lines(FIXTURE / "superman@example.com/notifications.log")]
    assert [n.to_dict() for n in found] == [
        {
            "connection_id": "irc-localhost",
            "conversation_id": "#convos",
            "from": "jimmy",
            "message": "superman: can you help me with the layout?",
            "ts": "2026-11-26T20:11:17",
            "type": "private",
        },
        {
            "connection_id": "irc-localhost",
            "conversation_id": "#convos",
            "from": "jimmy",
            "message": "Careful, there is kryptonite in the basement",
            "ts": "2026-11-26T20:11:18",
            "type": "private",
        },
    ]


def test_notification_round_trip():
    line = format_notification(
        T0, "irc-localhost", "#convos", format_body("private", "superman", "cool beans")
    )
    assert line == "2024-03-21T08:25:00 irc-localhost #convos <superman> cool beans\n"
    n = parse_notification(line)
    assert (n.from_, n.message, n.type, n.conversation_id) == ("superman", "cool beans", "private", "#convos")
    assert parse_notification("2024-03-21T08:25:00 only-two\n") is None


# --- paths -------------------------------------------------------------------


def test_paths():
    assert log_relpath(T0, "#convos") == "2024/03/#convos.log"
    assert log_relpath(T0, "#with/slash") == "2024/03/#with%2Fslash.log"
    assert log_relpath(T0, "") == "2024/03.log"
    assert log_relpath(T0, "æøå.&x") == "2024/03/æøå.&x.log"
    # the month of the UTC time, not the local one
    assert (
        log_relpath(datetime(2024, 4, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), "a") == "2024/03/a.log"
    )
    assert log_relpath(1711929599, "a") == "2024/03/a.log" and log_relpath(1711929600, "a") == "2024/04/a.log"
    assert month_relpath(2020, 1, "../x") == "2020/01/..%2Fx.log"
    assert (SUPERMAN / log_relpath(datetime(2026, 11, 26), "#with/slash")).is_file()


def test_iter_months():
    assert list(iter_months((2023, 11), (2024, 2))) == [(2023, 11), (2023, 12), (2024, 1), (2024, 2)]
    assert list(iter_months((2024, 2), (2023, 12))) == [(2024, 2), (2024, 1), (2023, 12)]
    assert list(iter_months((2024, 2), (2024, 2))) == [(2024, 2)]


# --- match ---------------------------------------------------------------------


def test_match_order_and_case():
    m = Matcher("pot BED")
    assert m.search("a Pot on the bed") and not m.search("a bed and a pot")
    assert Matcher("pot pot").search("potpot") and not Matcher("pot pot").search("pot")
    assert Matcher("<jimmy> layout").search("<jimmy> superman: can you help me with the layout?")
    assert Matcher(".*(a+)+$ [x]").search("x .*(A+)+$ [X]") and not Matcher(".*").search("anything")


def test_match_quoted_whole_words():
    m = Matcher('"secret"')
    assert m.search("a secret!") and m.search("SECRET") and m.search("secret_") is False
    assert not m.search("secretary") and not m.search("topsecret")
    assert Matcher('"foo!"').search("foo!bar") and not Matcher('"foo!"').search("foo! bar")  # like \bfoo!\b
    assert Matcher('""').search('say ""') and Matcher('"x"y"').search('a x"y b')
    assert Matcher('"æøå"').search("Æøå!") and not Matcher('"æø"').search("æøå")


def test_match_unicode_casefold():
    assert Matcher("æ").search("Unicode test: æøå") and Matcher("Æ").search("æ")
    assert Matcher("STRASSE").search("die Straße") and Matcher("straße").search("STRASSE")
    assert Matcher("kelvin").search("\u212aelvin")
    assert not Matcher("").words and not Matcher("   ")


def test_match_whitespace_is_perls():
    m = Matcher("a\x1fb")  # IRC underline is part of the word
    assert m.words == [("a\x1fb", False)]
    assert Matcher("a\u3000b").words == [("a", False), ("b", False)]
    assert all(len(Matcher(f"x{c}y").words) == 2 for c in WS if c != "-")


def test_long_match_finishes():
    assert not Matcher("a" * 10_000).search("a" * 500)
    assert Matcher("a" * 10_000).search("b" + "a" * 20_000)
    assert not Matcher(" ".join(["a"] * 5_000)).search("a" * 4_999)
    assert Matcher(" ".join(["a"] * 5_000)).search("a" * 5_000)
    assert not Matcher('"' + "a" * 5_000 + '"').search("a" * 10_000 + "!")
    assert Matcher('"' + "a" * 5_000 + '"').search("a" * 10_000 + " " + "a" * 5_000)
    words = " ".join(f'"w{i}"' for i in range(5_000))
    assert not Matcher(words).search(" ".join(f"w{i}" for i in range(4_999)))


def test_prefilter():
    assert Matcher("Kryptonite").prefilter == b"ryptonite"  # k may come from the Kelvin sign
    assert Matcher("pot secretary").prefilter == b"ecretar"  # y may come from U+1E99
    assert Matcher("æ").prefilter is None
    assert safe_ascii_segment("file") == "le"  # "ﬁle" folds to "file"
    assert safe_ascii_segment("xi\u0307") == "x"  # İ folds to i + U+0307
    assert safe_ascii_segment("\u02bcnab") == "ab"  # ŉ folds to U+02BC + n
    assert safe_ascii_segment("a") == "" and safe_ascii_segment("nob") == "ob"


tricky = st.sampled_from(
    list(
        'aAbBkKsSfFiIlLtTnNjJhHwWyY \u212a\u00df\u1e9e\u017f\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06\u0130\u0149\u01f0\u1e96\u1e97\u1e98\u1e99\u1e9a\u0307\u02bc\u00e6\u00c6-!"'
    )
)


@settings(max_examples=500, deadline=None)
@given(
    body=st.lists(tricky, max_size=30).map("".join),
    query=st.lists(tricky, min_size=1, max_size=8).map("".join),
)
def test_prefilter_never_rejects_a_match(body, query):
    m = Matcher(query)
    if m.search(body):
        assert m.may_match(body.encode().lower())


@settings(max_examples=300, deadline=None)
@given(body=st.lists(tricky, max_size=30).map("".join), start=st.integers(0, 30), length=st.integers(1, 6))
def test_a_substring_of_the_text_matches(body, start, length):
    word = body[start : start + length]
    if word.strip() and not any(c in _ws for c in word) and not word.startswith('"'):
        m = Matcher(word)
        assert m.search(body) and m.may_match(body.encode().lower())
