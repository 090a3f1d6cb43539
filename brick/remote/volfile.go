package remote

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// stanza is one translator of a GlusterFS volfile:
//
//	volume NAME
//	    type TYPE
//	    option KEY VALUE
//	    subvolumes A B
//	end-volume
type stanza struct {
	name, typ  string
	options    [][2]string // in the file's order
	subvolumes []string
}

func (s stanza) option(key string) string {
	for _, kv := range s.options {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

// parseVolfile reads the stanzas of a volfile, as glusterd writes them.
// Blank lines and #-comments are skipped; anything else out of place is an
// error, since a graph built from a misread volfile would talk to the
// wrong brick.
func parseVolfile(data []byte) ([]stanza, error) {
	var out []stanza
	var cur *stanza
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		switch {
		case fields[0] == "volume" && len(fields) == 2 && cur == nil:
			cur = &stanza{name: fields[1]}
		case fields[0] == "end-volume" && len(fields) == 1 && cur != nil:
			out = append(out, *cur)
			cur = nil
		case cur == nil:
			return nil, fmt.Errorf("line %d: %q outside a volume stanza", n, line)
		case fields[0] == "type" && len(fields) == 2:
			cur.typ = fields[1]
		case fields[0] == "option" && len(fields) >= 3:
			// A value may hold spaces (none of a client's do, but a
			// volfile's syntax allows them): keep the rest of the line.
			value := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "option")), fields[1]))
			cur.options = append(cur.options, [2]string{fields[1], value})
		case fields[0] == "subvolumes" && len(fields) >= 2:
			cur.subvolumes = append(cur.subvolumes, fields[1:]...)
		default:
			return nil, fmt.Errorf("line %d: %q is not a volfile statement", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("volume %s has no end-volume", cur.name)
	}
	return out, nil
}

// brickVolfile is the graph of the one protocol/client named client in a
// volume's client volfile: that client's stanza, credentials and transport
// options as glusterd wrote them, under an md-cache that caches cacheKeys
// (none: no md-cache). host and path are the brick's as glusterd's brick
// file gives them; the stanza must name the same, or the volfile is stale
// and the graph would read another brick.
//
// md-cache asks for the xattrs it caches in every lookup's request, as
// AFR asks for its counters, and the brick's posix translator answers
// them in the lookup's reply: a lookup by gfid followed by reads of the
// counters is then one round trip, not one per xattr (a key absent from
// the reply is answered ENODATA from the cache). Its cache lives for
// md-cache-timeout (1 s): a reader that looks an inode up again within
// that second may be answered from it, as any GlusterFS client is.
func brickVolfile(clientVolfile []byte, client, host, path string, cacheKeys []string) ([]byte, error) {
	stanzas, err := parseVolfile(clientVolfile)
	if err != nil {
		return nil, fmt.Errorf("client volfile: %w", err)
	}
	for _, s := range stanzas {
		if s.name != client {
			continue
		}
		if s.typ != "protocol/client" {
			return nil, fmt.Errorf("client volfile: %s is a %s, not a protocol/client", client, s.typ)
		}
		if h, p := s.option("remote-host"), s.option("remote-subvolume"); h != host || p != path {
			return nil, fmt.Errorf("client volfile: %s connects to %s:%s, but glusterd's brick is %s:%s (a stale volfile?)", client, h, p, host, path)
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "volume %s\n    type %s\n", s.name, s.typ)
		for _, kv := range s.options {
			fmt.Fprintf(&b, "    option %s %s\n", kv[0], kv[1])
		}
		b.WriteString("end-volume\n")
		if len(cacheKeys) > 0 {
			// md-cache turns a readdir into a readdirplus unless told
			// not to, and the index translator's virtual directories
			// answer readdir alone.
			fmt.Fprintf(&b, "\nvolume %s-md-cache\n    type performance/md-cache\n    option xattr-cache-list %s\n    option force-readdirp off\n    subvolumes %s\nend-volume\n", s.name, strings.Join(cacheKeys, ","), s.name)
		}
		return b.Bytes(), nil
	}
	return nil, fmt.Errorf("client volfile has no %s", client)
}
