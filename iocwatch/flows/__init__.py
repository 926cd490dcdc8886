"""The two flows the shell wires: listen (crawl -> nlp -> index) and monitor (security -> index)."""
