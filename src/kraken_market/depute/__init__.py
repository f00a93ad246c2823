"""The Depute tool: one company's own web application for authorising its employees.

The company's representative (its ``representative_did`` in KCIT, logged in
with a presentation) authorises an employee by DID or through a one-time
invitation link, which issues an ``AttorneyCredential`` signed with the
company's key (issuer = company DID); lists the authorisations; and revokes
one, which flips its bit on the company's Bitstring Status List and PUTs the
list to the marketplace's registry at once, so the marketplace refuses the
credential at its next request. Run it with ``kraken-market depute serve``.

Layout: ``config`` (directory, set-up), ``models`` (its own SQLite tables),
``marketplace`` (the HTTP client of the marketplace), ``core`` (one running
tool), services ``sessions``, ``authorisations``, ``invitations``,
``publication``; HTTP in ``routes``/``invitation_routes`` (JSON) and ``pages``
(HTML); ``client`` for wallets.
"""
