"""`make bench`: Lifeline's speed, footprint and responsiveness, measured beside its peers.

Run `python -m bench` (all six benchmarks, a table, bench/results/latest.json) or
`python -m bench --quick` for a short run. Every server is on 127.0.0.1.
"""
