package afr

import "testing"

// TestLatestMtimeSeesWritesBehindTheVolume: latest-mtime on two copies in
// data split-brain, where b0's was last written through the volume (its
// mdata says 100, its inode 100 and a few microseconds) and b1's was then
// written on its brick behind the volume's back (mdata still 90, inode
// 200): the newer of the two times is b1's, and b1 wins. On mdata alone
// b0 won and b1's newer content was the one replaced.
func TestLatestMtimeSeesWritesBehindTheVolume(t *testing.T) {
	blame := func(j int) []Changelog {
		p := make([]Changelog, 2)
		p[j][Data] = 1
		return p
	}
	b0 := Reply{Name: "b0", Answered: true, Exists: true, Type: TypeRegular, Size: 10,
		Mtime: Timespec{Sec: 100}, InodeMtime: Timespec{Sec: 100, Nsec: 4000}, Pending: blame(1)}
	b1 := Reply{Name: "b1", Answered: true, Exists: true, Type: TypeRegular, Size: 10,
		Mtime: Timespec{Sec: 90}, InodeMtime: Timespec{Sec: 200}, Pending: blame(0)}
	replies := []Reply{b0, b1}
	if got, err := ResolveSplitBrain(replies, Data, OpLatestMtime, -1, 0); err != nil || got != 1 {
		t.Errorf("latest-mtime picks %d, %v; want b1 (1), written last behind the volume's back", got, err)
	}
	if got, err := FavoriteChild(replies, PolicyMtime); err != nil || got != 1 {
		t.Errorf("favorite-child-policy mtime picks %d, %v; want b1 (1)", got, err)
	}
	// Microseconds apart, as every write through GlusterFS leaves them:
	// the mdata's time stands (b0's 100 over b1's 90).
	replies[1].InodeMtime = Timespec{Sec: 90, Nsec: 5000}
	if got, err := ResolveSplitBrain(replies, Data, OpLatestMtime, -1, 0); err != nil || got != 0 {
		t.Errorf("latest-mtime picks %d, %v; want b0 (0) by the mdata's times", got, err)
	}
}
