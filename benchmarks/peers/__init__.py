"""What `benchmarks/serving.py` runs against: the peer servers (a FastAPI app, MLflow's
server, a Starlette floor), their requirements, and the benchmark's own parts (the load
generator, starting and stopping servers, the handler breakdown).
"""
