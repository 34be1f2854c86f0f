"""The bot (spec §7.2): an account that runs actions on chat lines and webhooks, configured by bot.yaml."""

from .bot import Bot

__all__ = ["Bot"]
