# pdw's image for the worker, the API and the set-up job (docker-compose.yml).
FROM python:3.11-slim
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
COPY settings.py logs.py runtime.py worker.py starter_cli.py devstack.py hook.py ./
# Editable, so that migrations/ and templates/ are read from /app as in a checkout.
RUN pip install --no-cache-dir -e .
USER nobody
CMD ["pdw-worker"]
