"""ContactTracing results → the compiled store (and the reader API over it)."""
