"""The load process: `python -m bench.load` reads a JSON spec on stdin, posts signed deliveries at rising
rates over keep-alive connections on the loopback, and writes one JSON line per step on stdout.

Open loop: delivery i of a step is due at t0 + i/rate, whatever happened to the ones before; a fixed number
of connections (one thread each) carry them, so a server that falls behind shows as a rate below the target
and as latency. Bodies and signatures are built before each step so that the load process spends its time
sending. Latency is measured from the moment a request is written to the moment its whole answer is read.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import socket
import sys
import threading
import time

from bench.payloads import Deliveries, signature

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Connection:
    """One keep-alive HTTP/1.1 connection with just enough parsing for gunicorn's answers."""

    def __init__(self, host: str, port: int, timeout: float):
        self.address = (host, port)
        self.timeout = timeout
        self.sock = None
        self.buffer = b""

    def _open(self) -> None:
        self.close()
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _receive(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed by the server")
        return chunk

    def _exchange(self, request: bytes) -> int:
        if self.sock is None:
            self._open()
        self.sock.sendall(request)
        buffer = self.buffer
        while b"\r\n\r\n" not in buffer:
            buffer += self._receive()
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status = int(head[9:12])
        lowered = head.lower()
        start = lowered.find(b"\r\ncontent-length:")
        length = 0
        if start >= 0:
            end = lowered.find(b"\r\n", start + 2)
            length = int(lowered[start + 17 : end if end >= 0 else len(lowered)])
        while len(rest) < length:
            rest += self._receive()
        self.buffer = rest[length:]
        if b"\r\nconnection: close" in lowered:
            self.close()
        return status

    def request(self, request: bytes) -> tuple[int, int]:
        """Send one request; returns (status, retries). Status 0: no answer (reset or timeout)."""
        reused = self.sock is not None
        try:
            return self._exchange(request), 0
        except (ConnectionResetError, BrokenPipeError) as exc:
            self.close()
            # gunicorn closes a keep-alive connection it found idle; a request written to it was never read.
            if reused and not self.buffer and "closed by the server" in str(exc):
                try:
                    return self._exchange(request), 1
                except OSError:
                    self.close()
            return 0, 1
        except OSError:
            self.close()
            return 0, 0


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def _percentile(sorted_values: list[float], share: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(share * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def build_requests(spec: dict, deliveries: Deliveries, count: int) -> list[tuple[str, bytes]]:
    """`count` complete HTTP requests, each a new signed delivery."""
    host = f"{spec['host']}:{spec['port']}"
    built = []
    for _ in range(count):
        message_id, body = deliveries.next()
        head = (
            f"POST {spec['path']} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: facebookexternalua\r\n"
            f"Content-Type: application/json\r\nX-Hub-Signature-256: {signature(spec['app_secret'], body)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        built.append((message_id, head.encode() + body))
    return built


def run_step(spec: dict, rate: float, requests: list[tuple[str, bytes]]) -> tuple[dict, list[str]]:
    """Offer `requests` at `rate` per second; returns the step's figures and the acknowledged message ids."""
    count = len(requests)
    connections = [Connection(spec["host"], spec["port"], spec["timeout"]) for _ in range(spec["connections"])]
    results: list[tuple | None] = [None] * count
    counter = itertools.count()
    watched = {name: _cpu_seconds(pid) for name, pid in spec.get("watch_pids", {}).items()}
    own_cpu = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter() + 0.05
    issue_until = t0 + count / rate * spec["overrun"]

    def sender(connection: Connection) -> None:
        while True:
            i = next(counter)
            if i >= count:
                return
            due = t0 + i / rate
            now = time.perf_counter()
            if now > issue_until:
                continue  # the step is over: the rest are not sent (counted as not sent)
            if due > now:
                time.sleep(due - now)
            started = time.perf_counter()
            status, retries = connection.request(requests[i][1])
            results[i] = (status, started, time.perf_counter() - started, retries)

    threads = [threading.Thread(target=sender, args=(c,), daemon=True) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.close()
    finished = [r for r in results if r is not None]
    elapsed = max((r[1] + r[2] for r in finished), default=t0) - t0
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    ok = [r for r in finished if r[0] == 200]
    latencies = sorted(r[2] for r in ok)
    statuses: dict[str, int] = {}
    for r in finished:
        statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1
    wall = max(elapsed, 1e-9)
    cpu = {}
    for name, pid in spec.get("watch_pids", {}).items():
        after = _cpu_seconds(pid)
        if after is not None and watched[name] is not None:
            cpu[name] = round(100 * (after - watched[name]) / wall, 1)
    cpu["load"] = round(
        100 * (own_after.ru_utime + own_after.ru_stime - own_cpu.ru_utime - own_cpu.ru_stime) / wall, 1
    )
    figures = {
        "target_rate": rate,
        "offered": count,
        "sent": len(finished),
        "not_sent": count - len(finished),
        "acked": len(ok),
        "statuses": statuses,
        "retries": sum(r[3] for r in finished),
        "seconds": round(elapsed, 3),
        "ack_rate": round(len(ok) / wall, 1),
        "p50_ms": _ms(_percentile(latencies, 0.50)),
        "p95_ms": _ms(_percentile(latencies, 0.95)),
        "p99_ms": _ms(_percentile(latencies, 0.99)),
        "max_ms": _ms(latencies[-1] if latencies else None),
        "late_start_p99_ms": _ms(_percentile(sorted(max(0.0, r[1] - (t0 + i / rate)) for i, r in enumerate(results)
                                                   if r is not None), 0.99)),
        "cpu_percent": cpu,
    }
    figures["kept_up"] = (
        figures["not_sent"] == 0
        and len(ok) == count
        and figures["ack_rate"] >= spec["keep_up"] * rate
    )
    acked_ids = [requests[i][0] for i, r in enumerate(results) if r is not None and r[0] == 200]
    return figures, acked_ids


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def main() -> None:
    """Run the steps of the spec read on stdin until the server stops keeping up."""
    spec = json.load(sys.stdin)
    deliveries = Deliveries(spec["phone_number_id"], spec["run_tag"], seed=spec.get("seed", 1))
    with open(spec["acked_file"], "w") as acked_file:
        for rate in spec["rates"]:
            count = max(1, min(int(rate * spec["step_seconds"]), spec["max_requests"]))
            requests = build_requests(spec, deliveries, count)
            figures, acked_ids = run_step(spec, rate, requests)
            acked_file.write("".join(f"{message_id}\n" for message_id in acked_ids))
            acked_file.flush()
            print(json.dumps(figures), flush=True)
            if not figures["kept_up"]:
                break
            time.sleep(spec.get("pause", 0.5))


if __name__ == "__main__":
    main()
