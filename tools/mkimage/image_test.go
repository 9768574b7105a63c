package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestImage builds the linux/amd64 image as make image does, reads the
// OCI layout and the tarball back, checks the config, and runs the binary
// taken out of the layer.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("runs the linux/amd64 binary of the image")
	}
	if _, err := os.Stat(DefaultCACerts); err != nil {
		t.Skipf("no CA bundle here: %v", err)
	}
	dir := t.TempDir()
	lay, tarPath := filepath.Join(dir, "image"), filepath.Join(dir, "image.tar")
	var out, errOut bytes.Buffer
	if code := runMain(context.Background(), []string{"-version", "v9.8.7-test", "-platforms", "linux/amd64",
		"-layout", lay, "-tarball", tarPath}, &out, &errOut); code != 0 {
		t.Fatalf("mkimage exit %d: %s", code, errOut.String())
	}
	idx, err := layout.ImageIndexFromPath(lay)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Platform == nil || im.Manifests[0].Platform.OS != "linux" || im.Manifests[0].Platform.Architecture != "amd64" {
		t.Fatalf("index manifests: %+v", im.Manifests)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations[VersionLabel] != "v9.8.7-test" || m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest: media type %s, annotations %v", m.MediaType, m.Annotations)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture != "amd64" || !slices.Equal(c.Entrypoint, []string{"/ddbrewind"}) || c.User != "65532:65532" ||
		c.WorkingDir != "/home/nonroot" || !slices.Contains(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") ||
		c.Labels[VersionLabel] != "v9.8.7-test" || len(c.Cmd) != 0 {
		t.Errorf("config: %s/%s %+v", cf.OS, cf.Architecture, c)
	}

	files := extract(t, img)
	if want, _ := os.ReadFile(DefaultCACerts); !bytes.Equal(files["etc/ssl/certs/ca-certificates.crt"].data, want) {
		t.Error("the image's CA bundle is not this machine's")
	}
	if !strings.Contains(string(files["etc/passwd"].data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd: %q", files["etc/passwd"].data)
	}
	if h := files["home/nonroot"].hdr; h == nil || h.Uid != 65532 {
		t.Errorf("home/nonroot: %+v", h)
	}
	if h := files["tmp"].hdr; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Errorf("tmp: %+v", h)
	}
	bin := files["ddbrewind"]
	if bin.hdr == nil || bin.hdr.Mode&0o111 == 0 {
		t.Fatalf("no executable /ddbrewind in the layer: %+v", bin.hdr)
	}
	exe := filepath.Join(dir, "ddbrewind")
	if err := os.WriteFile(exe, bin.data, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(exe, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(got), "v9.8.7-test") {
		t.Errorf("ddbrewind version from the image: %v: %s", err, got)
	}
	// Static: no program interpreter (a dynamic binary would need libc,
	// which the image does not have).
	if bytes.Contains(bin.data[:min(len(bin.data), 4096)], []byte("ld-linux")) {
		t.Error("the binary is dynamically linked")
	}

	// The tarball holds the same image, tagged with the version.
	timg, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.ConfigName()
	d2, _ := timg.ConfigName()
	if d1 != d2 {
		t.Errorf("tarball config %s, layout config %s", d2, d1)
	}
	if !strings.Contains(out.String(), "ddbrewind:v9.8.7-test") {
		t.Errorf("output: %s", out.String())
	}
}

type tarFile struct {
	hdr  *tar.Header
	data []byte
}

// extract reads the image's filesystem.
func extract(t *testing.T, img v1.Image) map[string]tarFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]tarFile{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = tarFile{h, data}
	}
	return files
}

// TestDockerfileAgrees: the Dockerfile (for people with Docker) runs the
// same entrypoint as the same user in the same directory as make image's.
func TestDockerfileAgrees(t *testing.T) {
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " "); ok && slices.Contains([]string{"ENTRYPOINT", "USER", "WORKDIR"}, k) {
			got[k] = strings.TrimSpace(v) // the last stage's wins, as in Docker
		}
	}
	var entry []string
	if err := json.Unmarshal([]byte(got["ENTRYPOINT"]), &entry); err != nil {
		t.Fatalf("ENTRYPOINT %q: want the exec form: %v", got["ENTRYPOINT"], err)
	}
	if !slices.Equal(entry, []string{BinaryPath}) || got["USER"] != User || got["WORKDIR"] != WorkDir {
		t.Errorf("Dockerfile: ENTRYPOINT %q USER %q WORKDIR %q; make image: [%q] %q %q", entry, got["USER"], got["WORKDIR"], BinaryPath, User, WorkDir)
	}
}

// TestFlags: bad flags exit 2 before anything is built.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-layout", "x"},
		{"-version", "v1"},
		{"-version", "v1", "-layout", "x", "-platforms", "windows/amd64"},
		{"-version", "v1", "-tarball", "x", "-platforms", "linux/arm64", "-ca-certs", "/nonexistent"},
		{"-version", "v1", "-layout", "x", "extra"},
	} {
		var out, errOut bytes.Buffer
		code := runMain(context.Background(), args, &out, &errOut)
		if code == 0 || (code != 2 && !strings.Contains(errOut.String(), "CA certificates")) {
			t.Errorf("%q: exit %d: %s", args, code, errOut.String())
		}
	}
}
