"""Dispatch: the nearest available patrol, the outbox of dispatch messages, and their replies."""
