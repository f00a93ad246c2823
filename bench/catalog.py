"""Catalog search latency at scale: the HTTP API against the raw query, SQLite and PostgreSQL.

Per backend: a throwaway database is migrated and bulk-seeded with ``--products``
synthetic products, normalised exactly as ``ProductService`` does (search tokens, list
price, policy masks, tag rows), then ANALYZEd. The real app is served by uvicorn on a
free local port and ten query kinds are timed three ways, interleaved per iteration
(the order rotates) so machine noise hits all three alike:

* api - an HTTP GET through one keep-alive httpx2 client: routing, validation, session,
  SQL, ORM loading, ``public()``, JSON encoding and the local socket round trip;
* orm - ``search_products(session, ProductQuery(...))`` in a fresh session: the SQL plus
  ORM row loading and the next cursor ("raw query" of the targets);
* sql - the very statement ``search_products`` ran (captured from its session),
  executed on a bare connection and fetched as plain rows: the database's share.

ratio = api p95 / orm p95, the cost of the HTTP layer on top of the query (1.0 would be
free). A high ratio with orm close to sql means time goes to validation, serialisation
or HTTP; a high api p95 with a low ratio means the query itself is slow: read its plan.
Targets, printed PASS/MISS and never asserted: p95 API search < 30 ms at 100k products
on SQLite; API overhead <= 2x the raw query.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine, create_engine, event, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable

from kraken_market.api.app import API_PREFIX
from kraken_market.catalog.models import Product, ProductTag
from kraken_market.catalog.query import ProductQuery, Sort, search_products
from kraken_market.catalog.schemas import LIST_PRICE, PRICES_OF_MODE, Policy
from kraken_market.catalog.service import _apply_policy, _apply_prices, _apply_text
from kraken_market.catalog.vocabulary import AccessMode, Availability, BuyerCategory, Purpose
from kraken_market.db.engine import make_engine, make_session_factory, write_session
from kraken_market.db.migrate import upgrade
from kraken_market.identity import presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey

ADMIN_URL = os.environ.get(
    "KRAKEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SEARCH = f"{API_PREFIX}/products"
BATCH, WARMUP, API_P95_MS, MAX_RATIO = 5000, 10, 30.0, 2.0
PROBES = ("api", "orm", "sql")
SUBJECTS = {
    "health": "heart rate,blood pressure,sleep quality,glucose levels,hospital admissions",
    "mobility": "bike sharing trips,traffic flow,parking occupancy,bus punctuality,commute times",
    "energy": "smart meter readings,solar output,heat pump usage,grid frequency,charging sessions",
    "finance": "card transactions,savings behaviour,loan repayments,insurance claims,budgets",
    "retail": "basket composition,store footfall,loyalty purchases,online orders,returns",
    "environment": "air quality,noise levels,river temperatures,pollen counts,rainfall",
}
TAGS = {  # 30 distinct tags, 5 per theme
    "health": "health wearables clinical fitness sleep",
    "mobility": "mobility transport traffic cycling urban",
    "energy": "energy smart-meter solar grid heating",
    "finance": "finance payments banking insurance crypto",
    "retail": "retail ecommerce consumer loyalty pricing",
    "environment": "environment air-quality weather climate sensors",
}
ALL_TAGS = " ".join(TAGS.values()).split()


def words(csv: str) -> list[str]:
    return csv.split(",")


QUALIFIERS = words("Daily,Hourly,Weekly,Monthly,Anonymised,Aggregated,Real-time,Historical,Raw")
PEOPLE = words("runners,commuters,households,patients,students,retirees,small businesses,farmers")
PLACES = words("Lisbon,Zürich,Kraków,Málaga,Berlin,Tallinn,Göteborg,Milano,Dublin,São Paulo")
SOURCES = words("wearables,smart meters,payment terminals,city sensors,mobile apps,surveys")
FIELDS = words("timestamps,postcodes,age bands,device types,durations,amounts,counts,areas")
USES = words("research,urban planning,public health studies,pricing models,forecasting")
RARE_WORD = "axolotl"  # in ~0.15% of descriptions
SCHEMA = {
    "columns": [
        {"name": "value", "type": "numeric", "unit": "units", "min": 0, "max": 1e6},
        {"name": "band", "type": "categorical", "categories": ["a", "b", "c"]},
    ]
}
COLUMNS = [attr.key for attr in inspect(Product).column_attrs]


def make_product(
    rng: random.Random, seq: int, owners: list[str], policies: list[Policy], start: datetime
) -> tuple[dict[str, Any], list[str]]:
    """One product's column values, set by the service's own normalisation helpers."""
    theme = rng.choice(list(SUBJECTS))
    subject, people = rng.choice(words(SUBJECTS[theme])), rng.choice(PEOPLE)
    year = rng.randint(2012, 2026)
    title = f"{rng.choice(QUALIFIERS)} {subject} of {people} in {rng.choice(PLACES)}, {year}"
    tags = rng.sample(TAGS[theme].split(), rng.randint(1, 3)) + rng.sample(ALL_TAGS, 1)
    sentences = [
        f"{subject.capitalize()} of {people}, collected from {rng.choice(SOURCES)} since {year}.",
        f"Includes {', '.join(rng.sample(FIELDS, 3))}.",
        f"{rng.randint(50, 500_000):,} participants, pseudonymised and consented.",
        f"Suitable for {rng.choice(USES)} and {rng.choice(USES)}.",
    ]
    description = " ".join(sentences[: rng.randint(2, 4)])
    if rng.random() < 0.0015:
        description += f" Includes a field study of the {RARE_WORD}."
    mode = rng.choices(list(AccessMode), weights=(5, 3, 2))[0]
    price = rng.randint(1, 999) * 10 ** rng.randint(0, 27)  # from units to far beyond 2^64
    values = {LIST_PRICE[mode]: price}
    if mode is AccessMode.STREAM:
        values["subscription_min_seconds"] = rng.choice([60, 3600, 86_400])
    prices = PRICES_OF_MODE[mode].model_validate(values)
    created = start + timedelta(seconds=seq * 600 + rng.randint(0, 599))
    product = Product(
        seq=seq,
        id="0x" + rng.randbytes(32).hex(),
        owner=rng.choice(owners),
        access_mode=mode.value,
        data_schema=SCHEMA if mode is AccessMode.ANALYTICS else None,
        availability=rng.choices(list(Availability), weights=(90, 5, 5))[0].value,
        stake=rng.randint(0, 10**21),
        parents=[],
        storage_links=[f"ipfs://bafy{rng.randbytes(16).hex()}"],
        version=1,
        created_at=created,
        updated_at=created + timedelta(hours=rng.randint(0, 2000)),
    )
    tags = list(dict.fromkeys(tags))
    _apply_text(product, title, description, tags)
    _apply_prices(product, mode, prices)
    _apply_policy(product, rng.choice(policies))
    return {key: getattr(product, key) for key in COLUMNS}, tags


def seed(engine: Engine, n: int, console: Console, owner: str) -> None:
    """Bulk-insert ``n`` products (with their tag rows; ``owner`` owns some), ANALYZE."""
    rng, sessions = random.Random(20_260_401), make_session_factory(engine)
    owners = [owner] + [f"did:key:bench-seller{i:03d}" for i in range(199)]
    policies = [
        Policy(
            purposes=rng.sample(list(Purpose), rng.randint(1, 3)),
            buyer_categories=rng.sample(list(BuyerCategory), rng.randint(1, 4)),
            regions=rng.choice([[], ["EU"], ["DE", "FR"], ["PT", "ES"]]),
        )
        for _ in range(64)
    ]
    start = datetime.now(UTC) - timedelta(seconds=600 * (n + 1))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"seeding {engine.dialect.name}", total=n)
        for first in range(1, n + 1, BATCH):
            rows, tag_rows = [], []
            for seq in range(first, min(first + BATCH, n + 1)):
                row, tags = make_product(rng, seq, owners, policies, start)
                rows.append(row)
                tag_rows += [{"product_seq": seq, "tag": tag} for tag in tags]
            with write_session(sessions) as session:
                session.execute(insert(Product), rows)
                session.execute(insert(ProductTag), tag_rows)
                session.commit()
            progress.advance(task, len(rows))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"SELECT setval('products_seq_seq', {n})"))
            connection.execute(text("VACUUM ANALYZE"))  # what autovacuum soon does in production
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def login(base_url: str, data_dir: Path, key: DidKey) -> str:
    """A session token for ``key``, with a PersonCredential from the server's demo issuer."""
    issuer = Issuer.open(data_dir / "issuer")
    with httpx2.Client(base_url=base_url, timeout=60) as client:
        challenge = client.post("/api/v1/auth/challenge").raise_for_status().json()
        credential = issuer.issue(
            CredentialType.PERSON,
            {"id": key.did, "name": "Bench Seller"},
            registry_url=challenge["audience"],
        )
        presentation = presentations.present(
            key, [credential], audience=challenge["audience"], nonce=challenge["nonce"]
        )
        answer = client.post("/api/v1/auth/login", json={"presentation": presentation})
        token: str = answer.raise_for_status().json()["session_token"]
        return token


KINDS = {  # the query mix; limit 20 (ProductQuery's default), listed products only
    "q=health (common)": ProductQuery(q="health"),
    f"q={RARE_WORD} (rare)": ProductQuery(q=RARE_WORD),
    "q=hea* (prefix)": ProductQuery(q="hea*"),
    "q=heart rate": ProductQuery(q="heart rate"),
    "mode=stream&tag=wearables": ProductQuery(access_mode=AccessMode.STREAM, tags=("wearables",)),
    "price 1e3..1e9, asc": ProductQuery(price_min=1000, price_max=10**9, sort=Sort.PRICE_ASC),
    "purpose&buyer_category": ProductQuery(
        purpose=Purpose.PUBLIC_HEALTH, buyer_category=BuyerCategory.COMPANY
    ),
    "newest, no filter": ProductQuery(),
    "sort=title": ProductQuery(sort=Sort.TITLE),
    "q=energy, page 3": ProductQuery(q="energy"),
}


def http_params(query: ProductQuery) -> dict[str, Any]:
    """The query string from which the route builds ``query`` (owner, availability: defaults)."""
    fields = asdict(query)
    del fields["owner"], fields["availability"]
    names = {"access_mode": "mode", "tags": "tag"}
    return {
        names.get(k, k): v if k == "tags" else str(v) for k, v in fields.items() if v is not None
    }


def page_three(client: httpx2.Client, query: ProductQuery) -> ProductQuery:
    """``query`` moved to its third page by following ``next_cursor`` twice."""
    for _ in range(2):
        page = client.get(SEARCH, params=http_params(query)).raise_for_status().json()
        assert page["next_cursor"], f"{query}: fewer than three pages"
        query = replace(query, cursor=page["next_cursor"])
    return query


def captured_statements(sessions: sessionmaker[Session], query: ProductQuery) -> list[Executable]:
    """The statements ``search_products`` executes for ``query`` (a relevance search runs
    one per score level it reads), bound parameters included."""
    statements: list[Executable] = []
    with sessions() as session:
        event.listen(session, "do_orm_execute", lambda state: statements.append(state.statement))
        search_products(session, query)
    return statements


def api_probe(client: httpx2.Client, params: dict[str, Any]) -> None:
    response = client.get(SEARCH, params=params)
    if response.status_code != 200:
        raise RuntimeError(f"GET {SEARCH} {params}: {response.status_code} {response.text:.300}")


def orm_probe(sessions: sessionmaker[Session], query: ProductQuery) -> None:
    with sessions() as session:
        search_products(session, query)


def sql_probe(engine: Engine, statements: list[Executable]) -> None:
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(statement).all()


Samples = dict[str, dict[str, list[float]]]  # kind -> probe -> milliseconds


def measure(engine: Engine, client: httpx2.Client, n: int, console: Console) -> Samples:
    sessions = make_session_factory(engine)
    samples: Samples = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"querying {engine.dialect.name}", total=n * len(KINDS))
        for name, listed in KINDS.items():
            query = page_three(client, listed) if name.endswith("page 3") else listed
            probes: dict[str, Callable[[], None]] = {
                "api": partial(api_probe, client, http_params(query)),
                "orm": partial(orm_probe, sessions, query),
                "sql": partial(sql_probe, engine, captured_statements(sessions, query)),
            }
            for warm_up in [*probes.values()] * WARMUP:
                warm_up()
            times: dict[str, list[float]] = {probe: [] for probe in PROBES}
            for i in range(n):
                for probe in PROBES[i % 3 :] + PROBES[: i % 3]:  # rotate who goes first
                    started = time.perf_counter()
                    probes[probe]()
                    times[probe].append((time.perf_counter() - started) * 1000)
                progress.advance(task)
            samples[name] = times
    return samples


@contextmanager
def serve(
    engine: Engine, data_dir: Path, workers: int = 1, settings: dict[str, str] | None = None
) -> Iterator[str]:
    """The real API as deployed: ``kraken-market api serve`` in its own process (so the
    benchmark's client does not share an interpreter with the server) with ``workers``
    worker processes and any other ``KRAKEN_*`` ``settings``; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update(
        KRAKEN_DATABASE_URL=engine.url.render_as_string(hide_password=False),
        KRAKEN_DATA_DIR=str(data_dir),
        KRAKEN_API_PORT=str(port),
        KRAKEN_API_WORKERS=str(workers),
        KRAKEN_LOG_LEVEL="WARNING",
    )
    env.update(settings or {})
    server = subprocess.Popen(
        [sys.executable, "-m", "kraken_market", "api", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            try:
                if httpx2.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                time.sleep(0.1)
        if workers > 1:
            time.sleep(1.0)  # the first worker answered; the others have imported too
        yield url
    finally:
        server.terminate()
        server.wait(20)


@contextmanager
def database(backend: str, tmp: Path, console: Console) -> Iterator[str | None]:
    """A fresh database URL (None: PostgreSQL unreachable); PostgreSQL's is dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"kraken_bench_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" ENCODING UTF8 TEMPLATE template0'))
    except Exception as exc:  # any failure to reach the server
        admin.dispose()
        where = make_url(ADMIN_URL).render_as_string()
        console.print(f"[yellow]SKIP postgresql: unreachable at {where}: {exc!s:.200}[/]")
        yield None
        return
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def summarise(times: dict[str, list[float]]) -> dict[str, Any]:
    pcts = {p: statistics.quantiles(v, n=100, method="inclusive") for p, v in times.items()}
    stats: dict[str, Any] = {p: {"p50": q[49], "p95": q[94]} for p, q in pcts.items()}
    stats["ratio"] = stats["api"]["p95"] / stats["orm"]["p95"]
    stats["api_over_sql"] = stats["api"]["p95"] / stats["sql"]["p95"]
    return stats


def report(backend: str, n: int, seed_s: float, samples: Samples, console: Console) -> Any:
    title = f"{backend}: {n:,} products (seeded in {seed_s:.0f} s); ms, ratio = API p95 / ORM p95"
    table = Table(title=title)
    table.add_column("query", no_wrap=True)
    for header in ("API p50", "API p95", "ORM p50", "ORM p95", "SQL p50", "SQL p95", "ratio"):
        table.add_column(header, justify="right")
    table.add_column("API/SQL", justify="right")
    pooled = {probe: [t for times in samples.values() for t in times[probe]] for probe in PROBES}
    kinds = {name: summarise(times) for name, times in [*samples.items(), ("overall", pooled)]}
    for name, stats in kinds.items():
        slow = stats["api"]["p95"] > API_P95_MS or stats["ratio"] > MAX_RATIO
        cells = [f"{stats[p][q]:.2f}" for p in PROBES for q in ("p50", "p95")]
        ratios = f"{stats['ratio']:.2f}x", f"{stats['api_over_sql']:.2f}x"
        style = "bold red" if slow else ("bold" if name == "overall" else None)
        table.add_row(name, *cells, *ratios, style=style, end_section=name == list(samples)[-1])
    console.print(table)
    overall = kinds["overall"]
    fast, cheap = overall["api"]["p95"] < API_P95_MS, overall["ratio"] <= MAX_RATIO
    note = "" if backend == "sqlite" and n == 100_000 else " (the target is for SQLite at 100k)"
    console.print(
        f"[bold]{backend}[/]: overall p95 API {overall['api']['p95']:.2f} ms, raw "
        f"{overall['orm']['p95']:.2f} ms (SQL alone {overall['sql']['p95']:.2f} ms), ratio "
        f"{overall['ratio']:.2f}x | p95 API search < {API_P95_MS:.0f} ms at 100k products on "
        f"SQLite: {'PASS' if fast else 'MISS'}{note} | API overhead <= {MAX_RATIO:.0f}x the raw "
        f"query: {'PASS' if cheap else 'MISS'}\n"
    )
    targets = {"api_p95_under_30ms": fast, "overhead_at_most_2x": cheap}
    return {"products": n, "seed_s": seed_s, "kinds": kinds, "targets": targets}


def run_backend(backend: str, args: argparse.Namespace, console: Console) -> Any:
    with (
        tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp,
        database(backend, Path(tmp), console) as url,
    ):
        if url is None:
            return None
        engine = make_engine(url)
        try:
            upgrade(engine)
            started = time.perf_counter()
            owner = DidKey.generate()
            seed(engine, args.products, console, owner.did)
            seed_s = time.perf_counter() - started
            with (
                serve(engine, Path(tmp) / "data") as base_url,
                httpx2.Client(base_url=base_url, timeout=60) as client,
            ):
                token = login(base_url, Path(tmp) / "data", owner)
                client.headers["Authorization"] = f"Bearer {token}"
                samples = measure(engine, client, args.queries, console)
            return report(backend, args.products, seed_s, samples, console)
        finally:
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Catalog search latency: API vs raw query.")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="timed runs per query kind")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, tables on stderr")
    args = parser.parse_args()
    if args.products < 1000 or args.queries < 2:
        parser.error("use at least --products 1000 and --queries 2")
    console = Console(stderr=args.json)
    console.width = max(console.width, 120)  # the table is ~110 columns wide
    started = time.perf_counter()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {backend: run_backend(backend, args, console) for backend in backends}
    wall_s = time.perf_counter() - started
    console.print(f"total wall time {wall_s:.1f} s")
    if args.json:
        print(json.dumps({"queries": args.queries, "wall_s": wall_s, "backends": results}))


if __name__ == "__main__":
    main()
