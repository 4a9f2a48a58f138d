"""Fire-lane evaluation: clips from real footage, a rendered scene, and scoring."""
