# syntax=docker/dockerfile:1
# ddbrewind: a static binary on a distroless base, running as a non-root user.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t ddbrewind .
#   docker run --rm ddbrewind --version
#
# The image has no shell: the container's command is ddbrewind's arguments
# (ENTRYPOINT is the binary), e.g. ["run", "--table", "orders", ...].

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ddbrewind ./cmd/ddbrewind \
 && /out/ddbrewind --version

# distroless/static: CA certificates, tzdata and a nonroot user (65532, named numerically so that
# a runtime sees a non-root user without reading /etc/passwd); no libc, no shell. make image builds
# the same image without Docker (tools/mkimage: same entrypoint, user and workdir, tested).
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="ddbrewind" \
      org.opencontainers.image.description="Rewind a DynamoDB table, or a slice of it, to a point in time" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/ddbrewind /ddbrewind
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/ddbrewind"]
