"""Camera workers: sources, capture threads, motion gating, tracking, rules, evidence and sinks.

``streams`` uses ``detector``; ``api`` and ``alerts`` never import it.
"""
