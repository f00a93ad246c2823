"""KCIT, company identification: the platform's register of companies and their DIDs.

A company's representative self-registers it (``pending``), a platform admin
approves it (``identified``) or suspends it; anyone can ask whether a DID is an
identified company, and the identity verifier asks :meth:`CompanyService.status_of`
before it accepts an attorney credential issued by a company.
"""
