// A small built-in table of :shortcode: emoji for Tab completion in the input box.
export const EMOJI = {
  "+1": "👍", "-1": "👎", "100": "💯", "angry": "😠", "beer": "🍺", "blush": "😊", "bug": "🐛",
  "cake": "🍰", "check": "✔️", "clap": "👏", "coffee": "☕", "confused": "😕", "cool": "😎",
  "cry": "😢", "eyes": "👀", "facepalm": "🤦", "fire": "🔥", "flushed": "😳", "grin": "😁",
  "grinning": "😀", "heart": "❤️", "hugs": "🤗", "innocent": "😇", "joy": "😂", "kiss": "😘",
  "laughing": "😆", "mask": "😷", "neutral_face": "😐", "ok_hand": "👌", "party": "🥳",
  "pensive": "😔", "pizza": "🍕", "point_up": "☝️", "pray": "🙏", "rocket": "🚀", "rofl": "🤣",
  "scream": "😱", "see_no_evil": "🙈", "shrug": "🤷", "sleeping": "😴", "slightly_smiling_face": "🙂",
  "smile": "😄", "smiley": "😃", "smirk": "😏", "sob": "😭", "sparkles": "✨", "star": "⭐",
  "sunglasses": "😎", "sweat_smile": "😅", "tada": "🎉", "thinking": "🤔", "thumbsdown": "👎",
  "thumbsup": "👍", "tired_face": "😫", "tongue": "😛", "unamused": "😒", "upside_down": "🙃",
  "warning": "⚠️", "wave": "👋", "wink": "😉", "x": "❌", "yum": "😋", "zzz": "💤",
};

/** Shortcodes starting with `prefix`, as [code, emoji]: the shortest first (the closest to what
 * was typed, so `:thu` offers 👍 before 👎), then in alphabetical order. */
export function matchEmoji(prefix) {
  const p = prefix.toLowerCase();
  return Object.entries(EMOJI).filter(([code]) => code.startsWith(p))
    .sort(([a], [b]) => a.length - b.length || a.localeCompare(b));
}
