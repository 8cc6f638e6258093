"""Standard callbacks: early_stopping, reduce_lr_on_plateau, best_checkpoint."""
