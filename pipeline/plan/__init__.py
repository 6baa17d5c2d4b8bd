"""Plan: the graph of references and the pure planner that diffs desired actions against the state."""
