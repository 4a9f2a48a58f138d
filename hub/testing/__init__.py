"""What an integrator's tests import: the contract suites every plugin passes (contracts.py)."""
