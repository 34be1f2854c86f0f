"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web

from ..config import Config
from ..core.core import Core
from .openapi import ApiSpec

CORE = web.AppKey("core", Core)
CONFIG = web.AppKey("config", Config)
SPEC = web.AppKey("spec", ApiSpec)
