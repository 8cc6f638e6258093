"""Standard datasets: digits (bundled), mnist, fashion-mnist, idx folders."""
