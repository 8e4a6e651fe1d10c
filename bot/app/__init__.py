"""The verbs (serve, exec, sweep, digest, check, demo), their wiring, settings and the scheduler."""
