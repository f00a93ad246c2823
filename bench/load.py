"""Load benchmark: search throughput per API worker, many buyers paying at once, a stream
with hundreds of readers. Loopback only, bounded in time; every part prints a baseline
and ours side by side, from the same run, and the targets as PASS/MISS (never asserted:
the machines are noisy).

* search: a throwaway PostgreSQL database with ``--products`` products; the real API
  (``kraken-market api serve``) with 1 worker, then 2; ``--seconds`` of searches at
  1/8/32/64 concurrent clients each. Target: throughput with 2 workers >= 1.7x one.
* compute: the whole platform (``kraken-market up``); a seller shares ``--rows`` rows;
  K buyers (``--buyers``, default 1,2,4,8,16,32) each pay for a mean through the
  marketplace at the same moment and wait for their DataFrame. Baseline: one buyer
  alone. Targets: all K succeed with the right mean, each charged exactly once, no
  chain event missing from the indexer (``ledger reindex --check``), p95 time to
  DataFrame <= K/2 x the single buyer's.
* relay: on the same platform, ``--readers`` readers (from ``--subscribers`` paying
  subscribers, in another process) follow one stream's events, as the SDK does (or
  long-poll it, ``--long-poll``), while its owner publishes a frame a second;
  meanwhile a probe searches every 50 ms. Baseline: the probe with no readers.
  Targets: the probe's p95 <= 100 ms, the publisher keeps 1 frame/s.

    .venv/bin/python -m bench.load [--parts search,compute,relay] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
from rich.console import Console

from bench.catalog import KINDS, database, http_params, seed, serve
from bench.e2e import analytics_product, start_platform
from kraken_market.db.engine import make_engine
from kraken_market.db.migrate import upgrade
from kraken_market.identity.keys import DidKey

SEARCH = "/api/v1/products"
CONCURRENCY = (1, 8, 32, 64)


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat (Linux)."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def p(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# -- search ------------------------------------------------------------------------------


async def hammer(base: str, concurrency: int, seconds: float) -> dict[str, Any]:
    """``concurrency`` clients searching back to back (the query mix rotates)."""
    mix = [http_params(query) for query in KINDS.values() if "page 3" not in str(query)]
    latencies: list[float] = []
    failed = 0
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        for params in mix:  # warm every worker's caches a little
            await http.get(SEARCH, params=params)
        stop = time.perf_counter() + seconds

        async def client(i: int) -> None:
            nonlocal failed
            n = i
            while time.perf_counter() < stop:
                started = time.perf_counter()
                answer = await http.get(SEARCH, params=mix[n % len(mix)])
                latencies.append(time.perf_counter() - started)
                failed += answer.status_code != 200
                n += 1

        busy, total = cpu_times()
        await asyncio.gather(*(client(i) for i in range(concurrency)))
        busy, total = cpu_times()[0] - busy, cpu_times()[1] - total
    return {
        "machine_busy": busy / total if total else math.nan,
        "throughput": len(latencies) / seconds,
        "p50_ms": 1000 * p(latencies, 0.5),
        "p99_ms": 1000 * p(latencies, 0.99),
        "failed": failed,
    }


def search_part(args: argparse.Namespace, tmp: Path, console: Console) -> dict[str, Any] | None:
    with database("postgresql", tmp, console) as url:
        if url is None:
            return None
        engine = make_engine(url)
        upgrade(engine)
        seed(engine, args.products, console, DidKey.generate().did)
        result: dict[str, Any] = {}
        for workers in (1, 2):
            with serve(engine, tmp / f"api-{workers}", workers) as base:
                for concurrency in CONCURRENCY:
                    run = asyncio.run(hammer(base, concurrency, args.seconds))
                    result[f"{workers}w/{concurrency}"] = run
                    console.print(
                        f"  search, {workers} worker(s), {concurrency:>2} concurrent: "
                        f"{run['throughput']:6.0f}/s, p99 {run['p99_ms']:6.1f} ms, machine "
                        f"{run['machine_busy']:.0%} busy"
                        + (f", {run['failed']} failed" if run["failed"] else "")
                    )
        engine.dispose()
    ratios = [
        result[f"2w/{c}"]["throughput"] / result[f"1w/{c}"]["throughput"] for c in CONCURRENCY
    ]
    result["best_ratio"] = max(ratios)
    return result


# -- compute -----------------------------------------------------------------------------


class Platform:
    """``kraken-market up`` in a temporary folder, with a story's cast to act on it."""

    def __init__(self, tmp: Path, console: Console) -> None:
        from kraken_market.platform.report import PlatformInfo
        from kraken_market.settings import Settings
        from kraken_market.story.context import Story

        self.data_dir = tmp / "data"
        self.up, self.env, self.ready = start_platform(self.data_dir)
        info = PlatformInfo.model_validate_json((self.data_dir / "platform.json").read_text())
        self.settings = Settings(
            data_dir=self.data_dir,
            api_port=int(self.env["KRAKEN_API_PORT"]),
            chain_port=int(self.env["KRAKEN_CHAIN_PORT"]),
        )
        self.story = Story(self.settings, info, tmp / "out", console)
        self.api_url = self.settings.resolved_api_url

    def close(self) -> None:
        import signal

        self.story.close()
        self.up.send_signal(signal.SIGINT)
        self.up.wait(timeout=60)

    def events_check(self) -> str:
        """``ledger reindex --check``: every chain event in the database, exactly once."""
        done = subprocess.run(
            [sys.executable, "-m", "kraken_market", "ledger", "reindex", "--check"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return "ok" if done.returncode == 0 else (done.stdout + done.stderr).strip()[-300:]


def buy_mean(platform: Platform, buyer: Any, product: str, folder: Path) -> dict[str, Any]:
    from kraken_market.smpc.functions.spec import ComputationSpec
    from kraken_market.trade.results import compute_via_market

    spec = ComputationSpec(function="mean@1", columns=["age"])
    rid = platform.story.request_id()
    before = buyer.ledger.balance()
    started = time.perf_counter()
    try:
        outcome = compute_via_market(
            buyer.api, buyer.ledger, spec, [product], "research", rid, folder, timeout=600
        )
    except Exception as exc:  # counted and shown: a failed buyer is what the bench looks for
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300], "rid": rid}
    seconds = time.perf_counter() - started
    table = outcome.table
    return {
        "ok": table is not None,
        "seconds": seconds,
        "mean": None if table is None else float(table.loc["mean", "age"]),
        "charged": before - buyer.ledger.balance(),
        "rid": rid,
    }


def compute_part(args: argparse.Namespace, platform: Platform, console: Console) -> dict[str, Any]:
    from kraken_market.story.actors import DATA
    from kraken_market.trade.buy import ensure_grant

    product, table = analytics_product(platform.story, args.rows)
    expected = float(table.age.mean())
    counts = [int(k) for k in args.buyers.split(",")]
    buyers = []
    for i in range(max(counts)):
        buyer = platform.story.cast.actor(f"buyer{i}", category="research-institution")
        ensure_grant(buyer.api, buyer.ledger, product["id"], "research")
        buyers.append(buyer)
    console.print(f"  {len(buyers)} buyers with grants; {args.rows:,} rows shared")
    folder = platform.story.work_dir / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    single = None
    for k in counts:
        with ThreadPoolExecutor(k) as pool:
            runs = list(
                pool.map(lambda b: buy_mean(platform, b, product["id"], folder), buyers[:k])
            )
        ok = [r for r in runs if r["ok"] and abs(r["mean"] - expected) < 1e-6]
        times = [r["seconds"] for r in ok]
        twice = [r for r in ok if r["charged"] != DATA]
        p95 = p(times, 0.95)
        if single is None and times:  # the first K (1 by default) is the baseline
            single = statistics.median(times)
        result[str(k)] = {
            "succeeded": len(ok),
            "failed": [r.get("error") for r in runs if not r["ok"]],
            "charged_not_once": len(twice),
            "p50_s": p(times, 0.5),
            "p95_s": p95,
            "p95_over_single": p95 / single if single else math.nan,
        }
        console.print(
            f"  compute, {k:>2} buyers at once: {len(ok)}/{k} right results, p50 "
            f"{result[str(k)]['p50_s']:.1f} s, p95 {p95:.1f} s = "
            f"{result[str(k)]['p95_over_single']:.1f}x one buyer (target <= {max(1, k / 2):g}x)"
            + (f"; FAILED: {result[str(k)]['failed'][:2]}" if len(ok) < k else "")
        )
    result["events"] = platform.events_check()
    console.print(f"  chain events in the database: {result['events']}")
    return result


# -- relay -------------------------------------------------------------------------------


def readers_process(
    api_url: str,
    product: str,
    tokens: list[str],
    per: int,
    seconds: float,
    long_poll: bool,
    out: Any,
) -> None:
    """Long-polling readers (their own process: the probe does not share their CPU)."""
    import base64

    from kraken_market.access.stream.messages import parse_header

    async def run() -> dict[str, Any]:
        delays: list[float] = []
        refused = 0
        stop = time.time() + seconds
        limits = httpx2.Limits(max_connections=len(tokens) * per + 10)
        async with httpx2.AsyncClient(base_url=api_url, limits=limits, timeout=60) as http:

            async def reader(token: str) -> None:
                """Follows the stream's events (what the SDK does), reconnecting after the
                last id; with ``long_poll``, re-asks GET .../messages after each answer."""
                nonlocal refused
                after = 0
                headers = {"Authorization": f"Bearer {token}"}
                while time.time() < stop:
                    if long_poll:
                        answer = await http.get(
                            f"/api/v1/streams/{product}/messages",
                            params={"after": after, "wait": 20},
                            headers=headers,
                        )
                        if answer.status_code != 200:
                            refused += 1
                            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                            continue
                        page = answer.json()
                        after = page["last_seq"]
                        arrived(page["frames"])
                        continue
                    params = {"after": after, "seconds": max(1.0, stop - time.time())}
                    async with http.sse(
                        f"/api/v1/streams/{product}/events", params=params, headers=headers
                    ) as source:
                        if source.response.status_code != 200:
                            refused += 1
                            await asyncio.sleep(1)
                            continue
                        async for event in source:
                            if event.data:
                                arrived([event.data])
                                after = int(event.id)

            def arrived(frames: list[str]) -> None:
                for frame in frames:
                    sent_ms = parse_header(base64.b64decode(frame)).timestamp_ms
                    delays.append(time.time() - sent_ms / 1000)

            await asyncio.gather(*(reader(t) for t in tokens for _ in range(per)))
        return {"delays": delays, "refused": refused}

    out.put(asyncio.run(run()))


def probe(api_url: str, seconds: float) -> list[float]:
    """Searches every 50 ms: what everyone else sees of the API meanwhile."""
    latencies = []
    with httpx2.Client(base_url=api_url, timeout=30) as http:
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            started = time.perf_counter()
            http.get(SEARCH, params={"q": "load"})
            latencies.append(time.perf_counter() - started)
            time.sleep(max(0.0, 0.05 - (time.perf_counter() - started)))
    return latencies


def relay_part(args: argparse.Namespace, platform: Platform, console: Console) -> dict[str, Any]:
    from kraken_market.access.stream.messages import FrameHeader, seal
    from kraken_market.trade.buy import ensure_grant
    from kraken_market.trade.publish import publish_on_chain

    story = platform.story
    owner = story.cast.actor("publisher")
    product = owner.api.create_product(
        {
            "title": "load bench stream",
            "description": "load bench stream",
            "access_mode": "stream",
            "prices": {"subscription_per_second": "1000", "subscription_min_seconds": 60},
            "policy": {"purposes": ["research"]},
            "stake": "0",
        }
    )["id"]
    publish_on_chain(owner.api, owner.ledger, product, wait=30)
    tokens = []
    for i in range(args.subscribers):
        reader = story.cast.actor(f"reader{i}", category="research-institution")
        ensure_grant(reader.api, reader.ledger, product, "research")
        reader.ledger.subscribe(product, 0, 3600)
        tokens.append(reader.session["session_token"])
    per = max(1, args.readers // args.subscribers)
    how = "long-polls" if args.long_poll else "event streams"
    console.print(f"  {len(tokens)} subscribers x {per} {how} on one stream")
    idle = probe(platform.api_url, args.relay_seconds / 2)
    queue: Any = multiprocessing.get_context("spawn").Queue()
    readers = multiprocessing.get_context("spawn").Process(
        target=readers_process,
        args=(
            platform.api_url,
            product,
            tokens,
            per,
            args.relay_seconds + 5,
            args.long_poll,
            queue,
        ),
    )
    readers.start()
    time.sleep(3)  # the long-polls are open
    key = bytes(32)
    sent, posts = 0, []
    busy: list[float] = []
    prober = threading.Thread(
        target=lambda: busy.extend(probe(platform.api_url, args.relay_seconds))
    )
    prober.start()
    started = time.perf_counter()
    headers = {**owner.api.http.headers, "Content-Type": "application/octet-stream"}
    with httpx2.Client(base_url=platform.api_url, timeout=30) as http:
        while time.perf_counter() - started < args.relay_seconds:
            sent += 1
            header = FrameHeader(bytes.fromhex(product[2:]), 1, sent, int(time.time() * 1000))
            t0 = time.perf_counter()
            answer = http.post(
                f"/api/v1/streams/{product}/messages",
                content=seal(header, key, b"reading"),
                headers=headers,
            )
            posts.append(time.perf_counter() - t0)
            assert answer.status_code == 201, answer.text
            time.sleep(max(0.0, started + sent - time.perf_counter()))
    rate = sent / (time.perf_counter() - started)
    prober.join()
    readers.join(60)
    got = queue.get(timeout=30)
    result = {
        "frames_per_second": rate,
        "publish_p95_ms": 1000 * p(posts, 0.95),
        "probe_idle_p95_ms": 1000 * p(idle, 0.95),
        "probe_busy_p95_ms": 1000 * p(busy, 0.95),
        "delivery_p95_ms": 1000 * p(got["delays"], 0.95),
        "frames_delivered": len(got["delays"]),
        "frames_expected": sent * len(tokens) * per,
        "refused": got["refused"],
    }
    console.print(
        f"  relay: publisher {rate:.2f} frames/s (target 1), search p95 "
        f"{result['probe_idle_p95_ms']:.0f} ms idle -> {result['probe_busy_p95_ms']:.0f} ms with "
        f"{len(tokens) * per} readers (target <= 100 ms); delivery p95 "
        f"{result['delivery_p95_ms']:.0f} ms; {result['frames_delivered']}/"
        f"{result['frames_expected']} frames delivered"
    )
    return result


# -- the run -----------------------------------------------------------------------------


def verdicts(result: dict[str, Any]) -> list[tuple[str, bool]]:
    found = []
    if result.get("search"):
        found.append(("search: 2 workers >= 1.7x one", result["search"]["best_ratio"] >= 1.7))
    if result.get("compute"):
        compute = result["compute"]
        for k, run in compute.items():
            if k == "events":
                continue
            found.append((f"compute K={k}: all succeed, each charged once",
                          not run["failed"] and run["charged_not_once"] == 0
                          and run["succeeded"] == int(k)))  # fmt: skip
            found.append((f"compute K={k}: p95 <= K/2 x single",
                          run["p95_over_single"] <= max(1.0, int(k) / 2)))  # fmt: skip
        found.append(("compute: no chain event lost", compute["events"] == "ok"))
    if result.get("relay"):
        relay = result["relay"]
        found.append(("relay: search p95 <= 100 ms", relay["probe_busy_p95_ms"] <= 100))
        found.append(("relay: publisher 1 frame/s", relay["frames_per_second"] >= 0.95))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="search,compute,relay")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per search measurement")
    parser.add_argument("--buyers", default="1,2,4,8,16,32")
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--relay-seconds", type=float, default=20.0)
    parser.add_argument(
        "--long-poll", action="store_true", help="readers long-poll instead of following events"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)
    parts = set(args.parts.split(","))
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if "search" in parts:
            console.print("[bold]search[/bold] (PostgreSQL)")
            result["search"] = search_part(args, tmp, console)
        if parts & {"compute", "relay"}:
            console.print("[bold]platform[/bold] (kraken-market up)")
            platform = Platform(tmp, console)
            try:
                if "compute" in parts:
                    result["compute"] = compute_part(args, platform, console)
                if "relay" in parts:
                    result["relay"] = relay_part(args, platform, console)
            finally:
                platform.close()
    found = verdicts(result)
    result["targets"] = {name: ok for name, ok in found}
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    for name, ok in found:
        console.print(f"{'[green]PASS' if ok else '[red]MISS'}[/] {name}")


if __name__ == "__main__":
    main()
