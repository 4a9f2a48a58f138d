"""Storage: PostgreSQL (or TimescaleDB) through psycopg 3, migrations and repositories."""
