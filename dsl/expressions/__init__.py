"""Implementation of the expression language; import the public API from ``dsl.expr``."""
