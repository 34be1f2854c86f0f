"""Link previews (/api/embed): a consumer of the core beside the web layer, which only calls it.

fetch.py fetches a link and describes it (Embedder), resolver.py is the SSRF guard (the address
rules are core/addresses.py's), page.py parses a page and builds the document, limits.py says
what one preview and one user may cost, cache.py keeps recent answers.
"""

from .cache import LinkCache
from .fetch import Embedder, UpstreamError, UpstreamTimeout, check_url
from .limits import Limits
from .resolver import BlockedAddress, GuardedResolver

__all__ = ["BlockedAddress", "Embedder", "GuardedResolver", "Limits", "LinkCache", "UpstreamError", "UpstreamTimeout",
           "check_url"]
