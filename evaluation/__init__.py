"""Evaluation clips, scoring and reports for each scenario (outside the runtime)."""
