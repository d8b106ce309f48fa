# pdw's image for the worker, the API and the set-up job (docker-compose.yml).
# Pinned (docker-compose.yml pins every image); bump deliberately.
FROM python:3.11.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY models models
COPY workflows workflows
COPY activities activities
COPY service service
COPY api api
COPY commands commands
COPY migrations migrations
COPY templates templates
COPY settings.py logs.py runtime.py codec.py worker.py starter_cli.py devstack.py hook.py ./
# Editable, so that migrations/ and templates/ are read from /app as in a checkout.
RUN pip install --no-cache-dir -e .
# Bytecode made now: the worker runs as nobody and cannot write __pycache__ under /app, and Temporal's
# sandbox imports the workflow modules afresh for every new case (bench/README.md, Throughput).
RUN python -m compileall -q /app
USER nobody
CMD ["pdw-worker"]
