package fsck

import "regexp"

// rsyncTempPattern is GlusterFS DHT's default cluster.rsync-hash-regex
// (dht_init_regex): rsync writes ".<name>.<random>" and renames it to <name>
// when the transfer ends, so a name of this shape whose <name> is absent was
// left behind by an interrupted transfer.
const rsyncTempPattern = `^\.(.+)\.[^.]+$`

// rsyncTempRe is compiled once; a *regexp.Regexp is safe for concurrent use
// and never changes.
var rsyncTempRe = regexp.MustCompile(rsyncTempPattern)

// StaleTempFinal returns the final name an rsync-style temp name would be
// renamed to, and whether name has that shape at all.
func StaleTempFinal(name string) (string, bool) {
	m := rsyncTempRe.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}
