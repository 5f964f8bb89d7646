"""Speed and memory benchmarks: minigrad side by side with PyTorch and hand-written NumPy."""
