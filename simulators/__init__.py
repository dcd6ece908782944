"""Simulated homes that publish exactly what real devices send, for demos, test benches and load."""
