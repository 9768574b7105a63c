package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeTourIsQuiet: the README's tour starts moto_server with its
// request log redirected (else it floods the terminal over the progress
// line), stops it at the end, and keeps the AWS CLI out of its pager
// (issue 22 row 10). The tour itself was run by hand in tmux at 80
// columns (see the report).
func TestReadmeTourIsQuiet(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## A one-minute tour.*?```sh\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("no tour in README.md")
	}
	tour := string(m[1])
	start := regexp.MustCompile(`(?m)^moto_server .*>\s*\S+ 2>&1 &`).FindString(tour)
	if start == "" {
		t.Errorf("the tour starts moto_server without redirecting its log:\n%s", tour)
	}
	if !regexp.MustCompile(`(?m)^MOTO=\$!`).MatchString(tour) || !regexp.MustCompile(`(?m)^kill \$MOTO`).MatchString(tour) {
		t.Errorf("the tour never stops moto_server (MOTO=$! … kill $MOTO)")
	}
	if !strings.Contains(tour, `AWS_PAGER=""`) {
		t.Errorf("the tour's aws calls may open a pager: set AWS_PAGER=\"\" (--no-cli-pager is AWS CLI v2 only)")
	}
}
