"""``kraken-market companies``: KCIT, the register of identified companies.

A company's representative registers it (``register``: pending); a platform
admin approves, suspends, corrects or deletes entries. Anyone can look a DID
up (``identified``) before trusting what it issues.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, client, fails_cleanly, out, print_json, table

app = typer.Typer(
    help=(
        "KCIT, company identification: register your company, look companies up; "
        "platform admins approve, suspend, correct and delete entries (talks to the API).\n\n"
        "A company's DID goes as it is: kraken-market companies show did:web:acme.example"
    ),
    no_args_is_help=True,
)

Did = Annotated[
    str, typer.Argument(help="The company's DID, e.g. did:web:acme.example or a did:key (z6Mk…)")
]
Name = Annotated[str, typer.Option("--name", help="Legal name, as in the commercial register")]
Country = Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code, capital letters, e.g. DE")]
RegistrationNumber = Annotated[
    str | None,
    typer.Option(help="Number in the national commercial register (this and/or --lei)"),
]
Lei = Annotated[
    str | None,
    typer.Option(help="ISO 17442 Legal Entity Identifier, 20 characters (this and/or the above)"),
]
Reason = Annotated[str | None, typer.Option(help="Why; kept in the audit log")]


def _say(text: str) -> None:
    """One line, never wrapped (a DID stays copyable) and never read as Rich markup."""
    out.print(text, soft_wrap=True, markup=False, highlight=False)


def _show(company: dict[str, Any]) -> None:
    rows = [
        ["did", company["did"]],
        ["legal name", company["legal_name"]],
        ["registration number", company["registration_number"]],
        ["LEI", company["lei"]],
        ["country", company["country"]],
        ["representative", company["representative_did"] or "(not shown)"],
        ["status", company["status"]],
        ["level of assurance", company["level_of_assurance"]],
        ["version", company["version"]],
        ["updated", company["updated_at"]],
    ]
    table(company["legal_name"], ["field", "value"], rows)


def _body(
    did: str, name: str, country: str, registration_number: str | None, lei: str | None
) -> dict[str, Any]:
    if registration_number is None and lei is None:
        raise typer.BadParameter("give --registration-number, --lei, or both")
    body = {"did": did, "legal_name": name, "country": country}
    return body | {
        k: v for k, v in (("registration_number", registration_number), ("lei", lei)) if v
    }


@app.command()
@fails_cleanly
def register(
    did: Did,
    name: Name,
    country: Country,
    registration_number: RegistrationNumber = None,
    lei: Lei = None,
    as_json: JsonOption = False,
) -> None:
    """Register a company you represent; it stays pending until a platform admin approves
    it. Example:

    kraken-market companies register did:web:acme.example --name "ACME GmbH"
    --country DE --registration-number "HRB 12345"
    """
    with client() as api:
        company = api.create_company(_body(did, name, country, registration_number, lei))
    if as_json:
        print_json(company)
    else:
        _say(f"registered {company['did']}: {company['status']}, an admin will review it")


@app.command()
@fails_cleanly
def create(
    did: Did,
    name: Name,
    country: Country,
    representative: Annotated[str, typer.Option(help="DID of the person acting for it")],
    registration_number: RegistrationNumber = None,
    lei: Lei = None,
    status: Annotated[
        str | None, typer.Option(help="identified (default) | pending | suspended")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Enter a company for someone else (platform admins)."""
    body = _body(did, name, country, registration_number, lei)
    body["representative_did"] = representative
    if status:
        body["status"] = status
    with client() as api:
        company = api.create_company(body)
    print_json(company) if as_json else _show(company)


@app.command()
@fails_cleanly
def update(
    did: Did,
    name: Annotated[str | None, typer.Option("--name", help="New legal name")] = None,
    country: Annotated[str | None, typer.Option(help="New country, e.g. DE")] = None,
    registration_number: Annotated[str | None, typer.Option(help="New register number")] = None,
    lei: Annotated[str | None, typer.Option(help="New LEI (20 characters)")] = None,
    representative: Annotated[
        str | None, typer.Option(help="DID of the new representative")
    ] = None,
    clear_registration_number: Annotated[
        bool, typer.Option("--clear-registration-number", help="Remove it (an LEI stays)")
    ] = False,
    clear_lei: Annotated[
        bool, typer.Option("--clear-lei", help="Remove it (a registration number stays)")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Correct a company's entry (platform admins); only the options you give change."""
    changes: dict[str, Any] = {
        "legal_name": name,
        "country": country,
        "registration_number": registration_number,
        "lei": lei,
        "representative_did": representative,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    for flag, field in ((clear_registration_number, "registration_number"), (clear_lei, "lei")):
        if flag:
            changes[field] = None
    if not changes:
        raise typer.BadParameter("nothing to change: give at least one option")
    with client() as api:
        company = api.update_company(did, changes)
    print_json(company) if as_json else _show(company)


@app.command()
@fails_cleanly
def approve(did: Did, reason: Reason = None, as_json: JsonOption = False) -> None:
    """Identify a pending or suspended company (platform admins)."""
    with client() as api:
        company = api.approve_company(did, reason)
    print_json(company) if as_json else _say(f"{company['did']} is {company['status']}")


@app.command()
@fails_cleanly
def suspend(did: Did, reason: Reason = None, as_json: JsonOption = False) -> None:
    """Suspend an identified company (platform admins): the attorney credentials it
    issued stop being accepted until it is approved again."""
    with client() as api:
        company = api.suspend_company(did, reason)
    print_json(company) if as_json else _say(f"{company['did']} is {company['status']}")


@app.command()
@fails_cleanly
def delete(
    did: Did,
    reason: Reason = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove a company from the register (platform admins); its audit log stays."""
    if not yes:
        typer.confirm(f"Delete {did} from the register?", abort=True)
    with client() as api:
        api.delete_company(did, reason)
    _say(f"deleted {did}")


@app.command()
@fails_cleanly
def show(did: Did, as_json: JsonOption = False) -> None:
    """Show one company (pending and suspended ones: admins and its representative only)."""
    with client() as api:
        company = api.company(did)
    print_json(company) if as_json else _show(company)


@app.command()
@fails_cleanly
def identified(did: Did, as_json: JsonOption = False) -> None:
    """Is this DID an identified company? Ask before trusting what it issues."""
    with client() as api:
        answer = api.company_identified(did)
    if as_json:
        print_json(answer)
    elif answer["identified"]:
        _say(f"{did}: identified")
    else:
        _say(f"{did}: not identified ({answer['status'] or 'no such company'})")


@app.command("list")
@fails_cleanly
def list_(
    status: Annotated[
        list[str] | None,
        typer.Option(help="identified (default) | pending | suspended; repeat; admins only"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of a previous page")] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow cursors to the end")] = False,
    as_json: JsonOption = False,
) -> None:
    """List companies, newest first (admins: e.g. --status pending to review registrations)."""
    items: list[dict[str, Any]] = []
    next_cursor = cursor
    with client() as api:
        while True:
            page = api.companies(status=status, limit=limit, cursor=next_cursor)
            items += page["items"]
            next_cursor = page["next_cursor"]
            if not (all_pages and next_cursor):
                break
    if as_json:
        print_json({"items": items, "next_cursor": next_cursor})
        return
    rows = [[c["did"], c["legal_name"], c["country"], c["lei"], c["status"]] for c in items]
    table(f"{len(items)} companies", ["did", "legal name", "country", "LEI", "status"], rows)
    if next_cursor:
        _say(f"more: --cursor {next_cursor}")


@app.command()
@fails_cleanly
def audit(did: Did, as_json: JsonOption = False) -> None:
    """Every change to a company, also after its deletion: who, when, what (admins)."""
    with client() as api:
        entries = api.company_audit(did)
    if as_json:
        print_json(entries)
        return
    rows = [
        [e["version"], e["at"], e["actor"], e["action"], ", ".join(e["changes"]), e["reason"]]
        for e in entries
    ]
    table("audit", ["version", "at", "by", "action", "changed", "reason"], rows)
