"""Convos: a multiuser, always-on IRC proxy with a web interface."""

__version__ = "0.1.0"
