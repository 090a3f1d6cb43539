package brick

import "testing"

func TestEscapeName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/plain/name.txt", "/plain/name.txt"},
		{"/with space/é", "/with space/é"},
		{"/evil\nNumber of entries: 0", `/evil\nNumber of entries: 0`},
		{"/tab\there", `/tab\there`},
		{"/back\\slash", `/back\\slash`},
		{"/bell\a\x1b[31m", `/bell\007\033[31m`},
		{"/bad\xffutf8", `/bad\377utf8`},
	} {
		if got := EscapeName(c.in); got != c.want {
			t.Errorf("EscapeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
