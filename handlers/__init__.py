"""Service-task handlers: plain functions registered with ``@handler("name")``."""
