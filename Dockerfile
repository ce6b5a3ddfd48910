# The voxflow image: one image for the worker, the API and the studio (docker-compose.yml picks
# the command). Configuration comes from the environment only (runtime/settings.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VOXFLOW_STATE_DIR=/var/lib/voxflow

RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/voxflow voxflow

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dsl ./dsl
COPY runtime ./runtime
COPY activities ./activities
COPY telephony ./telephony
COPY studio ./studio
COPY flows ./flows
RUN pip install .

USER voxflow
# 8000 API, 8501 studio, 9092 AudioSocket (worker)
EXPOSE 8000 8501 9092
CMD ["voxflow", "--help"]
