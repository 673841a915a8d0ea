"""ctsite: publish ContactTracing results as a public website, end to end."""

__version__ = "0.1.0"
