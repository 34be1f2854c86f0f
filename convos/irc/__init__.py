"""IRC: pydle-based clients behind core.Connection, for irc:// and ircs:// URLs."""
