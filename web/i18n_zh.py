"""Chinese UI text, keyed by the English text the templates and views use."""

ZH: dict[str, str] = {}
