"""``pdw``'s command groups, one module each: an HTTP client of the pdw API (docs/api.md).

Standard library and typer only (DESIGN.md, Layout); ``_client`` holds what they share.
"""
