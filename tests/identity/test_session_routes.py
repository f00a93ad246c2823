"""A person's own sessions: listed (newest first, this one marked) and signed out one
by one; nobody else's."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import login, person


def test_sessions_are_listed_and_one_is_signed_out(app: FastAPI, http: TestClient) -> None:
    ana = person(app, "Ana")
    other = login(app, ana.key, ana.credentials)  # the same person on another device
    listed = http.get("/api/v1/auth/sessions", headers=ana.headers).json()
    assert len(listed) == 2
    assert [s["current"] for s in listed].count(True) == 1
    assert all(s["acting_as"] == ana.key.did for s in listed)
    assert listed[0]["credentials"] == ["PersonCredential"]
    elsewhere = next(s for s in listed if not s["current"])
    ended = http.delete(f"/api/v1/auth/sessions/{elsewhere['id']}", headers=ana.headers)
    assert ended.status_code == 204
    bearer = {"Authorization": f"Bearer {other['session_token']}"}
    assert http.get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert [
        s["current"] for s in http.get("/api/v1/auth/sessions", headers=ana.headers).json()
    ] == [True]


def test_nobody_signs_out_anothers_session(app: FastAPI, http: TestClient) -> None:
    ana, eve = person(app, "Ana"), person(app, "Eve")
    [anas] = http.get("/api/v1/auth/sessions", headers=ana.headers).json()
    refused = http.delete(f"/api/v1/auth/sessions/{anas['id']}", headers=eve.headers)
    assert (refused.status_code, refused.json()["code"]) == (404, "session_not_found")
    assert http.get("/api/v1/auth/me", headers=ana.headers).status_code == 200


def test_sessions_need_a_session(http: TestClient) -> None:
    assert http.get("/api/v1/auth/sessions").status_code == 401
