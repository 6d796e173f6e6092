# One image for the api and the worker (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY common ./common
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY integrations ./integrations
COPY store ./store
COPY api ./api
COPY workers ./workers
COPY simulators ./simulators
COPY cli ./cli
RUN pip install . && useradd --system --home /app orch && mkdir -p /data && chown orch /data

USER orch
ENV IDRAC_ORCH_DATA_DIR=/data IDRAC_ORCH_LOG_FORMAT=json
EXPOSE 8000
CMD ["idrac-orch", "api"]
