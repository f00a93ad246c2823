"""Trade: eligibility and on-chain grants (the verifier), purchases, approvals, claims."""
