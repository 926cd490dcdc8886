"""Threat intelligence: indicator feeds (STIX 2.1, MISP, CSV, text) read, stored, and matched at line rate.

* :mod:`security.intel.feeds` reads a feed file into :class:`Indicator` rows, counting what it
  skips (bad values, unsupported patterns, expired, revoked);
* :mod:`security.intel.store` keeps loaded feeds under the data directory (atomic writes);
* :mod:`security.intel.matcher` looks up IPs (exact and CIDR, longest prefix), domains (by
  suffix), URLs (normalised) and file hashes, and raises alerts naming the feed and indicator.
"""
