"""Load: read pipeline.yaml and the manifests, render them, and compile them into desired actions."""
