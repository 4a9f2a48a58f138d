"""Plumbing every stage shares: the MQTT link, tickers, throttles, embedded servers, metrics."""
