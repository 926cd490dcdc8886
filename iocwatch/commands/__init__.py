"""One module per command group; each parses options and calls plain functions that return data."""
