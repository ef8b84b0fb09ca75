"""Vision, objectives, key results, business metrics and measurements (issue: strategy)."""
