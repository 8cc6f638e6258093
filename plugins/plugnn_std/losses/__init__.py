"""Standard losses: softmax_cross_entropy."""
