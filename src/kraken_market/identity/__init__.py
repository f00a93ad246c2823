"""Self-sovereign identity: DIDs, verifiable credentials and presentations (W3C VC
2.0 secured with JOSE), Bitstring Status List revocation, wallets and marketplace login."""
