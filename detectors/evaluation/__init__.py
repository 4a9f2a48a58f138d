"""Evaluation clips and scoring for the fire-lane detector (`gridhub eval ... fire-lane`)."""
