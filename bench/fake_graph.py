"""A fake WhatsApp Graph API for the campaign tests and benchmark: a real threaded HTTP server, so that
separate worker processes reach it as they would reach Meta.

It answers `POST /<phone number id>/messages` with a fresh message id after `latency` seconds, and records
each request's arrival (monotonic time on this server's clock, and its `to`). `GET /_arrivals` returns what
was recorded (`?since=N`: from the N-th arrival on) and `GET /_count` how many, so a test or a benchmark in
another process reads the platform's view of what was sent.

Run on its own: `python -m bench.fake_graph --port 8765 --latency 0.05` (prints its URL when listening).
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many workers connect at once; the default backlog of 5 drops SYNs


class FakeGraph:
    """The server, its arrivals, and an optional hook called on each send before it is answered."""

    def __init__(self, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0):
        self.latency = latency
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.on_send = None  # fn(index, to) -> "answer" | "drop": called as a send arrives, before its answer
        self._server = _Server((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v21.0"

    def start(self) -> FakeGraph:
        """Serve from a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def snapshot(self) -> list[tuple[float, str]]:
        with self.lock:
            return list(self.arrivals)

    def _handler(self):
        graph = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the workers reuse their connection

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):  # quiet: thousands of requests a second
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                head = (
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
                ).encode()
                self.wfile.write(head + data)  # one write: no Nagle / delayed-ACK stall between head and body

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/_count":
                    self._answer(200, {"count": graph.count()})
                    return
                if parts.path == "/_arrivals":
                    since = int(parse_qs(parts.query).get("since", ["0"])[0])
                    with graph.lock:
                        rows = graph.arrivals[since:]
                    self._answer(200, {"arrivals": rows})
                    return
                self._answer(404, {"error": {"code": 100, "message": "unknown path"}})

            def do_POST(self):
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.endswith("/messages"):
                    self._answer(404, {"error": {"code": 100, "message": "unknown path"}})
                    return
                to = str(body.get("to"))
                with graph.lock:
                    graph.arrivals.append((arrived, to))
                    index = len(graph.arrivals)
                if graph.on_send is not None and graph.on_send(index, to) == "drop":
                    self.close_connection = True
                    return
                if graph.latency:
                    time.sleep(graph.latency)
                self._answer(200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.fake.{index}"}]})

        return Handler


def windows(times: list[float], width: float = 1.0) -> int:
    """The most arrivals in any sliding window of `width` seconds (half-open: [t, t + width))."""
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= width:
            start += 1
        most = max(most, end - start + 1)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.05)
    options = parser.parse_args()
    graph = FakeGraph(options.latency, options.host, options.port)
    print(graph.url, flush=True)
    try:
        graph.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
