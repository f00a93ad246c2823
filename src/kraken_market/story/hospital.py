"""The hospital's part of the demo: an employee authorised through the Depute tool
publishes an analytics product, researchers buy computations, approve, claim; the
arbiter rules; the employee's authority is revoked and the next publish refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from kraken_market.client import ApiError
from kraken_market.depute import client as depute
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.identity.wallet import Wallet
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.story.actors import DATA, Actor
from kraken_market.story.context import Story
from kraken_market.trade.results import compute_via_market

SCHEMA: dict[str, Any] = {
    "columns": [
        {"name": "age", "type": "numeric", "unit": "years", "min": 0, "max": 120},
        {"name": "heart_rate", "type": "numeric", "unit": "bpm", "min": 20, "max": 250},
        {"name": "sex", "type": "categorical", "categories": ["f", "m", "x"]},
    ]
}
POLICY = {
    "purposes": ["research", "public-health"],
    "buyer_categories": ["research-institution", "company"],
    "regions": ["EU"],
}


def patients(rows: int = 200, seed: int = 2026) -> pd.DataFrame:
    """Synthetic patients: heart rate rises with age, plus noise."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, rows)
    heart_rate = np.round(55 + 0.3 * age + rng.normal(0, 4, rows), 1)
    sex = rng.choice(["f", "m"], rows)
    return pd.DataFrame({"age": age, "heart_rate": heart_rate, "sex": sex})


def _representative(story: Story) -> tuple[DidKey, list[str]]:
    info = next(w for w in story.platform.wallets if w.role == "representative")
    wallet = Wallet.open(Path(info.path))
    keys = wallet.unlock(Path(story.platform.wallet_passphrase_file).read_text().strip())
    return keys.did_key, [c.token for c in wallet.credentials(CredentialType.PERSON.value)]


def authorise_employee(story: Story) -> tuple[Actor, str, dict[str, str]]:
    """The representative authorises a new employee by DID; the employee fetches the
    AttorneyCredential and logs in to the marketplace acting for the hospital."""
    company, url = story.platform.depute.company, story.platform.depute.url
    identified = story.admin_api.company_identified(company)
    story.step(f"KCIT: {story.platform.depute.legal_name} is {identified['status']}")
    rep_key, rep_credentials = _representative(story)
    session = depute.login(url, rep_key, rep_credentials)
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    employee_key = DidKey.generate()
    person = story.cast.credential(employee_key, CredentialType.PERSON, {"name": "Erin"})
    with httpx2.Client(base_url=url, timeout=30) as http:
        made = http.post(
            "/api/authorisations",
            json={"employee_did": employee_key.did, "scope": ["publish", "buy"], "name": "Erin"},
            headers=headers,
        )
        made.raise_for_status()
    attorney = depute.my_credentials(url, employee_key, [person])[0]["credential"]
    story.step("Depute tool: the representative authorised Erin (publish, buy)")
    employee = story.cast.actor("Erin", key=employee_key, extra=(attorney,), act_for=company)
    story.step(f"Erin logged in to the marketplace acting for {company[:32]}…")
    return employee, str(made.json()["authorisation"]["id"]), headers


def publish_analytics(story: Story, employee: Actor) -> str:
    product = employee.api.create_product(
        {
            "title": "Resting heart rate of cardiology patients",
            "description": "Age, sex and resting heart rate; analytics only (SMPC).",
            "tags": ["health", "cardiology"],
            "access_mode": "analytics",
            "schema": SCHEMA,
            "prices": {"computation": str(2 * DATA)},
            "policy": POLICY,
            "stake": str(50 * DATA),
        }
    )
    data = story.work_dir / "patients.csv"
    patients().to_csv(data, index=False)
    story.plaintexts.append(str(data))
    company = story.platform.depute
    # Erin shares the data on her machine; the hospital's key signs the manifest.
    signer = depute.DeskSigner(company.url, employee.key, employee.credentials, company.company)
    manifest = story.share(employee.api, data, product["id"], SCHEMA, signer)
    employee.api.update_product(product["id"], {"storage_links": [manifest]})
    story.cast.fund(100 * DATA, company.account)  # the hospital's own DATA
    published = depute.publish_for_company(
        company.url, employee.key, employee.credentials, product["id"], wait=30
    )
    assert published["account"] == company.account
    story.step(
        f"Erin shared {len(patients())} rows among {len(story.platform.nodes)} nodes; the "
        f"hospital's Depute tool published {product['id'][:12]}… from the hospital's own "
        f"account with a 50 DATA stake ({'listed' if published['listed'] else 'not indexed yet'})"
    )
    return str(product["id"])


def buy_computations(story: Story, researcher: Actor, product: str) -> int:
    """Mean, std and a linear regression; the CSVs written; the first purchase id."""
    specs = [
        ComputationSpec(function="mean@1", columns=["age", "heart_rate"]),
        ComputationSpec(function="std@1", columns=["age", "heart_rate"]),
        ComputationSpec(
            function="linear_regression@1",
            columns=["age"],
            params={"target": "heart_rate"},
        ),
    ]
    first = 0
    for spec in specs:
        rid = story.request_id()
        outcome = compute_via_market(
            researcher.api, researcher.ledger, spec, [product], "research", rid, story.keys_dir
        )
        assert outcome.table is not None
        out = story.out_dir / f"{spec.function.split('@')[0]}.csv"
        outcome.table.to_csv(out)
        story.step(f"{researcher.name} bought {spec.function}: {out}", outcome.table.to_string())
        first = first or researcher.ledger.computation(rid).purchase_id  # type: ignore[union-attr]
    return first


def claim_then_approve(story: Story, researcher: Actor, product: str, purchase: int) -> None:
    """A second buyer's claim, rejected by the arbiter; then the researcher approves and
    the stake goes to the seller. (A claim needs a locked stake, something to slash, so
    it comes before the approval that releases it.)"""
    second = story.cast.actor("Bruno", category="company", country="DE")
    spec = ComputationSpec(function="count@1", columns=["age"])
    rid = story.request_id()
    compute_via_market(second.api, second.ledger, spec, [product], "research", rid, story.keys_dir)
    bought = second.ledger.computation(rid)
    assert bought is not None
    statement = "The count looks too small for a cardiology ward."
    digest = second.api.claim_evidence(bought.purchase_id, product, statement)
    second.ledger.file_claim(bought.purchase_id, product, bytes.fromhex(digest[2:]))
    story.wait_indexed(lambda: story.admin_api.chain_state(product)["quality"] == "disputed")
    story.step(f"Bruno bought count@1 and filed a claim (quality: disputed): {statement!r}")
    arbiter = story.cast.actor("Ada (arbiter)", roles=("arbiter",), funds=0)
    arbiter.api.rule(bought.purchase_id, uphold=False)
    story.wait_indexed(lambda: story.admin_api.chain_state(product)["quality"] == "staked")
    story.step("the arbiter rejected the claim through the API: Bruno's bond went to the seller")
    researcher.ledger.approve_product(purchase, product)
    story.wait_indexed(lambda: story.admin_api.chain_state(product)["quality"] == "approving")
    due = story.admin_api.chain_state(product)["release_at"]
    story.step(
        f"{researcher.name} approved (quality: approving): the stake goes to the hospital "
        f"from {due}, once the claim window has let other buyers object"
    )


def revoke(
    story: Story, employee: Actor, authorisation: str, headers: dict[str, str], product: str
) -> None:
    url = story.platform.depute.url
    with httpx2.Client(base_url=url, timeout=30) as http:
        http.post(f"/api/authorisations/{authorisation}/revoke", headers=headers).raise_for_status()
    story.step("the representative revoked Erin's attorney credential")
    try:
        depute.sync_for_company(url, employee.key, employee.credentials, product)
    except ApiError as refused:
        story.step(
            f"the hospital's Depute tool refused Erin's next chain request: {refused.api_code}"
        )
    else:
        raise AssertionError("a revoked employee could still act on the company's products")
    try:
        employee.api.create_product({**_minimal(), "title": "After revocation"})
    except ApiError as refused:
        story.step(f"Erin's next publish was refused: {refused.api_code}")
        return
    raise AssertionError("a revoked employee could still publish")


def _minimal() -> dict[str, Any]:
    return {
        "title": "x",
        "description": "x",
        "access_mode": "batch",
        "prices": {"access": "1"},
        "policy": {"purposes": ["research"]},
        "stake": "0",
    }
