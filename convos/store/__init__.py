"""Files under CONVOS_HOME: settings, users, connections, logs and uploads."""
