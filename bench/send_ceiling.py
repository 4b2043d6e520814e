"""The campaign benchmark's baseline: how many messages a second this machine pushes to the fake Graph API
through the WhatsApp connector alone, with as many processes as the campaign has workers.

Each process sends one message after another through `connectors.whatsapp.client.send` (heyoo, the same
requests session and payloads as a campaign send) for a fixed time: no database, no rate limiter, no RQ. What
a campaign reaches against this is what its claims, limiter and jobs cost on the same cores.

One process: `python -m bench.send_ceiling <graph url> <seconds> <tag>`.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench.fake_graph import FakeGraph

WARM_SECONDS = 3.0  # processes starting (imports) are left out of the rate
TAIL_SECONDS = 1.0


def measure(graph: FakeGraph, processes: int, seconds: float, cwd) -> dict:
    """Run `processes` sending processes for `seconds` against `graph`; the steady rate of arrivals."""
    first = graph.count()
    started = time.monotonic()
    senders = [
        subprocess.Popen([sys.executable, "-m", "bench.send_ceiling", graph.url, f"{seconds:g}", str(tag)], cwd=cwd)
        for tag in range(processes)
    ]
    for sender in senders:
        sender.wait()
    times = sorted(moment for moment, _ in graph.snapshot()[first:])
    if len(times) < 2:
        return {"processes": processes, "rate": None, "arrivals": len(times)}
    start, end = times[0] + WARM_SECONDS, times[-1] - TAIL_SECONDS
    inside = sum(1 for moment in times if start <= moment < end)
    return {
        "processes": processes,
        "rate": round(inside / (end - start), 1) if end > start else None,
        "arrivals": len(times),
        "seconds": round(time.monotonic() - started, 1),
    }


def send_for(url: str, seconds: float, tag: str) -> int:
    """Send through the connector until `seconds` have passed; returns how many were sent."""
    from connectors.base import AccountSettings, OutboundMessage
    from connectors.whatsapp import client

    account = AccountSettings(external_id="100000000000001", secrets={"token": "ceiling"}, api_base_url=url)
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        to = f"2127{int(tag):03d}{sent:05d}"
        client.send(account, OutboundMessage(to=to, text=f"Bonjour P{sent}, votre facture de 12 DH est disponible."))
        sent += 1
    return sent


if __name__ == "__main__":
    send_for(sys.argv[1], float(sys.argv[2]), sys.argv[3])
