"""Sigma as the rule language for log detections: load and validate, map fields to ECS, evaluate, export.

* :func:`security.sigma.loader.load` reads rule files (the bundled ``rules/`` folder and the
  operators' folders), validates them and compiles them; problems name the file and line.
* :class:`security.sigma.engine.SigmaEngine` evaluates them on the monitor's normalised
  events and raises alerts carrying the rule's id, title, level and ATT&CK tags.
* :func:`security.sigma.export.export` converts them to Elasticsearch queries.
"""
