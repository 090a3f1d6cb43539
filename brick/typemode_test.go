package brick

import (
	"testing"

	"github.com/afrkit/afrkit/afr"
)

// TestTypeModeIsFileTypeBackwards: a copy read over the network, which
// gives afr's type, compares with one read on a disk, which gives a mode.
func TestTypeModeIsFileTypeBackwards(t *testing.T) {
	for _, ft := range []afr.FileType{afr.TypeRegular, afr.TypeDirectory, afr.TypeSymlink, afr.TypeOther} {
		if got := FileType(TypeMode(ft)); got != ft {
			t.Errorf("FileType(TypeMode(%s)) = %s", ft, got)
		}
	}
}
