"""Helpers for the test suite (servers, fixtures' building blocks). Not collected as tests."""
