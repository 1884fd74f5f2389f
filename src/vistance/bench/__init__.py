"""Benchmarks that print figures (speed targets live here, not in timed tests).

python -m vistance.bench train [--help]     # seconds per training step: dynamic padding vs padding to 256
python -m vistance.bench predict [--help]   # sentences/s end to end: per-sentence loop, fp32, int8, bf16
python -m vistance.bench batch [--help]     # archive scoring: local vs Ray at 1 and 2 workers
python -m vistance.bench serve [--help]     # the HTTP service: p50/p99 latency and throughput at 1, 8, 32 clients
python -m vistance.bench e5-train [--help]  # seconds per epoch of e5 fine-tuning: frozen vs trainable embeddings
"""
