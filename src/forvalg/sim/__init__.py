"""The synthetic world: lines, operators and weeks of orders, seeded and reproducible."""
