"""Benchmarks of coalhub's read path, and the loader of the synthetic data they run on."""
