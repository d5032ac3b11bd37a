# feeds in a container: `docker build -t feeds .`; see docs/DEPLOYMENT.md and compose.yaml.
FROM python:3.11-slim-bookworm
WORKDIR /srv/feeds
COPY pyproject.toml README.md server.py ./
COPY feeds ./feeds
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /srv/feeds feeds \
    && mkdir -p var seeds && chown feeds var seeds
USER feeds
EXPOSE 8000
# 0.0.0.0: the container's own interface; publish the port to choose who reaches it.
CMD ["feeds", "serve", "--host", "0.0.0.0", "--port", "8000"]
