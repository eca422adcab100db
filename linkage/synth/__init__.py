"""Synthetic IOM, MoSVY and NGO lists with ground truth, for demos, tests and benchmarks."""
