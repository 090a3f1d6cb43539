package main

import (
	"flag"
	"testing"

	"github.com/afrkit/afrkit/fixtures/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// assertGolden compares got with testdata/<test name>.golden.
func assertGolden(t *testing.T, got string) {
	t.Helper()
	assertGoldenAs(t, t.Name(), got)
}

// assertGoldenAs is assertGolden with the golden file named name.
func assertGoldenAs(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, name, got, *update)
}
