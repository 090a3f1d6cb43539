package heal

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// healNames is entry heal of a directory (afr-self-heal-entry.c). With a
// source, every sink gets the source's names: missing ones are created with
// the source's gfid (linked when the sink has the gfid already, moved when
// it is a directory that was renamed), gfid-less copies get the gfid, and
// names the source no longer has are removed from the sinks (kept when
// their gfid is gone from the source, so no data goes with them). Without a
// source (split-brain, a witness, a full crawl with nothing to go by) the
// directories are merged: names are only ever created.
func (h *entryHeal) healNames(kv afr.KindVerdict) error {
	if !strings.HasPrefix(h.path, "/") {
		h.keep[afr.Entry] = true
		h.leave(false, "entry heal: %v", errNoPath)
		return nil
	}
	acts := h.acts
	src := kv.Source
	sinks := kv.Sinks
	if !kv.NeedsHeal || kv.Merge || src < 0 {
		src = -1
		sinks = make([]bool, len(h.replies))
		for i := range sinks {
			sinks[i] = true
		}
	}
	n := len(h.replies)
	lists := make([]map[string]bool, n)
	union := map[string]bool{}
	h.atPath = make([]bool, n)
	for i, b := range h.rs.Open {
		if dir, err := b.Abs(h.path); err == nil && dir == h.abs[i] {
			h.atPath[i] = true
		}
		names, err := b.ReadDirNames(h.abs[i], h.path)
		if err != nil {
			h.keep[afr.Entry] = true
			h.leave(false, "%s: %v", h.label(i), err)
			return nil
		}
		lists[i] = make(map[string]bool, len(names))
		for _, name := range names {
			lists[i][name] = true
			union[name] = true
		}
	}
	all := make([]string, 0, len(union))
	for name := range union {
		all = append(all, name)
	}
	sort.Strings(all)
	if one := h.op.oneName(); one != "" {
		// A command about one file heals that name alone, and so cannot
		// clear the directory's counters.
		all = []string{one}
		h.keep[afr.Entry], h.keep[afr.Data] = true, true
	}
	ok := true
	for _, name := range all {
		nsrc, nsinks := src, sinks
		if (h.force || h.e.full) && src >= 0 {
			nsrc, nsinks = mergeSources(name, src, sinks, lists)
		}
		done, err := h.healName(name, nsrc, nsinks)
		if err != nil {
			h.leave(false, "%s: %v", brick.Join(h.path, name), err)
			done = false
		}
		ok = ok && done
	}
	if !ok || h.keep[afr.Entry] {
		h.keep[afr.Entry] = true
		h.keep[afr.Data] = true // the full-heal marker of a granular entry heal
		return nil
	}
	// A full crawl visits every directory: one whose names already agree
	// and that no counter blames was not healed, and is not counted.
	if kv.NeedsHeal || h.acts > acts {
		h.healed("entry")
	}
	h.commits = append(h.commits, h.dropEntryChanges)
	return nil
}

// mergeSources is, for a heal full (its crawl and the passes after it),
// the source and sinks of one name of
// a directory whose entry heal has a source: the sources themselves may
// disagree about a name (made or removed on one brick behind the
// volume's back), which no counter explains. Such a name is merged, as a
// directory no counter blames is: created on every brick that lacks it,
// never removed. Otherwise the source's copy goes to the sinks and to the
// other sources that lack it. Without this the next full crawl, finding
// no counter left, merged what this one left, and one heal full left
// work for another.
func mergeSources(name string, src int, sinks []bool, lists []map[string]bool) (int, []bool) {
	out := slices.Clone(sinks)
	for i, l := range lists {
		if sinks[i] || i == src {
			continue
		}
		if l[name] && !lists[src][name] {
			// Another source has what the source lacks: merge.
			all := make([]bool, len(sinks))
			for j := range all {
				all[j] = true
			}
			return -1, all
		}
		out[i] = true
	}
	return src, out
}

// nameCopies gathers every brick's copy of name in the directory.
func (h *entryHeal) nameCopies(name string) ([]afr.Reply, []string, error) {
	n := len(h.replies)
	replies := make([]afr.Reply, n)
	abs := make([]string, n)
	for i, b := range h.rs.Open {
		a, err := b.ChildAbs(h.abs[i], name)
		if err != nil {
			return nil, nil, err
		}
		r, err := b.ReplyAt(a, brick.Join(h.path, name), h.rs.Keys)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", h.label(i), err)
		}
		r.Name, r.Arbiter = h.label(i), i == h.rs.Arbiter
		replies[i], abs[i] = r, a
	}
	return replies, abs, nil
}

// healName heals one name of the directory; done is false when the name
// is left for later or for a person.
func (h *entryHeal) healName(name string, src int, sinks []bool) (bool, error) {
	p := brick.Join(h.path, name)
	copies, abs, err := h.nameCopies(name)
	if err != nil {
		return false, err
	}
	if h.e.opts.DryRun {
		h.plannedGFIDs(copies, abs)
	}
	// A split-brain command's lookup of the name it was given resolves a
	// gfid or type split-brain of that name and heals nothing else: a
	// command that then fails with "File not in split-brain" must have
	// changed nothing (GlusterFS's lookup would also have given the name
	// a gfid, created its missing copies or removed it where the source has
	// it no more).
	named := h.op != nil && h.op.name == name
	if src >= 0 && !copies[src].Exists {
		if named {
			return false, nil
		}
		return h.expungeName(p, copies, abs, src, sinks)
	}
	ref := src
	if ref < 0 {
		for i, c := range copies {
			if c.Exists && (ref < 0 || copies[ref].GFID.IsZero() && !c.GFID.IsZero()) {
				ref = i
			}
		}
	}
	if ref < 0 {
		// No brick has the name any more (moved out earlier in this heal).
		return true, nil
	}
	// assigned marks the copies this heal gives a gfid; fresh is set when
	// that gfid is new: a dry run then plans no more for the name than
	// the making (the next run plans what its content needs), since no
	// copy holds the gfid yet.
	assigned := make([]bool, len(copies))
	fresh := false
	if copies[ref].GFID.IsZero() {
		if named {
			return false, nil
		}
		var err error
		if fresh, err = h.giveGFID(p, copies, abs, ref, assigned); err != nil {
			return false, err
		}
	}
	if src >= 0 && !named && !copies[src].GFID.IsZero() {
		// The directory's entries have a source: a sink's copy of another
		// gfid or type is a name deleted and made again while the sink was
		// down, not a split-brain. It is kept and made anew.
		for i, c := range copies {
			if i == src || !sinks[i] || !c.Exists || c.GFID.IsZero() || (c.GFID == copies[src].GFID && c.Type == copies[src].Type) {
				continue
			}
			if err := h.keepReplaced(i, src, p, abs[i], c, copies[src]); err != nil {
				return false, err
			}
			copies[i] = afr.Reply{Name: c.Name, Answered: true}
		}
	}
	for i, c := range copies {
		if !c.Exists || i == ref {
			continue
		}
		if c.Type != copies[ref].Type || (!c.GFID.IsZero() && c.GFID != copies[ref].GFID) {
			return h.gfidSplitBrain(name, copies, abs)
		}
	}
	if named {
		return true, nil
	}
	want := copies[ref]
	for i, c := range copies {
		if i == ref || !sinks[i] {
			continue
		}
		switch {
		case !c.Exists:
			if err := h.createName(i, ref, p, abs, want); err != nil {
				return false, err
			}
		case c.GFID.IsZero():
			if err := h.gfidFree(i, abs[i], want.GFID); err != nil {
				return false, err
			}
			if err := h.keepBeforeJoining(i, ref, p, abs, copies); err != nil {
				return false, err
			}
			if err := h.assignGFID(i, p, abs[i], c, want.GFID); err != nil {
				return false, err
			}
		case assigned[i]:
			// Given its handle and gfid2path with the gfid just now.
		default:
			if err := h.completeEntry(i, p, abs[i], c); err != nil {
				return false, err
			}
		}
	}
	if h.force && !(fresh && h.e.opts.DryRun) {
		h.kids = append(h.kids, child{gfid: want.GFID, dir: want.Type == afr.TypeDirectory})
	}
	return true, nil
}

// giveGFID gives the copies of name p that have no gfid one, when the
// reference copy ref has none: the gfid the other copies agree on (as
// GlusterFS's lookup heals a gfid from the bricks that have it), each
// copy kept first when its content differs; or, when no copy has one, a
// new gfid everywhere, as a lookup through GlusterFS would (fresh). With
// copies of other types, or of several gfids, it gives none: the gfid
// split-brain check that follows reports them.
func (h *entryHeal) giveGFID(p string, copies []afr.Reply, abs []string, ref int, assigned []bool) (fresh bool, err error) {
	holder := -1
	for i, c := range copies {
		if !c.Exists || c.GFID.IsZero() {
			continue
		}
		if holder >= 0 && c.GFID != copies[holder].GFID {
			return false, nil
		}
		holder = i
	}
	g := brick.NewGFID()
	if holder >= 0 {
		g = copies[holder].GFID
		for _, c := range copies {
			if c.Exists && c.Type != copies[holder].Type {
				return false, nil
			}
		}
	}
	for i, c := range copies {
		if !c.Exists || !c.GFID.IsZero() {
			continue
		}
		if holder >= 0 {
			if err := h.gfidFree(i, abs[i], g); err != nil {
				return false, err
			}
			if err := h.keepBeforeJoining(i, holder, p, abs, copies); err != nil {
				return false, err
			}
		}
		if err := h.assignGFID(i, p, abs[i], c, g); err != nil {
			return false, err
		}
		copies[i].GFID = g
		assigned[i] = true
	}
	return holder < 0, nil
}

// plannedGFIDs gives, in a dry run, the copies without a gfid the gfid
// this dry run planned for their inode under another name.
func (h *entryHeal) plannedGFIDs(copies []afr.Reply, abs []string) {
	for i, c := range copies {
		if !c.Exists || !c.GFID.IsZero() || c.Type == afr.TypeDirectory {
			continue
		}
		var st syscall.Stat_t
		if err := h.rs.Open[i].Lstat(abs[i], &st); err == nil {
			copies[i].GFID = h.e.plannedInode(h.rs, i, st.Dev, st.Ino)
		}
	}
}

// gfidFree refuses to give brick i's copy at abs the gfid g when the brick
// still holds g's handle for another inode (this name's old copy,
// replaced behind the volume's back): the gfid would fail half given, as
// posix's handle link fails on GlusterFS. It is checked before anything
// is kept or changed, the dry run too.
func (h *entryHeal) gfidFree(i int, abs string, g afr.GFID) error {
	b := h.rs.Open[i]
	exists, _, err := b.HasGFID(g)
	if err != nil {
		return err
	}
	if h.e.planned(h.rs, i, planGone, g) {
		// The dry run plans to move that other file out first.
		exists = false
	}
	if !exists && h.e.planned(h.rs, i, planMade, g) {
		// The dry run plans to create g there first, as another file.
		return fmt.Errorf("%s's copy has no gfid, and gfid %s is to be created there as another file first: move this copy aside", h.label(i), g)
	}
	if !exists {
		return nil
	}
	if same, err := b.SameFile(abs, b.HandlePath(g)); err != nil || !same {
		return fmt.Errorf("%s's copy has no gfid, and the handle of gfid %s there is another file (an old copy replaced on the brick): move one of them aside", h.label(i), g)
	}
	return nil
}

// assignGFID gives a gfid-less copy the gfid, its handle and gfid2path.
func (h *entryHeal) assignGFID(i int, p, abs string, c afr.Reply, g afr.GFID) error {
	b := h.rs.Open[i]
	_, name := brick.SplitPath(p)
	if err := h.gfidFree(i, abs, g); err != nil {
		return err
	}
	h.e.plan(h.rs, i, planMade, g)
	if h.e.opts.DryRun && c.Type != afr.TypeDirectory {
		// Its other names (hard links) get g with it: the plan reads
		// them so, as the run will.
		var st syscall.Stat_t
		if err := b.Lstat(abs, &st); err == nil {
			h.e.planInode(h.rs, i, st.Dev, st.Ino, g)
		}
	}
	return h.act(Action{What: "gfid", Path: p, Sinks: []string{h.label(i)}, Target: g, Detail: "assign gfid " + g.String()}, func() error {
		if err := b.SetGFID(abs, p, g); err != nil {
			return err
		}
		return h.linkHandle(b, abs, name, c.Type, g)
	})
}

// linkHandle gives the copy at abs, named name in the healed directory,
// gfid g's handle and (for non-directories) its gfid2path, as a create
// does after it sets the gfid.
func (h *entryHeal) linkHandle(b *brick.Brick, abs, name string, typ afr.FileType, g afr.GFID) error {
	if typ == afr.TypeDirectory {
		return b.SymlinkDirHandle(g, h.gfid, name)
	}
	if err := b.LinkFileHandle(abs, g); err != nil {
		return err
	}
	return b.AddGfid2path(abs, h.gfid, name)
}

// completeEntry finishes a copy that has its gfid but not its handle: what
// a create cut short between setting the gfid and linking the handle
// leaves (brick.Create). The copy is the gfid's, so the handle and
// gfid2path it lacks are made, as a create would have; without this the
// gfid reads as missing on the sink and the name as present, and neither
// heal would ever make the handle.
func (h *entryHeal) completeEntry(i int, p, abs string, c afr.Reply) error {
	b := h.rs.Open[i]
	exists, _, err := b.HasGFID(c.GFID)
	if err != nil || h.e.holdsAfterPlan(h.rs, i, c.GFID, exists) {
		return err
	}
	_, name := brick.SplitPath(p)
	return h.act(Action{What: "gfid", Path: p, Sinks: []string{h.label(i)}, Target: c.GFID, Detail: "complete a half-made entry: handle and gfid2path of gfid " + c.GFID.String()}, func() error {
		return h.linkHandle(b, abs, name, c.Type, c.GFID)
	})
}

// createName makes name on sink i as the reference brick ref has it.
func (h *entryHeal) createName(i, ref int, p string, abs []string, want afr.Reply) error {
	b := h.rs.Open[i]
	_, name := brick.SplitPath(p)
	exists, _, err := b.HasGFID(want.GFID)
	if err != nil && !h.e.planned(h.rs, i, planGone, want.GFID) {
		return err
	}
	// A dry run reads the brick as its plan leaves it: a second name of a
	// file it plans to create is the link the run then makes, and a copy
	// it plans to move out (its handle with it) is not there.
	exists = h.e.holdsAfterPlan(h.rs, i, want.GFID, exists && err == nil)
	if exists && want.Type == afr.TypeDirectory {
		return h.moveDir(i, p, abs[i], want.GFID)
	}
	if exists {
		// The sink has the inode under another name: a hard link or a
		// rename made while it was down.
		h.e.plan(h.rs, i, planMade, want.GFID)
		return h.act(Action{What: "link", Path: p, Source: h.label(ref), Sinks: []string{h.label(i)}, Target: want.GFID, Detail: "link to the existing gfid " + want.GFID.String()}, func() error {
			if err := b.Link(b.HandlePath(want.GFID), abs[i]); err != nil {
				return err
			}
			return b.AddGfid2path(abs[i], h.gfid, name)
		})
	}
	if want.Type == afr.TypeOther {
		return fmt.Errorf("%s is a special file on %s; afrkit does not recreate device, fifo or socket nodes", p, h.label(ref))
	}
	// Pre-op: the reference copy blames the sink before the sink gets its
	// (empty) copy, so whatever a crash leaves, the next heal fills the
	// sink from the reference and never the other way round. A counter
	// that blames the sink already (as GlusterFS leaves a file written
	// while the sink was down, and nothing has changed it since it was
	// read with the name) is not written again: only whether it is zero
	// counts.
	mark := afr.NewEntryMark(want.Type, h.e.AFR.GranularEntryHeal)
	if i < len(want.Pending) {
		for k, c := range want.Pending[i] {
			if c != 0 {
				mark[k] = 0
			}
		}
	}
	detail := fmt.Sprintf("create %s with gfid %s", want.Type, want.GFID)
	if want.Type == afr.TypeRegular {
		detail += fmt.Sprintf(" (%d bytes)", want.Size)
	}
	h.e.plan(h.rs, i, planMade, want.GFID)
	return h.act(Action{What: "create", Path: p, Source: h.label(ref), Sinks: []string{h.label(i)}, Target: want.GFID, Bytes: want.Size, Detail: detail}, func() error {
		rb := h.rs.Open[ref]
		if !mark.IsZero() {
			if _, err := rb.AddChangelog(abs[ref], p, h.rs.Keys[i], mark); err != nil {
				return err
			}
		}
		if err := h.rs.addIndex(ref, index.Xattrop, want.GFID); err != nil {
			return err
		}
		e := brick.NewEntry{Path: p, GFID: want.GFID, Type: want.Type, Mode: modeBits(want.Mode), NoSync: true}
		if h.atPath[i] {
			// The sink's directory at this path is the one healed: its
			// gfid is known, and Create need not read it back.
			e.Parent = h.gfid
		}
		if m, ok, err := rb.ReadMdata(abs[ref], p); err == nil && ok {
			e.Times = &m
		}
		if want.Type == afr.TypeSymlink {
			t, err := rb.Readlink(abs[ref])
			if err != nil {
				return err
			}
			e.Target = t
		}
		h.e.step("create " + p)
		return b.Create(e)
	})
}

// moveDir renames sink i's directory g, found elsewhere, to its new name:
// the directory was renamed while the sink was down.
func (h *entryHeal) moveDir(i int, p, abs string, g afr.GFID) error {
	b := h.rs.Open[i]
	old, err := b.AbsOfGFID(g)
	if err != nil {
		return err
	}
	if strings.HasPrefix(abs+"/", old+"/") {
		return fmt.Errorf("cannot move directory %s into itself (%s)", b.RelToRoot(old), p)
	}
	_, name := brick.SplitPath(p)
	return h.act(Action{What: "rename", Path: p, Sinks: []string{h.label(i)}, Detail: "move directory from " + b.RelToRoot(old)}, func() error {
		if err := b.Rename(old, abs, true); err != nil {
			return err
		}
		return b.RetargetDirHandle(g, h.gfid, name)
	})
}

// expungeName removes from the sinks a name the source no longer has.
// When the source still has the gfid under another name (a rename, or a
// removed hard link), only the name goes. Otherwise the copy is moved to
// the brick's kept directory and recorded in the history: it may be the
// last copy of what somebody deleted.
func (h *entryHeal) expungeName(p string, copies []afr.Reply, abs []string, src int, sinks []bool) (bool, error) {
	for i, c := range copies {
		if !c.Exists || !sinks[i] {
			continue
		}
		onSource := false
		if !c.GFID.IsZero() {
			var err error
			// Under another name of the volume: a handle whose last name
			// was removed on the source behind the volume's back holds
			// nothing, and unlinking the sinks' names would leave the
			// file in no brick's namespace.
			onSource, _, err = h.rs.Open[src].HasGFIDNamed(c.GFID)
			if err != nil {
				return false, err
			}
			// A dry run reads a name it plans to give the source as the
			// run will find it.
			onSource = h.e.namedAfterPlan(h.rs, src, c.GFID, onSource)
		}
		if onSource && c.Type == afr.TypeDirectory {
			// Renamed on the source: the heal of its new name moves it.
			h.leave(false, "%s: directory %s lives under another name on %s; it is moved when that name is healed", p, c.GFID, h.label(src))
			return false, nil
		}
		if onSource && !(h.lastName(i, abs[i]) && !h.sameAsSource(i, abs[i], src, c.GFID)) {
			b := h.rs.Open[i]
			_, name := brick.SplitPath(p)
			h.e.plan(h.rs, i, planUnlinked, c.GFID)
			err := h.act(Action{What: "unlink", Path: p, Source: h.label(src), Sinks: []string{h.label(i)},
				Detail: fmt.Sprintf("%s has gfid %s under another name", h.label(src), c.GFID)}, func() error {
				if err := b.Remove(abs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				return b.RemoveGfid2path(b.HandlePath(c.GFID), h.gfid, name)
			})
			if err != nil {
				return false, err
			}
			continue
		}
		if err := h.keepRemoved(i, src, p, abs[i], c); err != nil {
			return false, err
		}
	}
	return true, nil
}

// lastName reports whether the name at abs is the last name brick i's
// copy has in the volume (besides its handle): unlinking it would leave
// the copy in .glusterfs alone, where no heal finds it when the source's
// other name is not one a counter asks to heal (renamed behind the
// volume's back). Such a copy, when it differs from the source's, is
// kept, as a removed name is; one that is the same loses nothing.
func (h *entryHeal) lastName(i int, abs string) bool {
	var st syscall.Stat_t
	if err := h.rs.Open[i].Lstat(abs, &st); err != nil {
		return false
	}
	return st.Mode&syscall.S_IFMT != syscall.S_IFDIR && st.Nlink <= 2
}

// sameAsSource reports whether brick i's copy at abs of gfid g has the
// source's content, mode and owner.
func (h *entryHeal) sameAsSource(i int, abs string, src int, g afr.GFID) bool {
	sb, b := h.rs.Open[src], h.rs.Open[i]
	sabs, err := sb.AbsOfGFID(g)
	if err != nil {
		return false
	}
	var ss, st syscall.Stat_t
	if sb.Lstat(sabs, &ss) != nil || b.Lstat(abs, &st) != nil {
		return false
	}
	if ss.Mode != st.Mode || ss.Uid != st.Uid || ss.Gid != st.Gid || ss.Size != st.Size {
		return false
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return true
	}
	x, err1 := sb.HashFile(sabs)
	y, err2 := b.HashFile(abs)
	return err1 == nil && err2 == nil && x == y
}

// dropEntryChanges removes the directory's granular entry-changes names,
// now that its entries agree.
func (h *entryHeal) dropEntryChanges() error {
	for _, ix := range h.rs.Indexes {
		if ix == nil {
			continue
		}
		if err := ix.RemoveEntryChanges(h.gfid); err != nil {
			return err
		}
	}
	return nil
}
