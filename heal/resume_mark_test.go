package heal

import "testing"

func TestResumeMarkReadsWhatItWrites(t *testing.T) {
	m := resumeMark{Off: 128 << 20, Ino: 1234, Size: 1 << 30, CtimeNs: 1765000000123456789, Fresh: true, Source: "/bricks/with a space/b0"}
	got, err := parseResumeMark(m.encode())
	if err != nil || got != m {
		t.Fatalf("parse(%q) = %+v, %v; want %+v", m.encode(), got, err, m)
	}
	for _, bad := range []string{
		"",
		"afrkit-resume-2 off=1 ino=1 size=2 ctime=3 fresh=0 src=/b",
		"afrkit-resume-1 off=1 ino=1 size=2 ctime=3 fresh=0",
		"afrkit-resume-1 off=1 ino=1 size=2 ctime=3 fresh=0 src=",
		"afrkit-resume-1 off=3 ino=1 size=2 ctime=3 fresh=0 src=/b",
		"afrkit-resume-1 off=-1 ino=1 size=2 ctime=3 fresh=0 src=/b",
		"afrkit-resume-1 ino=1 off=1 size=2 ctime=3 fresh=0 src=/b",
		"afrkit-resume-1 off=x ino=1 size=2 ctime=3 fresh=0 src=/b",
		"afrkit-resume-1 off=1 ino=1 size=2 ctime=3 fresh=2 src=/b",
		"afrkit-resume-1 off=1 ino=1 size=2 ctime=3 src=/b",
	} {
		if m, err := parseResumeMark([]byte(bad)); err == nil {
			t.Errorf("parse(%q) = %+v, want an error", bad, m)
		}
	}
}
