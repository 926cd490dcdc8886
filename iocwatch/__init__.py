"""The shell of iocwatch: the CLI, the wiring of the listen and monitor flows, scheduling."""

__version__ = "0.1.0"
