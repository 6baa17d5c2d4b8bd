"""Report: plans, states and results as text, Markdown and JSON; GitHub annotations; generated schemas."""
