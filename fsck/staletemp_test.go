package fsck

import "testing"

func TestStaleTempFinal(t *testing.T) {
	for name, want := range map[string]string{
		".player.json.AbvgGY":      "player.json",
		".current_year_bkp.ij2fOq": "current_year_bkp",
		".a.b":                     "a",
	} {
		if got, ok := StaleTempFinal(name); !ok || got != want {
			t.Errorf("StaleTempFinal(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"player.json", ".bashrc", "..x", ".x."} {
		if got, ok := StaleTempFinal(name); ok {
			t.Errorf("StaleTempFinal(%q) = %q, true; want no match", name, got)
		}
	}
}
