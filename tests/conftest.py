"""Shared fixtures. Network fakes are real servers on 127.0.0.1, never mocks of our code."""
