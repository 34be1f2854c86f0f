"""The aiohttp side: REST API, websocket events and the pages of the browser app."""
