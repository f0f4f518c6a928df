"""A fake NerdGraph endpoint on a real loopback server, with the documented shapes.

NerdGraph answers POST /graphql with {"data": {"actor": {"account": {<alias>: {"results":
[...]}}}}} (New Relic's NerdGraph NRQL tutorial); a FACET query gives one row per facet
with "facet", the facet attribute, "average.duration", "percentile.duration": {"95": x}
and "count"; failures come as {"errors": [{"message": ...}], "data": ...}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.loopback import Drip, Hang, LoopbackServer, Reply, Request

KEY = "NRAK-PLANTEDKEY0123456789ABCDEF"

SLOW_ROWS: list[dict[str, Any]] = [
    {"facet": "WebTransaction/Action/node", "name": "WebTransaction/Action/node",
     "average.duration": 4.21, "percentile.duration": {"95": 9.8}, "count": 120},
    {"facet": "WebTransaction/Action/cart", "name": "WebTransaction/Action/cart",
     "average.duration": 6.5, "percentile.duration": {"95": 12.25}, "count": 31},
    {"facet": "WebTransaction/Uri/cron.php", "name": "WebTransaction/Uri/cron.php",
     "average.duration": 2.0, "percentile.duration": {"95": 2.4}, "count": 2},
]


@dataclass
class NerdGraphFake:
    server: LoopbackServer
    key: str = KEY
    account: int = 1234567
    mode: str = "ok"  # ok | errors | hang | drip | http500 | garbage
    slow_rows: list[dict[str, Any]] = field(default_factory=lambda: list(SLOW_ROWS))
    error_rate: float = 3.5
    requests: int = 420
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route("/graphql", self._handle)

    @property
    def endpoint(self) -> str:
        return f"{self.server.url}/graphql"

    def _handle(self, req: Request) -> Reply | Hang | Drip:
        if self.mode == "hang":
            return Hang()
        if self.mode == "drip":
            return Drip(interval=0.2)
        if self.mode == "http500":
            return Reply(500, "<title>500</title>")
        if self.mode == "garbage":
            return Reply(200, "<html>not json</html>")
        if req.headers.get("API-Key") != self.key:
            return Reply.json({"errors": [{"message": "Invalid API key"}]}, status=401)
        body = req.json()
        self.seen.append(body)
        variables = body.get("variables", {})
        if self.mode == "errors" or variables.get("account") != self.account:
            return Reply.json(
                {
                    "data": {"actor": {"account": None}},
                    "errors": [
                        {
                            "message": "Account not found or you do not have access.",
                            "path": ["actor", "account"],
                            "extensions": {"errorClass": "SERVER_ERROR"},
                        }
                    ],
                }
            )
        app = re.search(r"appName = '((?:[^'\\]|\\.)*)'", variables["slowest"])
        rows = self.slow_rows if app else []
        return Reply.json(
            {
                "data": {
                    "actor": {
                        "account": {
                            "slowest": {"results": rows},
                            "errors": {
                                "results": [
                                    {"errorRate": self.error_rate, "requests": self.requests}
                                ]
                            },
                        }
                    }
                }
            }
        )
