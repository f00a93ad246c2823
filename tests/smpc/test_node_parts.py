"""Compute-node parts without a network: TLS material, keys, config, job store, ports."""

from __future__ import annotations

import random
import stat
from pathlib import Path

import pytest
from cryptography import x509

from kraken_market.errors import InvalidRequest
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.node import identity, runner, tls
from kraken_market.smpc.node.errors import JobNotFound
from kraken_market.smpc.node.jobs import JobRecord, JobStore


def test_deployment_certificates_are_where_mpyc_looks(tmp_path: Path) -> None:
    tls.make_deployment(tmp_path / "certs", 3)
    for i in range(3):
        work = tls.install(tmp_path / "certs", i, tmp_path / f"node-{i}")
        assert tls.installed(work, i)
        cert = x509.load_pem_x509_certificate((work / ".config" / f"party_{i}.crt").read_bytes())
        assert cert.subject.rfc4514_string() == f"CN=MPyC party {i}"
        key = work / ".config" / f"party_{i}.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "certs" / "ca.key").stat().st_mode) == 0o600


def test_node_keys_are_private_files(tmp_path: Path) -> None:
    hpke, account = tmp_path / "k" / "hpke.key", tmp_path / "k" / "account.key"
    identity.create_keys(hpke, account)
    first = identity.load_hpke(hpke).public_key
    identity.create_keys(hpke, account)  # never overwritten
    assert identity.load_hpke(hpke).public_key == first
    assert identity.load_account(account).address.startswith("0x")
    account.chmod(0o644)
    with pytest.raises(InvalidRequest, match="chmod 600"):
        identity.load_account(account)


def test_config_round_trips_and_checks_itself(tmp_path: Path) -> None:
    config = NodeConfig(
        index=1,
        data_dir=tmp_path,
        parties=("h:20000", "h:21000", "h:22000"),
        storage=tmp_path / "s",
        chain_url="http://c",
        deployment_file=tmp_path / "d",
    )
    config.save()
    assert NodeConfig.load(tmp_path) == config and config.threshold == 1
    with pytest.raises(ValueError, match="index"):
        NodeConfig(
            index=3,
            data_dir=tmp_path,
            parties=config.parties,
            storage=tmp_path,
            chain_url="",
            deployment_file=tmp_path,
        )
    with pytest.raises(ValueError, match="overlap: bases 20000 and 20500 are 500 apart") as caught:
        NodeConfig(
            index=0,
            data_dir=tmp_path,
            parties=("h:20000", "h:20500", "g:20000"),
            storage=tmp_path,
            chain_url="",
            deployment_file=tmp_path,
        )
    assert "at least 1000 apart (e.g. h:20000 and h:21000)" in str(caught.value)
    (tmp_path / "node.json").write_text(
        (tmp_path / "node.json").read_text().replace('"h:20000"', '"h:20999"')
    )
    with pytest.raises(InvalidRequest, match=r"node\.json: .*overlap"):  # edited by hand
        NodeConfig.load(tmp_path)
    with pytest.raises(ValueError, match="2t < m"):
        NodeConfig(
            index=0,
            data_dir=tmp_path,
            parties=config.parties,
            storage=tmp_path,
            chain_url="",
            deployment_file=tmp_path,
            t=2,
        )


def test_each_node_names_its_own_port_for_a_job() -> None:
    assert runner.party_addresses(["a:100", "b:200"], [150, 201]) == ["a:150", "b:201"]
    with pytest.raises(ValueError, match="1 ports for 2 nodes"):
        runner.party_addresses(["a:100", "b:200"], [150])


def test_a_port_is_leased_to_one_job_and_a_taken_port_is_never_leased() -> None:
    import socket

    from kraken_market.smpc.node.ports import NoFreePort, PortLeases

    # Below the kernel's ephemeral ports (32768 up) and above the suite's MPC bases
    # (10000-29000): a port bound with 0 is ephemeral, and its neighbour may be any
    # process's outgoing connection at the moment the lease is asked for.
    with socket.socket() as holder:  # another program listens on a port in the range
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for candidate in random.sample(range(30_000, 32_000, 2), 200):
            try:
                holder.bind(("127.0.0.1", candidate))
                break
            except OSError:
                continue
        holder.listen()
        taken = holder.getsockname()[1]
        leases = PortLeases(taken, 2, tries=40)
        first = leases.lease("a")
        assert first == taken + 1  # the only free one
        assert leases.lease("a") == first  # the same while held
        with pytest.raises(NoFreePort, match="no free MPC port"):
            leases.lease("b")
        leases.release("a")
        assert leases.lease("b") == taken + 1
        assert leases.held() == {"b": taken + 1}


def test_the_job_store_survives_a_reopen(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    store.put(JobRecord("0xab", {"computation": {"function": "sum@1"}}, "queued", 1.0, 1.0))
    store.update("0xab", state="failed", error={"code": "peer_lost", "message": "m"})
    store.close()
    again = JobStore(tmp_path / "jobs.sqlite")
    record = again.get("0xAB")
    assert record.state == "failed" and record.error == {"code": "peer_lost", "message": "m"}
    assert record.public(2)["function"] == "sum@1" and "request" not in record.public(2)
    assert again.with_state("failed") == [record]
    with pytest.raises(JobNotFound):
        again.get("0xcd")
    again.close()


def test_a_job_store_from_before_refunds_is_opened_and_records_them(tmp_path: Path) -> None:
    import sqlite3

    old = sqlite3.connect(tmp_path / "jobs.sqlite")
    old.execute(
        "CREATE TABLE jobs (request_id TEXT PRIMARY KEY, request TEXT NOT NULL, state TEXT"
        " NOT NULL, created REAL, updated REAL, error TEXT, suppressed INTEGER, commitment"
        " TEXT, attestation TEXT, attest_tx TEXT, timings TEXT, port INTEGER)"
    )
    job = '{"computation": {"function": "sum@1"}}'
    old.execute(
        "INSERT INTO jobs (request_id, request, state) VALUES ('0xab', ?, ?)", (job, "queued")
    )
    old.commit()
    old.close()
    store = JobStore(tmp_path / "jobs.sqlite")
    assert store.get("0xab").refund is None
    paid_back = {"status": "refunded", "transaction": "0xtx"}
    store.update("0xab", state="failed", refund=paid_back)
    assert store.get("0xab").public(0)["refund"] == paid_back
    store.close()


class FakeChain:
    """Attestation outcomes in order; the computation's status after a refusal."""

    account = "0x" + "00" * 20

    def __init__(self, outcomes: list[object], paid: bool) -> None:
        self.outcomes, self.paid, self.calls = outcomes, paid, 0

    def attest(self, request_id: str, commitment: bytes) -> str:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    def computation(self, request_id: str):
        from kraken_market.ledger.model import PaymentStatus

        status = PaymentStatus.PAID if self.paid else PaymentStatus.RECLAIMED
        return type("Record", (), {"status": status})()


def test_attestation_retries_a_bare_revert_and_knows_when_it_is_not_needed() -> None:
    import threading

    from kraken_market.ledger.errors import Reverted
    from kraken_market.smpc.node.attestation import attest

    lock, c = threading.Lock(), "ab" * 32
    chain = FakeChain([Reverted("out of gas", reason="reverted"), "0xtx"], paid=False)
    assert attest(chain, lock, "0x01", c) == ("attested", "0xtx")  # type: ignore[arg-type]
    late = FakeChain([Reverted("late", reason="computation_not_held")], paid=True)
    assert attest(late, lock, "0x01", c) == ("not_needed", None)  # type: ignore[arg-type]
    gone = FakeChain([Reverted("late", reason="computation_not_held")], paid=False)
    assert attest(gone, lock, "0x01", c) == ("failed: computation_not_held", None)  # type: ignore[arg-type]
    assert gone.calls == 1


class RefusingChain:
    """``Market.refuse`` outcomes in order, and what the chain then says of the request."""

    account = "0x" + "04" * 20

    def __init__(self, outcomes: list[object], status: object, refusal: object = None) -> None:
        self.outcomes, self.status, self._refusal, self.calls = outcomes, status, refusal, 0

    def refuse(self, request_id: str, reason: str) -> str:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    def computation(self, request_id: str):
        return type("Record", (), {"status": self.status, "amount": 3})()

    def refusal(self, request_id: str):
        return self._refusal


def test_a_refund_says_who_paid_the_buyer_back_or_why_nobody_did() -> None:
    import threading

    from kraken_market.ledger.errors import ChainUnavailable, Reverted
    from kraken_market.ledger.model import PaymentStatus, Refusal, RefusalCode
    from kraken_market.smpc.node.refusal import SELLER_FAULTS, refund, refundable

    lock, rid = threading.Lock(), "0x01"
    mine = RefusingChain(["0xtx"], PaymentStatus.REFUNDED)
    assert refund(mine, lock, rid, "envelope_tampered") == {  # type: ignore[arg-type]
        "status": "refunded",
        "transaction": "0xtx",
        "node": mine.account,
        "reason": "envelope_tampered",
        "amount": "3",
    }
    other = Refusal(b"\x01" * 32, "0x" + "05" * 20, RefusalCode("object_not_found"), 7, "0xfirst")
    second = RefusingChain(
        [Reverted("late", reason="computation_not_held")], PaymentStatus.REFUNDED, other
    )
    outcome = refund(second, lock, rid, "object_not_found")  # type: ignore[arg-type]
    assert (outcome["transaction"], outcome["node"]) == ("0xfirst", other.node)
    assert second.calls == 1  # no second try once the chain said why
    paused = RefusingChain([Reverted("paused", reason="paused")], PaymentStatus.HELD)
    assert refund(paused, lock, rid, "object_not_found") == {  # type: ignore[arg-type]
        "status": "not_refunded",
        "reason": "paused",
    }
    flaky = RefusingChain([ChainUnavailable("down"), "0xtx"], PaymentStatus.REFUNDED)
    assert refund(flaky, lock, rid, "object_not_found")["transaction"] == "0xtx"  # type: ignore[arg-type]
    gone = RefusingChain([Reverted("late", reason="computation_not_held")], PaymentStatus.RECLAIMED)
    assert refund(gone, lock, rid, "object_not_found") == {"status": "reclaimed"}  # type: ignore[arg-type]
    # the buyer's own mistakes and passing troubles never refund
    assert not any(
        refundable(code)
        for code in ("column_unknown", "grant_missing", "storage_unavailable", "peer_lost")
    )
    assert all(len(code) <= 32 for code in SELLER_FAULTS)  # each fits the bytes32 reason
