package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What every image holds and how it runs: the Dockerfile says the same
// (TestDockerfileAgrees).
const (
	// Package is the binary's package.
	Package = "github.com/ddbrewind/ddbrewind/cmd/ddbrewind"
	// BinaryPath is where the binary is in the image: the entrypoint.
	BinaryPath = "/ddbrewind"
	// User is the user and group the container runs as: distroless's
	// nonroot, numeric so that a runtime can tell it is not root without
	// reading /etc/passwd (Kubernetes runAsNonRoot).
	User = "65532:65532"
	// WorkDir is the user's home, the container's working directory.
	WorkDir = "/home/nonroot"
	// CertsPath is where the CA certificates are in the image; the
	// image's SSL_CERT_FILE names it (Go reads that path on Linux anyway).
	CertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// DefaultCACerts is the Debian ca-certificates bundle of this machine
	// (apt-get install ca-certificates), the Mozilla roots the
	// distroless base of the Dockerfile ships too.
	DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"
	// VersionLabel is the OCI annotation (and config label) of the version.
	VersionLabel = "org.opencontainers.image.version"
)

// epoch is the time of every file and of the image: a fixed time makes
// the same binary give the same image digest.
var epoch = time.Unix(0, 0).UTC()

// Options says what to build.
type Options struct {
	Version   string     // stamped into the binary and the image
	Platforms []Platform // one image each
	CACerts   string     // PEM bundle to copy into the image
	Go        string     // go command
	Package   string     // package of the binary
}

// Platform is an OS/architecture pair, e.g. linux/amd64.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// ParsePlatform reads OS/ARCH; only linux images are built.
func ParsePlatform(s string) (Platform, error) {
	os, arch, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || os != "linux" || arch == "" || strings.Contains(arch, "/") {
		return Platform{}, fmt.Errorf("%q: want linux/ARCH, e.g. linux/amd64", s)
	}
	return Platform{os, arch}, nil
}

// Images are the built images, one per platform, in Options order.
type Images []PlatformImage

// PlatformImage is one platform's image.
type PlatformImage struct {
	Platform Platform
	Image    v1.Image
}

// For returns the image of platform p ("linux/amd64").
func (is Images) For(p string) (v1.Image, bool) {
	for _, i := range is {
		if i.Platform.String() == p {
			return i.Image, true
		}
	}
	return nil, false
}

// Build compiles the binary for each platform and builds its image.
func Build(ctx context.Context, o Options) (Images, error) {
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w (install Debian's ca-certificates, or give -ca-certs PEM)", err)
	}
	if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA certificates %s: no PEM certificate in it", o.CACerts)
	}
	dir, err := os.MkdirTemp("", "mkimage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out Images
	for _, p := range o.Platforms {
		bin := filepath.Join(dir, "ddbrewind-"+p.Arch)
		if err := buildBinary(ctx, o, p, bin); err != nil {
			return nil, err
		}
		binary, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		img, err := imageOf(p, o.Version, binary, certs)
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", p, err)
		}
		out = append(out, PlatformImage{p, img})
	}
	return out, nil
}

// buildBinary compiles the static binary for p, with the Dockerfile's
// flags.
func buildBinary(ctx context.Context, o Options, p Platform, out string) error {
	cmd := exec.CommandContext(ctx, o.Go, "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+o.Version, "-o", out, o.Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build for %s: %w: %s", p, err, bytes.TrimSpace(b))
	}
	return nil
}

// imageOf builds the image of one platform from its binary.
func imageOf(p Platform, version string, binary, certs []byte) (v1.Image, error) {
	layerTar, err := rootfs(binary, certs)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: epoch}, CreatedBy: "mkimage: ddbrewind " + version, Comment: "static binary, CA certificates, nonroot user"}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Arch
	cf.Created = v1.Time{Time: epoch}
	labels := map[string]string{
		"org.opencontainers.image.title":       "ddbrewind",
		"org.opencontainers.image.description": "Rewind a DynamoDB table, or a slice of it, to a point in time",
		VersionLabel:                           version,
	}
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       User,
		WorkingDir: WorkDir,
		Env:        []string{"PATH=/", "SSL_CERT_FILE=" + CertsPath},
		Labels:     labels,
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return mutate.Annotations(img, labels).(v1.Image), nil
}

// rootfs is the layer's tar: directories, the user, the certificates and
// the binary, every file with the fixed time.
func rootfs(binary, certs []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	type entry struct {
		name     string
		mode     int64
		uid      int
		data     []byte
		typeflag byte
	}
	entries := []entry{
		{"etc/", 0o755, 0, nil, tar.TypeDir},
		{"etc/passwd", 0o644, 0, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"), tar.TypeReg},
		{"etc/group", 0o644, 0, []byte("root:x:0:\nnonroot:x:65532:\n"), tar.TypeReg},
		{"etc/ssl/", 0o755, 0, nil, tar.TypeDir},
		{"etc/ssl/certs/", 0o755, 0, nil, tar.TypeDir},
		{strings.TrimPrefix(CertsPath, "/"), 0o644, 0, certs, tar.TypeReg},
		{"home/", 0o755, 0, nil, tar.TypeDir},
		{strings.TrimPrefix(WorkDir, "/") + "/", 0o700, 65532, nil, tar.TypeDir},
		// Temporary local copies of S3 objects (journals, keys files) go here.
		{"tmp/", 0o1777, 0, nil, tar.TypeDir},
		{strings.TrimPrefix(BinaryPath, "/"), 0o755, 0, binary, tar.TypeReg},
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, Typeflag: e.typeflag,
			Size: int64(len(e.data)), ModTime: epoch, Format: tar.FormatPAX}
		if e.uid != 0 {
			h.Uname, h.Gname = "nonroot", "nonroot"
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout writes the images as an OCI image layout in dir (replaced):
// an index with one manifest per platform.
func WriteLayout(dir string, images Images) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, pi := range images {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: pi.Image, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: pi.Platform.OS, Architecture: pi.Platform.Arch},
		}})
	}
	if _, err := layout.Write(dir, idx); err != nil {
		return fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	return nil
}

// badTagChar is what an image tag may not hold.
var badTagChar = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// WriteTarball writes img as a docker-style tarball (docker load) tagged
// repo:version (characters a tag may not hold become '-'); it returns the
// reference.
func WriteTarball(path, repo, version string, img v1.Image) (string, error) {
	tag, err := name.NewTag(repo + ":" + badTagChar.ReplaceAllString(version, "-"))
	if err != nil {
		return "", fmt.Errorf("tag: %w", err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tag.String(), nil
}
