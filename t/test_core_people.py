"""The nick table of a connection (core/people.py): case-insensitive, bounded, the least recently
seen forgotten first."""

from __future__ import annotations

from convos.core.people import MAX_NAME, MAX_PEOPLE, MAX_TEXT, People


def test_masks_and_renames() -> None:
    people = People()
    assert people.mask("Robin") == "Robin"  # not known: the nick
    people.seen("Robin", "r", "nest.example").account = "robin"
    assert people.mask("robin") == "Robin!r@nest.example"
    people.seen("ROBIN")  # seen again without user@host: what was known stays
    assert people.mask("robin") == "ROBIN!r@nest.example"
    people.rename("robin", "Nightwing")
    assert people.get("robin") is None
    found = people.get("nightwing")
    assert found is not None and (found.mask, found.account) == ("Nightwing!r@nest.example", "robin")
    people.forget("NIGHTWING")
    assert len(people) == 0


def test_bounded_least_recently_seen_first() -> None:
    assert MAX_PEOPLE == 4096
    people = People(limit=3)
    for nick in ("a", "b", "c"):
        people.seen(nick, "u", "h")
    people.seen("a")  # seen again: the most recent
    people.seen("d", "u", "h")
    assert len(people) == 3
    assert people.get("b") is None
    assert [people.mask(n) for n in ("a", "c", "d")] == ["a!u@h", "c!u@h", "d!u@h"]


def test_what_a_hostile_network_says_is_kept_short() -> None:
    people = People()
    long = "x" * 60_000
    person = people.seen(long, long, long).note(account=long, realname=long)
    assert (len(person.nick), len(person.user), len(person.host)) == (MAX_NAME, MAX_NAME, MAX_TEXT)
    assert (len(person.account), len(person.realname)) == (MAX_NAME, MAX_TEXT)
    assert people.get(long) is person  # found by the same long nick
    people.forget(long)
    assert len(people) == 0
