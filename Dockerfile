# Pregon in a container: `docker compose up` runs it against PostgreSQL (docker-compose.yml).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --bin pregon

FROM debian:bookworm-slim
# reqwest verifies provider certificates against the system CA store.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/pregon /usr/local/bin/pregon
WORKDIR /var/lib/pregon
ENV PREGON_LISTEN=0.0.0.0:8080
EXPOSE 8080
USER nobody
ENTRYPOINT ["pregon"]
CMD ["serve"]
