"""Publishing workflows: plain functions with explicit parameters, typed results, a Reporter."""
