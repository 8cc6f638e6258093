"""Standard losses: softmax_cross_entropy (class labels); mse, mae, huber (real targets)."""
