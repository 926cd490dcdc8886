"""Network and log security monitoring: sources, features, pyod detectors, ATT&CK rules, alerts.

Imports only ``core``; the shell (``iocwatch.flows.monitor``) stores what it produces.
"""
