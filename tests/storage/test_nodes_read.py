"""The compute nodes of ``up`` read what a seller uploaded through the API: the API
stores into the same storage the nodes' configuration names."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from kraken_market.catalog.schemas import DataSchema
from kraken_market.client import ApiError
from kraken_market.platform.nodes import prepare_nodes
from kraken_market.settings import Settings
from kraken_market.smpc import fixedpoint, shamir
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.smpc.node.worker import ProductInput, WorkerJob, load_tables
from kraken_market.smpc.owner import share_file
from kraken_market.storage.remote import MarketStorage
from tests.conftest import Account
from tests.factories import SCHEMA, product_body
from tests.storage.objects import table


def test_a_node_reads_the_shares_a_seller_uploaded(
    app: FastAPI, alice: Account, bob: Account, settings: Settings, tmp_path: Path
) -> None:
    nodes = prepare_nodes(settings, "http://127.0.0.1:1")  # keys and node.json, as 'up'
    assert {n.config.storage for n in nodes} == {settings.resolved_storage_location}
    item = alice.api.create_product(product_body("analytics"))["id"]
    data = table(80)
    data.to_csv(tmp_path / "visits.csv", index=False)
    uploads: list[str] = []

    def uploading(name: str) -> None:
        uploads.append(name)  # and no progress callback

    storage = MarketStorage(alice.api, item, uploading=uploading)
    signed = share_file(
        tmp_path / "visits.csv",
        item,
        DataSchema.model_validate(SCHEMA),
        [NodePublicKey(bytes.fromhex(n.hpke_public_key)) for n in nodes],
        storage,
        alice.key.private_key,
    )
    manifest = f"{item}/{signed.manifest.share_set}/manifest.jws"
    assert uploads[-1] == manifest and storage.stored[-1] == manifest and len(uploads) == 4
    product = ProductInput(product_id=item, manifest=manifest, owner=alice.key.did)
    elements = []
    for node in nodes[:2]:  # what each node's worker does with a job's inputs
        job = WorkerJob(
            request_id="0x" + "ee" * 32,
            node_index=node.config.index,
            m=3,
            t=1,
            storage=node.config.storage,
            key_file=str(node.config.hpke_key_file),
            products=[product],
            computations=[],
            result_key=node.hpke_public_key,
            out_dir=str(tmp_path / f"job-{node.config.index}"),
        )
        tables, shapes = load_tables(job)
        assert shapes[0][2] == 80
        elements.append((node.config.index + 1, tables[0].elements))
    values = fixedpoint.decode(shamir.recombine(elements, 1))
    assert values[0].tolist() == data.age.tolist()
    assert alice.api.object_size(manifest) == len(signed.jws)  # the owner may look
    with pytest.raises(ApiError) as hidden:  # share sets are for the nodes: no buyer reads
        bob.api.object_size(manifest, purchase=1)
    assert (hidden.value.status_code, hidden.value.api_code) == (403, "object_not_readable")
