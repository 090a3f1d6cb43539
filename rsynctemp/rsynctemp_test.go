package rsynctemp

import "testing"

func TestFinal(t *testing.T) {
	for name, want := range map[string]string{
		".player.json.AbvgGY":      "player.json",
		".current_year_bkp.ij2fOq": "current_year_bkp",
		".a.b":                     "a",
	} {
		if got, ok := Final(name); !ok || got != want {
			t.Errorf("Final(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"player.json", ".bashrc", "..x", ".x."} {
		if got, ok := Final(name); ok {
			t.Errorf("Final(%q) = %q, true; want no match", name, got)
		}
	}
}
