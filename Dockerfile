# One image for Synapse (with the Confrère access-rules module importable) and the service.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY synapse-config ./synapse-config
RUN pip install --no-cache-dir -e .
VOLUME /data
EXPOSE 8008 8009
CMD ["confrere", "--data", "/data", "serve"]
