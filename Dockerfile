# Storybot in a container: `docker build -t storybot .` then see compose.yaml.
# Build a wheel in one stage, install it in a slim one: no compiler or source in the image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY stories ./stories
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STORYBOT_DATA_DIR=/data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 storybot \
    && mkdir -p /data && chown storybot /data
USER storybot
WORKDIR /home/storybot
# Everything the bot writes (state, exchange log, block list, generated salt): mount it.
VOLUME ["/data"]
# Webhook mode listens on PORT (default 8443).
EXPOSE 8443
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["storybot", "health"]
ENTRYPOINT ["storybot"]
CMD ["run", "--polling"]
