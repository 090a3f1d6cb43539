package heal

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/afrkit/afrkit/afr"
)

// healMetadata gives every sink the source's owner, mode, copyable xattrs
// and times (afr-self-heal-metadata.c: setattr, then removexattr of what
// the source lacks and setxattr of what it has).
func (h *entryHeal) healMetadata(kv afr.KindVerdict) error {
	src := h.replies[kv.Source]
	for i, sink := range kv.Sinks {
		if !sink {
			continue
		}
		r := h.replies[i]
		a := Action{What: "metadata", Source: h.label(kv.Source), Sinks: []string{h.label(i)}, Detail: metadataDiff(src, r)}
		err := h.act(a, func() error { return h.setMetadata(kv.Source, i) })
		if err != nil {
			return fmt.Errorf("%s → %s: %w", h.label(kv.Source), h.label(i), err)
		}
	}
	return nil
}

func (h *entryHeal) setMetadata(src, i int) error {
	s, r := h.replies[src], h.replies[i]
	abs := h.abs[i]
	b := h.rs.Open[i]
	chowned := false
	if s.UID != r.UID || s.GID != r.GID {
		if err := b.Lchown(abs, int(s.UID), int(s.GID)); err != nil {
			return err
		}
		chowned = true
	}
	// chmod after chown: chown clears the set-id bits. So may the data
	// heal's writes (without CAP_FSETID) since the sink's mode was read;
	// nothing else changes a mode, so an equal one without set-id bits is
	// left alone.
	if s.Type != afr.TypeSymlink && (chowned || s.Mode != r.Mode || s.Mode&0o6000 != 0) {
		if err := b.Chmod(abs, modeBits(s.Mode)); err != nil {
			return err
		}
	}
	for k := range r.Xattrs {
		if _, ok := s.Xattrs[k]; !ok {
			h.e.step("removexattr " + k + " " + h.path)
			if err := b.RemoveRawXattr(abs, h.path, k); err != nil {
				return err
			}
		}
	}
	for k, v := range s.Xattrs {
		if w, ok := r.Xattrs[k]; ok && w == v {
			continue
		}
		h.e.step("setxattr " + k + " " + h.path)
		if err := b.SetRawXattr(abs, h.path, k, []byte(v)); err != nil {
			return err
		}
	}
	return h.copyTimes(src, i)
}

// modeBits converts permission and set-id bits to an os.FileMode.
func modeBits(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

// metadataDiff says what a metadata heal changes on the sink.
func metadataDiff(src, sink afr.Reply) string {
	var parts []string
	if src.Mode != sink.Mode {
		parts = append(parts, fmt.Sprintf("mode %04o → %04o", sink.Mode, src.Mode))
	}
	if src.UID != sink.UID || src.GID != sink.GID {
		parts = append(parts, fmt.Sprintf("owner %d:%d → %d:%d", sink.UID, sink.GID, src.UID, src.GID))
	}
	var keys []string
	for k, v := range src.Xattrs {
		if w, ok := sink.Xattrs[k]; !ok || w != v {
			keys = append(keys, "set "+k)
		}
	}
	for k := range sink.Xattrs {
		if _, ok := src.Xattrs[k]; !ok {
			keys = append(keys, "remove "+k)
		}
	}
	sort.Strings(keys)
	parts = append(parts, keys...)
	if len(parts) == 0 {
		return "times"
	}
	return strings.Join(parts, ", ")
}
