"""The queue's contract, run against every backend, and the SQLite backend's own tests."""
