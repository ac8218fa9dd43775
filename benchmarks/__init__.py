"""Benchmarks: commands that measure hybridsolve against peers and print ratios."""
