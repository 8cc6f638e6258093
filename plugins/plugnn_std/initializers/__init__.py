"""Standard initializers: normal, he, glorot."""
