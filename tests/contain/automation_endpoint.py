"""A real HTTP automation endpoint (what Rundeck or a CI job would be) for the http_runbook tests.

It checks what a real one would: the HMAC signature over "<timestamp>." + body, and the Idempotency-Key (one
job per key, however often it is posted). A job answers `running` for `polls_to_finish` status polls, then
`succeeded`; POST /jobs/<id>/cancel cancels it. Everything it saw is kept for the test to assert on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "runbook-hmac-test-secret"


@dataclass
class Endpoint:
    url: str = ""
    polls_to_finish: int = 2
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> job
    posts: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    cancels: list[str] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def signed(self, headers: Any, body: bytes) -> bool:
        timestamp = headers.get("X-Warroom-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        return hmac.compare_digest(expected, headers.get("X-Warroom-Signature", ""))


def _handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _checked(self, body: bytes) -> bool:
            if endpoint.signed(self.headers, body):
                return True
            with endpoint.lock:
                endpoint.bad_signatures += 1
            self._answer(401, {"error": "bad signature"})
            return False

        def do_POST(self) -> None:
            body = self._body()
            if not self._checked(body):
                return
            key = self.headers.get("Idempotency-Key", "")
            with endpoint.lock:
                if self.path.startswith("/jobs/") and self.path.endswith("/cancel"):
                    job_id = self.path.split("/")[2]
                    endpoint.cancels.append(job_id)
                    job = next(j for j in endpoint.jobs.values() if j["id"] == job_id)
                    job["status"] = "cancelled"
                    self._answer(
                        200, {"status": "cancelled", "detail": "stopped after step 1 of 3, step 1 reverted"}
                    )
                    return
                endpoint.posts.append({"key": key, "document": json.loads(body)})
                job = endpoint.jobs.setdefault(
                    key, {"id": f"job{len(endpoint.jobs) + 1}", "status": "running", "polls": 0}
                )
            self._answer(
                202,
                {"id": job["id"], "status": job["status"], "status_url": f"{endpoint.url}/jobs/{job['id']}"},
            )

        def do_GET(self) -> None:
            if not self._checked(b""):
                return
            job_id = self.path.split("/")[2]
            with endpoint.lock:
                endpoint.polls += 1
                job = next(j for j in endpoint.jobs.values() if j["id"] == job_id)
                job["polls"] += 1
                if job["status"] == "running" and job["polls"] >= endpoint.polls_to_finish:
                    job["status"] = "succeeded"
            self._answer(
                200,
                {
                    "id": job_id,
                    "status": job["status"],
                    "detail": f"after {job['polls']} polls",
                    "observed": {"rolled_back_to": "v41"},
                },
            )

    return Handler


@contextmanager
def automation_endpoint(polls_to_finish: int = 2) -> Iterator[Endpoint]:
    endpoint = Endpoint(polls_to_finish=polls_to_finish)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
