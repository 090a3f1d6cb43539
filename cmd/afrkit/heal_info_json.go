package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// The --json schema of `heal VOL info`, documented in docs/heal-info-json.md.
// Change both together.

// jsonEntry is one index entry of a brick.
type jsonEntry struct {
	GFID string `json:"gfid"`
	// Path is null when no brick can resolve the gfid.
	Path *string `json:"path"`
	// Index is the index directory that lists it: xattrop or dirty.
	Index string `json:"index"`
	// Status is GlusterFS's heal-info word, or "stale".
	Status string `json:"status"`
	// Type is the entry's type on the first brick that has it.
	Type         string      `json:"type,omitempty"`
	Pending      []string    `json:"pending"`
	SplitBrain   []string    `json:"split_brain"`
	GFIDMismatch bool        `json:"gfid_mismatch"`
	TypeMismatch bool        `json:"type_mismatch"`
	Blame        []jsonBlame `json:"blame"`
	Dirty        []jsonDirty `json:"dirty"`
	Down         []string    `json:"down"`
	Missing      []string    `json:"missing"`
	Errors       []string    `json:"errors"`
	// Reason says why a stale entry is stale.
	Reason string `json:"reason,omitempty"`
}

// jsonBlame is one non-zero cell of the pending matrix.
type jsonBlame struct {
	Brick    string `json:"brick"`
	Blames   string `json:"blames"`
	Data     int32  `json:"data"`
	Metadata int32  `json:"metadata"`
	Entry    int32  `json:"entry"`
}

// jsonDirty is a brick's non-zero trusted.afr.dirty.
type jsonDirty struct {
	Brick    string `json:"brick"`
	Data     int32  `json:"data"`
	Metadata int32  `json:"metadata"`
	Entry    int32  `json:"entry"`
}

// jsonCounts are a brick's counters; GlusterFS's summary ones plus stale.
type jsonCounts struct {
	Total           int `json:"total"`
	HealPending     int `json:"heal_pending"`
	SplitBrain      int `json:"split_brain"`
	PossiblyHealing int `json:"possibly_healing"`
	Stale           int `json:"stale"`
}

// jsonReport streams the JSON by hand around json.Marshal'd entries, one
// per line, so that memory stays flat however many entries a brick lists.
type jsonReport struct {
	w    io.Writer
	mode string
	opts afr.Options
	// bricks and entries count what was written, for the commas.
	bricks, entries int
	// unexplained, when not nil, is written after the bricks: the
	// differences no counter explains, which no index lists.
	unexplained []unexplainedJSON
}

// unexplainedJSON is one name whose copies differ with no counter to say
// which is right (fsck's silent-difference), found by a crawl.
type unexplainedJSON struct {
	Path   string `json:"path"`
	GFID   string `json:"gfid,omitempty"`
	Bricks string `json:"bricks"`
	Detail string `json:"detail"`
	// Next says what heal does with it, or how to choose.
	Next string `json:"next"`
}

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func (p *jsonReport) begin(v *volume.Volume) {
	mode := p.mode
	if mode == infoAll {
		mode = "info"
	}
	fmt.Fprintf(p.w, "{\n  \"volume\": %s,\n  \"mode\": %s,\n  \"bricks\": [", jsonString(v.Name), jsonString(mode))
}

func (p *jsonReport) beginBrick(b brickResult) {
	if p.bricks > 0 {
		fmt.Fprint(p.w, ",")
	}
	p.bricks++
	p.entries = 0
	uuid := "null"
	if b.brick.PeerUUID != "" {
		uuid = jsonString(b.brick.PeerUUID)
	}
	fmt.Fprintf(p.w, "\n    {\n      \"name\": %s,\n      \"host_uuid\": %s,\n      \"replica_set\": %d,\n      \"connected\": %t",
		jsonString(b.brick.String()), uuid, b.set, b.connected)
	if p.mode != infoSummary {
		fmt.Fprint(p.w, ",\n      \"entries\": [")
	}
}

func (p *jsonReport) write(e jsonEntry) {
	data, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("heal info: a jsonEntry does not marshal: %v", err)) // only strings, ints and bools
	}
	if p.entries > 0 {
		fmt.Fprint(p.w, ",")
	}
	p.entries++
	fmt.Fprintf(p.w, "\n        %s", data)
}

func (p *jsonReport) entry(rs *heal.ReplicaSet, e heal.InfoEntry) {
	p.write(describeEntry(rs, e, p.opts))
}

// describeEntry is what afr makes of an entry, in the JSON schema's terms.
func describeEntry(rs *heal.ReplicaSet, e heal.InfoEntry, opts afr.Options) jsonEntry {
	names := make([]string, len(rs.Bricks))
	for i, b := range rs.Bricks {
		names[i] = b.String()
	}
	v := afr.Decide(e.Replies, opts)
	je := newJSONEntry(e.GFID.String(), e.Sub, e.Status.String())
	je.GFIDMismatch, je.TypeMismatch = v.GFIDMismatch, v.TypeMismatch
	if e.Path != "" {
		je.Path = &e.Path
	}
	for i := range e.Replies {
		switch {
		case v.Down[i]:
			je.Down = append(je.Down, names[i])
		case v.Missing[i]:
			je.Missing = append(je.Missing, names[i])
		default:
			if je.Type == "" {
				je.Type = e.Replies[i].Type.String()
			}
			if d := e.Replies[i].Dirty; !d.IsZero() {
				je.Dirty = append(je.Dirty, jsonDirty{Brick: names[i], Data: d[afr.Data], Metadata: d[afr.Metadata], Entry: d[afr.Entry]})
			}
		}
		if e.Errs[i] != nil {
			je.Errors = append(je.Errors, e.Errs[i].Error())
		}
	}
	arbiter := slices.ContainsFunc(e.Replies, func(r afr.Reply) bool { return r.Arbiter })
	for _, k := range afr.Kinds {
		kv := v.Kind(k)
		// The arbiter's empty copy is a size GlusterFS's inspection
		// looks at, and its data heal then finds nothing to do: not a
		// kind left to heal.
		if kv.Checked && !(k == afr.Data && arbiter && !kv.NeedsHeal && !kv.SplitBrain) {
			je.Pending = append(je.Pending, k.String())
		}
		if kv.SplitBrain {
			je.SplitBrain = append(je.SplitBrain, k.String())
		}
	}
	for _, b := range afr.Blames(e.Replies) {
		c := b.Changelog
		je.Blame = append(je.Blame, jsonBlame{Brick: names[b.From], Blames: names[b.To], Data: c[afr.Data], Metadata: c[afr.Metadata], Entry: c[afr.Entry]})
	}
	return je
}

func (p *jsonReport) stale(s heal.Skipped) {
	name := s.Name
	if !s.GFID.IsZero() {
		name = s.GFID.String()
	}
	je := newJSONEntry(name, s.Sub, "stale")
	je.Reason = s.Reason
	p.write(je)
}

// newJSONEntry is an entry with its lists empty rather than null, so that
// scripts can test them without checking for null first.
func newJSONEntry(gfid string, sub index.Subdir, status string) jsonEntry {
	return jsonEntry{
		GFID: gfid, Index: string(sub), Status: status,
		Pending: []string{}, SplitBrain: []string{}, Blame: []jsonBlame{}, Dirty: []jsonDirty{},
		Down: []string{}, Missing: []string{}, Errors: []string{},
	}
}

func (p *jsonReport) endBrick(b brickResult) {
	if p.mode != infoSummary {
		if p.entries > 0 {
			fmt.Fprint(p.w, "\n      ")
		}
		fmt.Fprint(p.w, "]")
	}
	counts := "null"
	if b.connected {
		data, _ := json.Marshal(jsonCounts{Total: b.total, HealPending: b.healPending, SplitBrain: b.splitBrain, Stale: b.stale})
		counts = string(data)
	}
	fmt.Fprintf(p.w, ",\n      \"status\": %s,\n      \"counts\": %s\n    }", jsonString(b.status), counts)
}

func (p *jsonReport) end() {
	if p.bricks > 0 {
		fmt.Fprint(p.w, "\n  ")
	}
	fmt.Fprint(p.w, "]")
	if p.unexplained != nil {
		data, _ := json.MarshalIndent(p.unexplained, "  ", "  ") // plain strings always marshal
		fmt.Fprintf(p.w, ",\n  \"unexplained\": %s", data)
	}
	fmt.Fprint(p.w, "\n}\n")
}
