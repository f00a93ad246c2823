"""The committed golden vectors (web/packages/core/test/golden) are what the Python
implementation makes now: when identity, keystore, signing or amount code changes
what it writes, this fails until the vectors are regenerated
(``PYTHONPATH=src python -m tests.web.golden``) and the TypeScript libraries follow."""

from __future__ import annotations

import pytest

from tests.web.golden import GOLDEN, VECTORS, render


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_the_committed_vector_is_what_python_makes_now(name: str) -> None:
    committed = (GOLDEN / name).read_text(encoding="utf-8")
    assert committed == render(VECTORS[name]()), (
        f"{name} differs from what the Python implementation writes now: run "
        "`PYTHONPATH=src python -m tests.web.golden`, commit, and make the TypeScript tests pass"
    )


def test_no_vector_is_left_over() -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.json")) == sorted(VECTORS)
