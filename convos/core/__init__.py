"""The model: users, settings, connections and conversations, independent of web and IRC."""
