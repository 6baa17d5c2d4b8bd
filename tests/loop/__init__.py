"""The GitHub loop, run for real with nektos/act: stand-in actions, a GitHub REST API
stand-in and the harness that runs the workflows of a content repository."""
