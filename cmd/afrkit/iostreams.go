package main

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/brick"
)

// IOStreams carries the standard streams, so commands can be run against
// buffers in tests with TTY and non-TTY behaviour alike.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// StdoutTTY is true when Out is a terminal: colour and progress lines
	// are for people, not for pipes.
	StdoutTTY bool
	// StderrTTY is true when ErrOut is a terminal: progress lines go there.
	StderrTTY bool
}

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	_, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS)
	_, errErr := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS)
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, StdoutTTY: err == nil, StderrTTY: errErr == nil}
}

// TestIO returns streams backed by buffers.
func TestIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut}, out, errOut
}

// esc makes a name, or a message that holds names, safe to print on a line
// of text (brick.EscapeName): clients choose names, and a newline in one
// must not print a line of a report that scripts read.
func esc(s string) string { return brick.EscapeName(s) }
