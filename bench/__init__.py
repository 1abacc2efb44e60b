"""Casewire's benchmarks: numbers reported, never asserted. Run with ``scripts/bench.sh``."""
