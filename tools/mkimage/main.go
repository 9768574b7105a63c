// Command mkimage builds ddbrewind's container image without a Docker
// engine: an OCI image layout (a directory that `crane push --index` and
// `skopeo copy oci:` take) holding one image per platform, and a
// docker-style tarball of the linux/amd64 image (`docker load -i`).
// make image runs it as
//
//	go run ./tools/mkimage -version "$(VERSION)" -layout bin/image -tarball bin/ddbrewind-image.tar
//
// Each image has one layer: the static ddbrewind binary (CGO_ENABLED=0,
// built here with the Dockerfile's flags), the CA certificates of the
// Debian ca-certificates bundle on this machine (the bundle the
// Dockerfile's distroless base ships), /etc/passwd and /etc/group naming
// the non-root user 65532 (nonroot), its home and a /tmp. The config runs
// ddbrewind as that user with the binary as the entrypoint, exactly as
// the Dockerfile does (mkimage's test compares them), and stamps the
// version as a label and a manifest annotation.
//
// It is build tooling: nothing in the ddbrewind binary imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// runMain parses the flags, builds the images and writes them; it returns
// the exit code (2 for bad flags).
func runMain(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fs.SetOutput(errOut)
	var o Options
	var platforms string
	fs.StringVar(&o.Version, "version", "", "version stamped into the binary (-X main.version) and the image (required)")
	fs.StringVar(&platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated platforms, OS/ARCH")
	fs.StringVar(&o.CACerts, "ca-certs", DefaultCACerts, "PEM bundle of CA certificates to put in the image")
	fs.StringVar(&o.Go, "go", "go", "go command that builds the binary")
	fs.StringVar(&o.Package, "package", Package, "package of the binary")
	layoutDir := fs.String("layout", "", "write an OCI image layout (all platforms) to this directory (replaced)")
	tarPath := fs.String("tarball", "", "write a docker-style tarball of the linux/amd64 image to this file")
	tag := fs.String("tag", "ddbrewind", "repository the tarball's image is tagged with (the tag is the version)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Version == "" || (*layoutDir == "" && *tarPath == "") || fs.NArg() > 0 {
		fmt.Fprintln(errOut, "mkimage: -version and -layout or -tarball are required, and no arguments (see -h)")
		return 2
	}
	for _, p := range strings.Split(platforms, ",") {
		pl, err := ParsePlatform(p)
		if err != nil {
			fmt.Fprintf(errOut, "mkimage: -platforms: %v\n", err)
			return 2
		}
		o.Platforms = append(o.Platforms, pl)
	}
	images, err := Build(ctx, o)
	if err != nil {
		fmt.Fprintf(errOut, "mkimage: %v\n", err)
		return 1
	}
	if *layoutDir != "" {
		if err := WriteLayout(*layoutDir, images); err != nil {
			fmt.Fprintf(errOut, "mkimage: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, "wrote OCI layout %s (%s): crane push --index %s REPO:%s\n", *layoutDir, platforms, *layoutDir, o.Version)
	}
	if *tarPath != "" {
		img, ok := images.For("linux/amd64")
		if !ok {
			fmt.Fprintln(errOut, "mkimage: -tarball needs linux/amd64 among -platforms")
			return 2
		}
		ref, err := WriteTarball(*tarPath, *tag, o.Version, img)
		if err != nil {
			fmt.Fprintf(errOut, "mkimage: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, "wrote %s (linux/amd64, %s): docker load -i %s\n", *tarPath, ref, *tarPath)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return 130
	}
	return 0
}
