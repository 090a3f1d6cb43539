package volume

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/afrkit/afrkit/brick"
)

// ErrBadDefinition is wrapped by every error Validate returns.
var ErrBadDefinition = errors.New("bad volume definition")

// fieldError is one field of a definition that is wrong.
type fieldError struct {
	field, problem string
}

// Validate checks an afrkit volume definition, as Save writes it and Load
// reads it back: what a hand edit, a torn write or another tool can break.
// Every problem is named by its field.
func (v *Volume) Validate() error {
	var errs []fieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, fieldError{field, fmt.Sprintf(format, args...)})
	}
	if err := ValidName(v.Name); err != nil {
		bad("name", "%v", err)
	}
	if _, err := brick.ParseGFID(v.ID); err != nil {
		bad("id", "%q is not a volume id (a UUID)", v.ID)
	}
	if v.Replica < 2 {
		bad("replica", "%d: a replicated volume has at least 2 bricks per replica set", v.Replica)
	}
	if v.XattrNS != brick.NSTrusted && v.XattrNS != brick.NSUser {
		bad("xattr_ns", "%q: want %q or %q", v.XattrNS, brick.NSTrusted, brick.NSUser)
	}
	switch {
	case len(v.Bricks) == 0:
		bad("bricks", "none")
	case v.Replica >= 2 && len(v.Bricks)%v.Replica != 0:
		bad("bricks", "%d do not make replica sets of %d", len(v.Bricks), v.Replica)
	}
	for i, b := range v.Bricks {
		field := fmt.Sprintf("bricks[%d]", i)
		if !filepath.IsAbs(b.Path) || filepath.Clean(b.Path) != b.Path {
			bad(field+".path", "%q is not a clean absolute path", b.Path)
		}
		if want := fmt.Sprintf("%s-client-%d", v.Name, i); b.ID != want {
			bad(field+".id", "%q, want %q: the id names the changelog key that blames the brick", b.ID, want)
		}
		for j, o := range v.Bricks[:i] {
			if Overlap(b.Path, o.Path) {
				bad(field+".path", "%s overlaps bricks[%d] %s", b.Path, j, o.Path)
			}
		}
	}
	if s, ok := v.Options["cluster.quorum-count"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || (v.Replica >= 2 && n > v.Replica) {
			bad("options.cluster.quorum-count", "%q: want a number from 1 to the replica count %d", s, v.Replica)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.field + ": " + e.problem
	}
	return fmt.Errorf("%w: %s", ErrBadDefinition, strings.Join(parts, "; "))
}

// Overlap reports whether two brick directories are the same or one holds
// the other: a brick inside another brick would be crawled as its content.
func Overlap(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	return a == b || strings.HasPrefix(b, a+string(filepath.Separator)) || strings.HasPrefix(a, b+string(filepath.Separator))
}
