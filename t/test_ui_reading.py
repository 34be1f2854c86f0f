"""Reading aids of the message log in Chromium: grouping, folded joins and parts, the DOM bound
with both, and search words marked in results. MessageLog runs in the page with a history the
test makes up (pages by id, like the API), so 100,000 lines cost nothing to set up."""

from __future__ import annotations

from typing import Any

import pytest

# In the page: a made-up history of `n` messages, a minute apart in runs of one sender, paged by
# id like GET .../messages; and a check that every item of a MessageLog is grouped and folded as
# it should be, whatever paging and trimming did to the window.
HELPERS = """
window.makeHistory = (n, start) => {
    const senders = ["alice", "bob", "carol"];
    const all = [];
    for (let i = 0; i < n; i++) {
        const from = senders[Math.floor(i / 4) % 3];  // four lines each, then the next sender
        const ts = new Date(start + i * 30000).toISOString().slice(0, 19);
        all.push({id: `m${String(i).padStart(15, "0")}`, from, message: `line ${i}`, type: "private", ts});
    }
    const index = new Map(all.map((m, i) => [m.id, i]));
    return (params) => {
        const limit = params.limit || 100;
        let lo;
        let hi;
        if (params.before_id) { hi = index.get(params.before_id); lo = Math.max(0, hi - limit); }
        else if (params.after_id) { lo = index.get(params.after_id) + 1; hi = Math.min(n, lo + limit); }
        else if (params.around_id) { const at = index.get(params.around_id); lo = Math.max(0, at - limit / 2); hi = Math.min(n, lo + limit); }
        else { hi = n; lo = Math.max(0, n - limit); }
        const page = {messages: all.slice(lo, hi)};
        if (lo > 0 && lo < hi) page.before_id = all[lo].id;
        if (hi < n) page.after_id = all[hi - 1].id;
        return Promise.resolve(page);
    };
};
window.checkLog = (log) => {
    const problems = [];
    const items = log.items;
    items.forEach((item, i) => {
        const prev = items[i - 1] || null;
        const cont = item.el.classList.contains("msg--cont");
        if (cont !== log.continues(item, prev)) problems.push(`group ${i}`);
        if (item.el.parentNode !== log.list) problems.push(`detached ${i}`);
        const run = item.run;
        if (run) {
            if (!run.items.includes(item)) problems.push(`run ${i}`);
            if (run.el.parentNode !== run.items[0].el) problems.push(`summary ${i}`);
            if (item.el.classList.contains("msg--folded") === run.open) problems.push(`folded ${i}`);
        } else if (item.el.classList.contains("msg--folded")) problems.push(`stray ${i}`);
        if (run && prev && log.foldable(prev) && prev.day === item.day && prev.run !== run) problems.push(`split ${i}`);
        if (!run && log.mode === "fold" && prev && log.foldable(prev) && log.foldable(item) && prev.day === item.day) problems.push(`unfolded ${i}`);
    });
    const summaries = log.list.querySelectorAll(".fold").length;
    const runs = new Set(items.filter((i) => i.run).map((i) => i.run));
    if (summaries !== runs.size) problems.push(`summaries ${summaries} != runs ${runs.size}`);
    for (const run of runs) {
        const total = run.counts.join + run.counts.part + run.counts.nick;
        if (total !== run.items.length) problems.push(`counts ${total} != ${run.items.length}`);
    }
    return problems;
};
"""


@pytest.fixture
async def app_page(client: Any, page: Any) -> Any:
    await page.goto(str(client.make_url("/assets/css/convos.css")))
    # The page is a stylesheet shown as text: give it the app's styles (the log scrolls in its box).
    await page.add_style_tag(url=str(client.make_url("/assets/css/convos.css")))
    await page.add_style_tag(url=str(client.make_url("/assets/css/reading.css")))
    await page.evaluate(f"() => {{ {HELPERS} }}")
    return page


async def test_grouping_and_folding(app_page: Any) -> None:
    got = await app_page.evaluate("""async () => {
        const {MessageLog} = await import("/assets/js/views/messages.js");
        const t0 = Date.parse("2026-12-01T10:00:00Z");
        const at = (s) => new Date(t0 + s * 1000).toISOString().slice(0, 19);
        const history = [
            {id: "a000000000000001", from: "alice", message: "one", ts: at(0)},
            {id: "a000000000000002", from: "alice", message: "two", ts: at(60)},
            {id: "a000000000000003", from: "Alice", message: "three", ts: at(120)},
            {id: "a000000000000004", from: "alice", message: "waves", type: "action", ts: at(130)},
            {id: "a000000000000005", from: "bob", message: "hi", ts: at(140)},
            {id: "a000000000000006", from: "bob", message: "later", ts: at(140 + 600)},
        ];
        let mode = "fold";
        const nicks = [];
        const log = new MessageLog({fetchPage: async () => ({messages: history}), myNick: () => "me",
            joinsMode: () => mode, onNick: (nick) => nicks.push(nick)});
        document.body.append(log.el);
        log.el.style.height = "600px";
        await log.open();
        const cont = log.items.map((i) => i.el.classList.contains("msg--cont"));
        const live = (type, fold, text) => log.addLive({status: true, type, fold, message: text, from: "x", ts: at(800)});
        live("join", "join", "carol joined.");
        live("join", "join", "dave joined.");
        live("part", "quit", "erin quit.");
        live("nick", "nick", "dave is now known as dan.");
        live("join", "join", "fay joined.");
        log.addLive({from: "carol", message: "hello", ts: at(801), id: "a000000000000007"});
        live("join", "join", "gus joined.");  // alone: no summary
        const summary = log.list.querySelector(".fold__toggle");
        const before = {text: summary.textContent, expanded: summary.getAttribute("aria-expanded"),
            visible: log.items.filter((i) => i.msg.fold && i.el.offsetHeight > 0 && i.el.querySelector(".msg__text").offsetHeight > 0).map((i) => i.msg.message)};
        summary.click();
        const opened = {expanded: summary.getAttribute("aria-expanded"),
            visible: log.items.filter((i) => i.msg.fold && i.el.querySelector(".msg__text").offsetHeight > 0).length};
        const problems = [...checkLog(log)];
        mode = "show";
        log.setJoinsMode("show");
        const shown = {summaries: log.list.querySelectorAll(".fold").length,
            visible: log.items.filter((i) => i.msg.fold && i.el.querySelector(".msg__text").offsetHeight > 0).length};
        mode = "hide";
        log.setJoinsMode("hide");
        const hidden = log.items.filter((i) => i.msg.fold && i.el.offsetHeight > 0).length;
        mode = "fold";
        log.setJoinsMode("fold");
        problems.push(...checkLog(log));
        log.list.querySelector(".msg__nick[data-nick='bob']").click();
        return {cont, before, opened, shown, hidden, problems, nicks,
            folded: log.list.querySelector(".fold__toggle").textContent};
    }""")
    # alice x3 within two minutes (the case of the nick does not matter), then an action (own nick
    # shown), bob, and bob again ten minutes later (a new group).
    assert got["cont"] == [False, True, True, False, False, False]
    assert got["before"] == {"text": "3 joined, 1 left, 1 nick change", "expanded": "false", "visible": ["gus joined."]}
    assert got["opened"] == {"expanded": "true", "visible": 6}
    assert got["shown"] == {"summaries": 0, "visible": 6}
    assert got["hidden"] == 0
    assert got["problems"] == []
    assert got["folded"] == "3 joined, 1 left, 1 nick change"
    assert got["nicks"] == ["bob"]


async def test_dom_bound_with_grouping_and_folding(app_page: Any) -> None:
    # 100,000 lines of history and 800 live lines, half of them joins and parts: the window never
    # holds more than MAX_MESSAGES messages, grouping and folding stay right as it pages back by
    # id and forward again, and the whole document stays small.
    got = await app_page.evaluate("""async () => {
        const {MessageLog, MAX_MESSAGES} = await import("/assets/js/views/messages.js");
        const start = Date.parse("2026-11-01T00:00:00Z");
        const fetchPage = makeHistory(100000, start);
        const log = new MessageLog({fetchPage, myNick: () => "me", joinsMode: () => window.MODE || "fold", onNick: () => {}});
        document.body.append(log.el);
        log.el.style.height = "700px";
        log.el.style.position = "relative";
        const opened0 = performance.now();
        await log.open();
        const openMs = performance.now() - opened0;
        const problems = [];
        let maxItems = log.items.length;
        let maxElements = 0;
        const ts = new Date(start + 100000 * 30000).toISOString().slice(0, 19);
        const who = ["dave", "erin", "fay"];
        const t1 = performance.now();
        for (let i = 0; i < 800; i++) {
            const k = i % 10;
            if (k < 5) log.addLive({status: true, type: k === 3 ? "part" : "join", fold: k === 3 ? "quit" : "join",
                message: `${who[i % 3]}${i} joined.`, from: who[i % 3], ts});
            else log.addLive({from: who[Math.floor(i / 20) % 3], message: `live ${i}`, ts, id: `l${String(i).padStart(15, "0")}`});
            maxItems = Math.max(maxItems, log.items.length);
            if (i % 100 === 0) {
                problems.push(...checkLog(log).map((p) => `live ${i}: ${p}`));
                maxElements = Math.max(maxElements, document.getElementsByTagName("*").length);
            }
        }
        const liveMs = performance.now() - t1;
        problems.push(...checkLog(log).map((p) => `after live: ${p}`));
        // Scroll back through 2,500 lines of history (the live lines are not in it: paging back
        // starts from the window's oldest logged message).
        const t2 = performance.now();
        let pages = 0;
        while (pages < 25 && log.hasOlder) {
            log.scroller.scrollTop = 0;
            await log.loadOlder();
            pages += 1;
            maxItems = Math.max(maxItems, log.items.length);
            maxElements = Math.max(maxElements, document.getElementsByTagName("*").length);
            problems.push(...checkLog(log).map((p) => `older ${pages}: ${p}`));
        }
        const backMs = performance.now() - t2;
        // And forward again to the end.
        let forward = 0;
        while (forward < 60 && log.hasNewer) {
            log.scroller.scrollTop = log.scroller.scrollHeight;
            if (log.loading === "older") await log.inflight;
            await log.loadNewer();
            forward += 1;
            maxItems = Math.max(maxItems, log.items.length);
            problems.push(...checkLog(log).map((p) => `newer ${forward}: ${p}`));
        }
        return {MAX_MESSAGES, maxItems, maxElements, problems: problems.slice(0, 20), pages, forward,
            openMs, liveMs, backMs, oldest: log.items[0].msg.message, hasNewer: log.hasNewer,
            newest: log.items[log.items.length - 1].msg.message,
            grouped: log.items.filter((i) => i.el.classList.contains("msg--cont")).length};
    }""")
    print(f"\nopen {got['openMs']:.0f} ms, 800 live lines {got['liveMs']:.0f} ms, "
          f"{got['pages']} pages back {got['backMs']:.0f} ms, max elements {got['maxElements']}")
    assert got["problems"] == []
    assert got["maxItems"] <= got["MAX_MESSAGES"]
    assert got["maxElements"] < 2500
    assert got["pages"] == 25
    assert got["oldest"].startswith("line ")
    assert got["forward"] > 0 and not got["hasNewer"]
    assert got["newest"] == "line 99999"
    # Four lines per sender: three of every four continue a group.
    assert got["grouped"] >= got["MAX_MESSAGES"] // 2


async def test_search_words_are_marked_as_text(app_page: Any) -> None:
    got = await app_page.evaluate("""async () => {
        const {markWords, searchWords} = await import("/assets/js/highlight.js");
        const {formatMessage} = await import("/assets/js/irc/format.js");
        const words = searchWords('#convos @alice Potato "salad" <b>');
        const div = document.createElement("div");
        div.append(formatMessage("potato <b>POTATO</b> \\x02salad\\x02 https://potato.example/"));
        const n = markWords(div, words);
        return {words, n, marks: [...div.querySelectorAll("mark")].map((m) => m.textContent),
            text: div.textContent, tags: [...div.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
            href: div.querySelector("a").getAttribute("href")};
    }""")
    assert got["words"] == ["Potato", "salad", "<b>"]
    assert got["text"] == "potato <b>POTATO</b> salad https://potato.example/"
    assert got["marks"] == ["potato", "<b>", "POTATO", "salad", "potato"]
    assert got["n"] == 5
    assert set(got["tags"]) == {"mark", "span", "a"}
    assert got["href"] == "https://potato.example/"
