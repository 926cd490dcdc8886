"""Collection: a Scrapy project whose spiders yield :class:`core.documents.Post`.

Only :mod:`core` is imported here; analysis and storage are wired by the shell
(:mod:`iocwatch.flows.listen`), which hands the item pipeline a *sink*.
"""
