"""Checks of a company's public identifiers: LEI (ISO 17442) and country (ISO 3166-1).

Input is checked, never silently rewritten: a lowercase LEI or country code is
refused with a message that shows the accepted form, so what is stored is
exactly what the caller sent and what registries publish.
"""

from __future__ import annotations

import re

import pycountry

from kraken_market.companies.errors import InvalidCountry, InvalidLei

_LEI = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")
_ALPHA_2 = re.compile(r"^[A-Z]{2}$")


def lei_check_digits(first18: str) -> str:
    """The two check digits of an LEI's first 18 characters (ISO 17442 §4 uses ISO/IEC
    7064 MOD 97-10, as IBAN does: letters become 10..35, the number ‖ "00" mod 97
    gives 98 minus it)."""
    number = int("".join(str(int(c, 36)) for c in first18))
    return f"{98 - (number * 100) % 97:02d}"


def check_lei(lei: str) -> str:
    """``lei`` unchanged if it is a well-formed ISO 17442 LEI with correct check digits."""
    if not _LEI.fullmatch(lei):
        raise InvalidLei(
            "an LEI is 20 characters: 18 capital letters or digits, then 2 check digits "
            "(e.g. 529900T8BM49AURSDO55)",
            details={"lei": lei[:64]},
        )
    expected = lei_check_digits(lei[:18])
    if lei[18:] != expected:
        raise InvalidLei(
            f"the LEI's check digits are {lei[18:]}, but its first 18 characters give "
            f"{expected} (ISO 7064 MOD 97-10): probably a typing error",
            details={"lei": lei},
        )
    return lei


def check_country(code: str) -> str:
    """``code`` unchanged if it is an assigned ISO 3166-1 alpha-2 code."""
    if _ALPHA_2.fullmatch(code) and pycountry.countries.get(alpha_2=code) is not None:
        return code
    hint = "two capital letters, e.g. DE, FR, IT"
    found = pycountry.countries.get(alpha_3=code) if len(code) == 3 and code.isalpha() else None
    if found is None and len(code) == 2 and code.isalpha():
        found = pycountry.countries.get(alpha_2=code.upper())
    if found is not None:
        hint = f"did you mean {found.alpha_2} ({found.name})?"
    raise InvalidCountry(
        f"the country is an ISO 3166-1 alpha-2 code: {hint}", details={"country": code[:64]}
    )
