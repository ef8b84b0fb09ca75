"""The project's settings with nothing kept between requests (reports.recent_figures off):
bench/value.py serves the value figures with them too, to time what computing them costs."""

from pm_value.settings import *  # noqa: F403

VALUE_FIGURES_FRESH_SECONDS = 0
