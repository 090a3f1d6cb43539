// Package volume describes replicated volumes: afrkit's own, kept as JSON
// files in afrkit's state directory, and GlusterFS's, read (never written)
// from glusterd's working directory (/var/lib/glusterd/vols/<VOL>).
//
// A volume is an ordered list of bricks cut into replica sets of Replica
// bricks each. A brick's position in the whole list gives its id,
// <VOL>-client-<N>, which names the changelog key trusted.afr.<VOL>-client-<N>
// that the other bricks of its replica set use to blame it.
package volume

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/afrkit/afrkit/brick"
)

// Source says where a volume definition came from.
type Source string

const (
	SourceAfrkit   Source = "afrkit"
	SourceGlusterd Source = "glusterd"
)

// ErrNotFound is returned when no registry knows a volume name.
var ErrNotFound = errors.New("volume: no such volume")

// Brick is one brick of a volume.
type Brick struct {
	Host string `json:"host"`
	Path string `json:"path"`
	// ID is the brick id, <VOL>-client-<N>, whose changelog key blames it.
	ID string `json:"id"`
	// Local is true when the brick lives on this host and can be read.
	Local bool `json:"local"`
	// PeerUUID is the glusterd peer that hosts the brick (GlusterFS only).
	PeerUUID string `json:"peer_uuid,omitempty"`
}

// ErrNeedsRoot is returned for a volume whose xattrs only root can read
// or write.
var ErrNeedsRoot = errors.New("needs root")

// CheckPrivileges refuses, for a process with effective uid euid, a volume
// it could not read correctly: the trusted.* xattrs of GlusterFS's volumes
// and of afrkit's root-made ones are invisible to any other user, so every
// brick would look empty and unstamped (and a repair would "fix" that).
func (v *Volume) CheckPrivileges(euid int) error {
	if v.XattrNS == brick.NSTrusted && euid != 0 {
		return fmt.Errorf("volume %s keeps its xattrs in the trusted namespace, which only root can read or write: run afrkit as root (%w)", v.Name, ErrNeedsRoot)
	}
	return nil
}

// String is the brick as GlusterFS prints it: host:/path.
func (b Brick) String() string { return b.Host + ":" + b.Path }

// Volume is a volume definition.
type Volume struct {
	Name    string            `json:"name"`
	ID      string            `json:"id"`
	Type    string            `json:"type"`
	Status  string            `json:"status"`
	Replica int               `json:"replica"`
	Arbiter int               `json:"arbiter,omitempty"`
	Bricks  []Brick           `json:"bricks"`
	Options map[string]string `json:"options,omitempty"`
	Source  Source            `json:"source"`
	// XattrNS is the namespace of the volume's xattrs: always trusted for
	// GlusterFS; user for afrkit volumes created without root.
	XattrNS string `json:"xattr_ns"`
}

// ArbiterPosition is the position of the arbiter brick in each replica
// set, or -1: GlusterFS's replica 3 arbiter 1 makes the third brick of
// every set the arbiter (AFR's ARBITER_BRICK_INDEX), and supports no
// other layout.
func (v *Volume) ArbiterPosition() int {
	if v.Arbiter == 1 && v.Replica == 3 {
		return 2
	}
	return -1
}

// ReplicaSets cuts the bricks into replica sets, in order.
func (v *Volume) ReplicaSets() [][]Brick {
	if v.Replica <= 0 {
		return [][]Brick{v.Bricks}
	}
	var sets [][]Brick
	for i := 0; i+v.Replica <= len(v.Bricks); i += v.Replica {
		sets = append(sets, v.Bricks[i:i+v.Replica])
	}
	return sets
}

// PendingKeys returns the changelog keys (without namespace) of a replica
// set's bricks, in brick order: what each brick's Pending[j] is read from.
func PendingKeys(set []Brick) []string {
	keys := make([]string, len(set))
	for j, b := range set {
		keys[j] = brick.PendingKey(b.ID)
	}
	return keys
}

// Option returns the value of a volume option, or def when unset.
func (v *Volume) Option(key, def string) string {
	if val, ok := v.Options[key]; ok {
		return val
	}
	return def
}

// BoolOption returns a boolean option, def when it is not set, read with
// the spellings GlusterFS's gf_string2boolean accepts.
func (v *Volume) BoolOption(key string, def bool) (bool, error) {
	val, ok := v.Options[key]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(val) {
	case "1", "on", "yes", "true", "enable":
		return true, nil
	case "0", "off", "no", "false", "disable":
		return false, nil
	}
	return def, fmt.Errorf("volume %s: %s: %q is not a boolean", v.Name, key, val)
}

// QuorumType returns cluster.quorum-type with GlusterFS's default: auto for
// replica counts above 2, none otherwise (fix_quorum_options).
func (v *Volume) QuorumType() string {
	def := "none"
	if v.Replica > 2 {
		def = "auto"
	}
	return v.Option("cluster.quorum-type", def)
}

// QuorumCount returns cluster.quorum-count as a number (0 when unset).
func (v *Volume) QuorumCount() int {
	n, _ := strconv.Atoi(v.Option("cluster.quorum-count", "0"))
	return n
}

// FavoriteChildPolicy returns cluster.favorite-child-policy (default none).
func (v *Volume) FavoriteChildPolicy() string {
	return v.Option("cluster.favorite-child-policy", "none")
}

// BrickIndex returns the position of the brick named by s, which may be
// host:/path, the bare path or the brick id (<VOL>-client-<N>).
func (v *Volume) BrickIndex(s string) (int, error) {
	for i, b := range v.Bricks {
		if s == b.String() || s == b.Path || s == b.ID {
			return i, nil
		}
	}
	return -1, fmt.Errorf("volume %s: no brick %q", v.Name, s)
}

// typeName names a volume type the way `gluster volume info` does.
func typeName(distribute, replica int, disperse bool) string {
	switch {
	case disperse && distribute > 1:
		return "Distributed-Disperse"
	case disperse:
		return "Disperse"
	case replica > 1 && distribute > 1:
		return "Distributed-Replicate"
	case replica > 1:
		return "Replicate"
	}
	return "Distribute"
}

// BrickLabels returns a short label per brick for messages: the brick
// directory's base name when that is unique in the volume (b1, b2, ...),
// otherwise host:/path.
func (v *Volume) BrickLabels() []string {
	count := map[string]int{}
	for _, b := range v.Bricks {
		count[path.Base(b.Path)]++
	}
	labels := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		if base := path.Base(b.Path); count[base] == 1 && base != "/" && base != "." {
			labels[i] = base
		} else {
			labels[i] = b.String()
		}
	}
	return labels
}
