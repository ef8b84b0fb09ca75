"""Value computations, dashboards and charts, report definitions and runs."""
