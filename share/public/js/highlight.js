// Marks the words of a search in text that is already in the DOM: text nodes are split and
// the matches wrapped in <mark>, so nothing becomes markup (no innerHTML).

/** The words of a search box that the text can contain: `#channel` and `@nick` filters are not; quotes go. */
export function searchWords(q) {
  return String(q || "").split(/\s+/)
    .filter((w) => w && !/^[#&@]/.test(w))
    .map((w) => (w.length >= 3 && w.startsWith("\"") && w.endsWith("\"") ? w.slice(1, -1) : w))
    .filter(Boolean);
}

/** Wrap each match of `words` (case-insensitive) in the text under `root` in <mark class="search-hit">. */
export function markWords(root, words) {
  const list = [...new Set(words.map((w) => w.toLowerCase()))].filter(Boolean).sort((a, b) => b.length - a.length);
  if (!list.length) return 0;
  const re = new RegExp(list.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "gi");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
  let count = 0;
  for (const node of nodes) {
    const text = node.nodeValue;
    re.lastIndex = 0;
    let m = re.exec(text);
    if (!m) continue;
    const frag = document.createDocumentFragment();
    let at = 0;
    while (m) {
      if (m.index > at) frag.append(text.slice(at, m.index));
      const mark = document.createElement("mark");
      mark.className = "search-hit";
      mark.textContent = m[0];
      frag.append(mark);
      count += 1;
      at = m.index + m[0].length;
      if (m[0].length === 0) re.lastIndex += 1;
      m = re.exec(text);
    }
    if (at < text.length) frag.append(text.slice(at));
    node.replaceWith(frag);
  }
  return count;
}
