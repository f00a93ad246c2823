"""Accounts and the interim bearer-token authentication.

The identity issue replaces tokens with verifiable-credential login by
installing another :class:`kraken_market.api.auth.Authenticator`; routes only
ever see a :class:`kraken_market.accounts.service.Principal`.
"""
