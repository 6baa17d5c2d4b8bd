"""The types that flow between the phases: configuration, manifests, state, plans."""
