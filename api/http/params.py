"""What the paths of the API share: the prefix every JSON route lives under."""

from __future__ import annotations

#: The prefix of every JSON route. Each router carries it in its own prefix, rather than getting it when
#: it is included, so that a route's template is its whole path (the request metrics label routes by it).
API_PREFIX = "/api/v1"
