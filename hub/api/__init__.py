"""The HTTP API (FastAPI): one composition root, `create_app`, and a router per area."""
