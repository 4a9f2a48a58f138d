"""Patrols: location ingest, the live patrol index, and dispatch to the nearest one."""
