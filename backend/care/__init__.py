"""Care: protocols as data, the pure schedule engine (and, later, results, risk and sync)."""
