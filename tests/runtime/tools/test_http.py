"""HTTP tools against a real HTTP server on 127.0.0.1 (stdlib, in a thread), never mocks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dsl.ir import Agent, Field, Flow, HttpTool, Node, Template
from runtime.engine.events import CallTool
from runtime.persistence import InMemoryPersistence
from runtime.tools import ToolRunner

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SECRET = "s3cr3t-token-value"


class Server:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_next = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                if self.path.startswith("/slow"):
                    time.sleep(0.5)
                if self.path.startswith("/flaky") and outer.fail_next > 0:
                    outer.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.path.startswith("/missing"):
                    self.send_response(404)
                    self.end_headers()
                    return
                payload = json.dumps(
                    {
                        "data": {"slot": {"day": "2026-11-25", "times": ["09:00", "10:30"]}},
                        "echo": body,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    thread = threading.Thread(target=s.httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()
        thread.join(timeout=5)


def run_tool(tool: HttpTool, args: dict, environ=None):
    flow = Flow(
        Agent(name="a", persona=Template("p"), start="n", nodes=(Node("n"),), tools=(tool,))
    )
    runner = ToolRunner(
        flow,
        call_id="c1",
        contact={"id": "42"},
        tz="UTC",
        persistence=InMemoryPersistence(),
        environ=environ or {},
    )
    return runner.run(CallTool("t1", tool.name, args), now=NOW, values={"contact": {"id": "42"}})


async def test_get_maps_response_fields_into_the_result(server):
    tool = HttpTool(
        name="slots",
        description="free slots",
        method="GET",
        url=Template(server.base + "/slots"),
        response=(("day", "data.slot.day"), ("first", "$.data.slot.times.0")),
    )
    res = await run_tool(tool, {})
    assert res.ok and res.result == {"day": "2026-11-25", "first": "09:00"}


async def test_templated_url_headers_and_json_body_with_env_secret(server):
    tool = HttpTool(
        name="book",
        description="book",
        method="POST",
        url=Template(server.base + "/book/{{ contact.id }}"),
        params=(Field("day", "date"),),
        headers=(("Authorization", Template("Bearer {{ env.API_TOKEN }}")),),
        body=Template('{"day": "{{ day }}"}'),
    )
    res = await run_tool(tool, {"day": "2026-11-25"}, environ={"API_TOKEN": SECRET})
    assert res.ok, res.error
    (req,) = server.requests
    assert (req["method"], req["path"]) == ("POST", "/book/42")
    assert req["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert req["headers"]["Content-Type"] == "application/json"
    assert json.loads(req["body"]) == {"day": "2026-11-25"}


async def test_idempotent_method_is_retried_after_a_5xx(server):
    server.fail_next = 1
    tool = HttpTool(
        name="get", description="d", method="GET", url=Template(server.base + "/flaky"), retries=2
    )
    res = await run_tool(tool, {})
    assert res.ok
    assert len(server.requests) == 2


async def test_post_is_never_retried(server):
    server.fail_next = 1
    tool = HttpTool(
        name="post", description="d", method="POST", url=Template(server.base + "/flaky"), retries=3
    )
    res = await run_tool(tool, {})
    assert not res.ok and "HTTP 503" in res.error and "1 attempt" in res.error
    assert len(server.requests) == 1


async def test_timeout_fails_the_call(server):
    tool = HttpTool(
        name="slow",
        description="d",
        method="GET",
        url=Template(server.base + "/slow"),
        timeout_ms=100,
    )
    res = await run_tool(tool, {})
    assert not res.ok and "timed out after 100 ms" in res.error


async def test_client_error_and_missing_mapped_field_fail_cleanly(server):
    tool = HttpTool(name="m", description="d", method="GET", url=Template(server.base + "/missing"))
    assert "HTTP 404" in (await run_tool(tool, {})).error
    tool = HttpTool(
        name="n",
        description="d",
        method="GET",
        url=Template(server.base + "/x"),
        response=(("z", "data.nothing.here"),),
    )
    assert "data.nothing.here" in (await run_tool(tool, {})).error


async def test_secret_never_appears_in_an_error(server):
    tool = HttpTool(
        name="leak",
        description="d",
        method="GET",
        url=Template("http://127.0.0.1:1/?key={{ env.API_TOKEN }}"),
        timeout_ms=500,
    )
    res = await run_tool(tool, {}, environ={"API_TOKEN": SECRET})
    assert not res.ok
    assert SECRET not in res.error


async def test_template_error_is_a_failed_result_not_a_crash(server):
    tool = HttpTool(
        name="bad", description="d", method="GET", url=Template(server.base + "/{{ nope.deeper }}")
    )
    res = await run_tool(tool, {})
    assert not res.ok and "could not build the request" in res.error
