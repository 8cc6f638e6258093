"""Standard layers: identity, relu, dense."""
