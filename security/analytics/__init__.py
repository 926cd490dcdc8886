"""Behaviour analytics over long horizons (hours), one module per behaviour, state kept across runs.

See :mod:`security.analytics.base` for the contract and :mod:`security.analytics.engine`
for the engine the monitor drives.
"""

from security.analytics.base import REGISTRY, Analytic, Finding, register

__all__ = ["REGISTRY", "Analytic", "Finding", "register"]
