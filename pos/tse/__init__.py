"""Technical security elements (TSE) for German fiscal signing: the signer back-ends (adapters)."""
