"""Initiatives, lifecycle, alignment, expected impact, decisions, experiments and ideas."""
