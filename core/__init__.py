"""Documents, settings and errors shared by every iocwatch package; imports nothing of ours."""
