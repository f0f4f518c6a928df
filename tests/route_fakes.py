"""Fakes of the ticket routes' services on real loopback servers, in their documented formats.

Each fake checks a request the way the real service does (auth, required fields, limits)
and answers with the real service's shapes, so a route that drifts from the wire format
fails here, not in an emergency:
- PagerDuty Events API v2 (POST /v2/enqueue): 32-character routing_key in the body;
  202 {"status": "success", "message": "Event processed", "dedup_key"}; 400
  {"status": "invalid event", "message": "Event object is invalid", "errors": [...]}.
- Opsgenie Alert API (POST /v2/alerts, `Authorization: GenieKey <key>`): 202
  {"result": "Request will be processed", "took", "requestId"}; 401/422 {"message", "took",
  "requestId"}.
- Zendesk Create Ticket (POST /api/v2/tickets.json, Basic `{email}/token:{token}`):
  201 {"ticket": {...}}; the Idempotency-Key replays the first answer with
  `x-idempotency-lookup: hit`, and a different body with the same key is 400
  IdempotentRequestError; 401 {"error": "Couldn't authenticate you"}; 422 RecordInvalid.
- Slack incoming webhook (POST /services/T.../B.../secret): 200 `ok`; 400
  `invalid_payload` / `no_text`; 404 `no_service`.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.loopback import Hang, LoopbackServer, Reply, Request

Behaviour = Reply | Hang | None  # None: behave like the real service


def _headers(req: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in req.headers.items()}


@dataclass
class PagerDutyFake:
    server: LoopbackServer
    routing_key: str
    behaviour: Behaviour = None
    events: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by dedup_key

    def __post_init__(self) -> None:
        self.server.route("/v2/enqueue", self._handle)

    @property
    def endpoint(self) -> str:
        return self.server.url + "/v2/enqueue"

    def _handle(self, req: Request) -> Reply | Hang:
        if self.behaviour is not None:
            return self.behaviour
        try:
            data = json.loads(req.body)
        except ValueError:
            return self._invalid("Event object is invalid", "Body is not JSON")
        errors = []
        key = data.get("routing_key")
        if not isinstance(key, str) or len(key) != 32:
            errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
        if data.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        payload = data.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or invalid")
        else:
            for name in ("summary", "source", "severity"):
                if not payload.get(name):
                    errors.append(f"'payload.{name}' is missing or blank")
            if len(payload.get("summary", "")) > 1024:
                errors.append("'payload.summary' is too long (maximum is 1024 characters)")
            if payload.get("severity") not in ("critical", "error", "warning", "info"):
                errors.append("'payload.severity' is invalid")
        if errors:
            return self._invalid("Event object is invalid", *errors)
        if key != self.routing_key:
            # PagerDuty accepts an unknown routing key as an event that goes nowhere;
            # the fake refuses it so a test sees the wrong key.
            return self._invalid("Event object is invalid", "Invalid routing key")
        dedup = data.get("dedup_key") or uuid.uuid4().hex
        self.events.append(data)
        self.alerts.setdefault(dedup, data)
        return Reply.json(
            {"status": "success", "message": "Event processed", "dedup_key": dedup}, 202
        )

    def _invalid(self, message: str, *errors: str) -> Reply:
        body = {"status": "invalid event", "message": message, "errors": list(errors)}
        return Reply.json(body, 400)


@dataclass
class OpsgenieFake:
    server: LoopbackServer
    api_key: str
    behaviour: Behaviour = None
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by alias

    def __post_init__(self) -> None:
        self.server.route("/v2/alerts", self._handle)

    @property
    def endpoint(self) -> str:
        return self.server.url

    def _answer(self, status: int, **extra: Any) -> Reply:
        return Reply.json({**extra, "took": 0.01, "requestId": str(uuid.uuid4())}, status)

    def _handle(self, req: Request) -> Reply | Hang:
        if self.behaviour is not None:
            return self.behaviour
        if _headers(req).get("authorization") != f"GenieKey {self.api_key}":
            return self._answer(401, message="Could not authenticate")
        try:
            data = json.loads(req.body)
        except ValueError:
            return self._answer(422, message="Request body is not processable")
        message = data.get("message")
        if not isinstance(message, str) or not message.strip():
            return self._answer(422, message="Message can not be empty.")
        if len(message) > 130:
            return self._answer(422, message="Message can not be longer than 130 characters.")
        if len(data.get("description", "")) > 15000:
            return self._answer(422, message="Description can not be longer than 15000.")
        if data.get("priority") not in (None, "P1", "P2", "P3", "P4", "P5"):
            return self._answer(422, message="Priority should be one of [P1, P2, P3, P4, P5]")
        alias = data.get("alias") or str(uuid.uuid4())
        self.alerts.setdefault(alias, data)  # an open alert with the same alias is de-duplicated
        return self._answer(202, result="Request will be processed")


@dataclass
class ZendeskFake:
    server: LoopbackServer
    email: str
    api_token: str
    behaviour: Behaviour = None
    tickets: list[dict[str, Any]] = field(default_factory=list)
    _by_key: dict[str, tuple[bytes, Reply]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server.route("/api/v2/tickets.json", self._handle)

    @property
    def endpoint(self) -> str:
        return self.server.url

    def _handle(self, req: Request) -> Reply | Hang:
        if self.behaviour is not None:
            return self.behaviour
        auth = _headers(req).get("authorization", "")
        expected = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        if auth != f"Basic {expected}":
            return Reply.json({"error": "Couldn't authenticate you"}, 401)
        key = _headers(req).get("idempotency-key")
        if key and key in self._by_key:
            body, first = self._by_key[key]
            if body != req.body:
                return Reply.json(
                    {
                        "error": "IdempotentRequestError",
                        "description": "Request parameters do not match the request "
                        "parameters of the original request with the same idempotency key.",
                    },
                    400,
                )
            return Reply(first.status, first.body, {**first.headers, "x-idempotency-lookup": "hit"})
        try:
            data = json.loads(req.body)["ticket"]
            subject, body_text = data["subject"], data["comment"]["body"]
        except (ValueError, KeyError, TypeError):
            return Reply.json(
                {"error": "RecordInvalid", "description": "Record validation errors"}, 422
            )
        if not body_text:
            return Reply.json(
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"base": [{"description": "Description: cannot be blank"}]},
                },
                422,
            )
        ticket = {
            "id": 35436 + len(self.tickets),
            "url": f"{self.server.url}/api/v2/tickets/{35436 + len(self.tickets)}.json",
            "subject": subject,
            "description": body_text,
            "priority": data.get("priority"),
            "type": data.get("type"),
            "tags": data.get("tags", []),
            "status": "new",
        }
        self.tickets.append(ticket)
        reply = Reply.json({"ticket": ticket}, 201, **{"x-idempotency-lookup": "miss"})
        if key:
            self._by_key[key] = (req.body, reply)
        return reply


@dataclass
class SlackFake:
    server: LoopbackServer
    path: str = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"
    behaviour: Behaviour = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route(self.path, self._handle)

    @property
    def url(self) -> str:
        return self.server.url + self.path

    def _handle(self, req: Request) -> Reply | Hang:
        if self.behaviour is not None:
            return self.behaviour
        if not _headers(req).get("content-type", "").startswith("application/json"):
            return Reply(400, "invalid_payload", {"Content-Type": "text/plain"})
        try:
            data = json.loads(req.body)
        except ValueError:
            return Reply(400, "invalid_payload", {"Content-Type": "text/plain"})
        if not isinstance(data, dict) or not data.get("text"):
            return Reply(400, "no_text", {"Content-Type": "text/plain"})
        self.messages.append(data)
        return Reply(200, "ok", {"Content-Type": "text/html"})
