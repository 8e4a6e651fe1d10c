"""Real local fakes of outside systems, for tests, benches and the demo (not for production)."""
