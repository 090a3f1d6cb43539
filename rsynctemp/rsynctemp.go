// Package rsynctemp recognizes the names rsync gives a file while it
// transfers it: ".<name>.<random>", renamed to <name> once the transfer
// ends. A transfer cut short leaves the temp name behind; fsck reports
// such names, and compare matches them with the file they should be.
package rsynctemp

import "regexp"

// pattern is GlusterFS DHT's default cluster.rsync-hash-regex
// (dht_init_regex): rsync writes ".<name>.<random>" and renames it to <name>
// when the transfer ends, so a name of this shape whose <name> is absent was
// left behind by an interrupted transfer.
const pattern = `^\.(.+)\.[^.]+$`

// tempRe is compiled once; a *regexp.Regexp is safe for concurrent use
// and never changes.
var tempRe = regexp.MustCompile(pattern)

// Final returns the final name an rsync-style temp name would be
// renamed to, and whether name has that shape at all.
func Final(name string) (string, bool) {
	m := tempRe.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// RandomSuffix reports whether s is what rsync's mktemp template .XXXXXX
// makes: six letters and digits. GlusterFS's regex accepts any suffix, but
// dotfiles such as ".config.json" are not temp files.
func RandomSuffix(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// SuffixReadsAsWord reports whether an rsync-shaped suffix reads as a word
// ("sample", "backup", "BACKUP", "Backup") rather than as what mkstemp
// draws from 62 letters and digits: ".env.sample" is somebody's dotfile,
// not a transfer's leftover. One random suffix in about 60 reads as a word
// too: it is then a candidate for a person, which costs a question, where
// renaming a dotfile costs the dotfile.
func SuffixReadsAsWord(s string) bool {
	lower, upper := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			lower++
		case 'A' <= c && c <= 'Z':
			upper++
		default:
			return false
		}
	}
	return upper == 0 || lower == 0 || (upper == 1 && 'A' <= s[0] && s[0] <= 'Z')
}

// Split returns the final name and the random suffix of an rsync temp
// name, and whether name is one: the shape of Final with a suffix that
// RandomSuffix accepts.
func Split(name string) (final, suffix string, ok bool) {
	final, ok = Final(name)
	if !ok {
		return "", "", false
	}
	suffix = name[len(final)+2:]
	return final, suffix, RandomSuffix(suffix)
}
