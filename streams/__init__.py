"""Camera workers: sources, capture threads, motion gating, tracking, rules, evidence and sinks.

Not built yet (issue: camera workers). ``streams`` uses ``detector``; ``api`` and ``alerts`` never
import it.
"""
