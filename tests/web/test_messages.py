"""Every error ``code`` the API can answer with has a message in words in the browser
apps (``web/packages/api/src/messages.ts``): the codes of the error tree's classes
(``kraken_market.errors.KrakenError`` and its subclasses, found in the source and
checked by import) and those the API's own handlers write (``api/errors.py``,
``api/guard.py``). A new error class without its message fails here."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import kraken_market
from kraken_market.errors import KrakenError

PACKAGE = Path(kraken_market.__file__).parent
MESSAGES = PACKAGE.parents[1] / "web" / "packages" / "api" / "src" / "messages.ts"
HANDLER_CALLS = frozenset({"error_response", "answer"})
"""Functions of the API's handlers whose second argument is an error code."""


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts)


def _class_codes(tree: ast.Module) -> dict[str, str]:
    """The class-level ``code = "..."`` of each class in ``tree``, by class name."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            target = value = None
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value = statement.targets[0], statement.value
            elif isinstance(statement, ast.AnnAssign):
                target, value = statement.target, statement.value
            if (
                isinstance(target, ast.Name)
                and target.id == "code"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                found[node.name] = value.value
    return found


def error_tree_codes() -> set[str]:
    """The ``code`` of every KrakenError subclass declared in the package."""
    codes: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        declared = _class_codes(ast.parse(path.read_text(), filename=str(path)))
        if not declared:
            continue
        module = importlib.import_module(_module_name(path))
        for name, code in declared.items():
            cls = getattr(module, name, None)
            if isinstance(cls, type) and issubclass(cls, KrakenError):
                assert cls.code == code, f"{module.__name__}.{name}"
                codes.add(code)
    return codes


def handler_codes() -> set[str]:
    """The codes the API's handlers write themselves (FastAPI's own errors, the guard)."""
    codes: set[str] = set()
    for path in (PACKAGE / "api").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_HTTP_CODES" for t in node.targets
            ):
                assert isinstance(node.value, ast.Dict)
                codes |= {str(v.value) for v in node.value.values if isinstance(v, ast.Constant)}
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            args = node.args
            if name in HANDLER_CALLS and len(args) > 1 and isinstance(args[1], ast.Constant):
                codes.add(str(args[1].value))
            if (  # _HTTP_CODES.get(status, "http_error")
                name == "get"
                and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "_HTTP_CODES"
                and len(args) == 2
                and isinstance(args[1], ast.Constant)
            ):
                codes.add(str(args[1].value))
    return codes


def message_codes() -> set[str]:
    """The keys of the ``MESSAGES`` table in messages.ts."""
    text = MESSAGES.read_text()
    table = re.search(r"const MESSAGES[^=]*=\s*\{(.*?)\n\};", text, re.S)
    assert table, "messages.ts has no MESSAGES table"
    return set(re.findall(r"^\s*([a-z][a-z0-9_]*):", table.group(1), re.M))


def test_the_collectors_find_the_known_codes() -> None:
    """The collectors themselves work (a broken one would make the test below vacuous)."""
    tree = error_tree_codes()
    assert {"internal_error", "product_not_found", "validation_error", "not_eligible"} <= tree
    assert len(tree) > 150
    assert {"bad_request", "method_not_allowed", "http_error", "internal_error"} <= handler_codes()


def test_every_error_code_has_a_message_in_words() -> None:
    missing = sorted((error_tree_codes() | handler_codes()) - message_codes())
    assert not missing, f"web/packages/api/src/messages.ts has no message for: {missing}"
