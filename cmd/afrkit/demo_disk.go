package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/loopdisk"
)

// The demo's full disk: b1 of the volume "disk" is a file system of
// demoDiskMiB, and demoPhotos files of demoPhotoKiB are written, more
// than it holds.
const (
	demoDiskMiB   = 4
	demoGrownMiB  = 16
	demoPhotos    = 12
	demoPhotoKiB  = 512
	demoDiskLabel = "b1"
)

// demoFullDisk is the demo's second part: a brick whose disk fills up
// while files are written through the engine, as afrkit mount writes
// them. The other brick takes every write and blames it; heal info lists
// what it missed; its disk is grown, and heal fills it in. It needs root
// (a loop device); without, it says so and shows nothing.
func demoFullDisk(f *Factory, dir string) error {
	out := f.IO.Out
	fmt.Fprintf(out, "\nA brick's disk fills up during writes\n")
	if m := loopdisk.Missing(); m != "" {
		fmt.Fprintf(out, "  (skipped: a disk of its own for a brick needs %s)\n", m)
		return nil
	}
	root := filepath.Join(dir, "disk")
	disk, err := loopdisk.Create(filepath.Join(root, demoDiskLabel), demoDiskMiB, "")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer disk.Release()
	v, err := fixtures.Healthy(root, "disk", 2)
	if err != nil {
		return fmt.Errorf("demo: build volume: %w", err)
	}
	fmt.Fprintf(out, "Built volume disk: replica 2, brick b1 on a %d MiB ext4 file system of its own (a loop device)\n", demoDiskMiB)
	missed, why, err := demoWritePhotos(v)
	v.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  %d photos of %d KiB are written to /photos through the engine: b1 fails %d of them (%s); b0 takes every one and blames b1 for what it missed\n",
		demoPhotos, demoPhotoKiB, missed, why)
	hf := *f
	hf.StateDir = filepath.Join(root, "state")
	fmt.Fprintf(out, "\n$ afrkit heal disk info\n")
	if err := healInfoRun(&HealInfoOptions{F: &hf, Volume: "disk"}); err != nil {
		return err
	}
	if err := disk.Resize(demoGrownMiB); err != nil {
		return fmt.Errorf("demo: grow b1's disk: %w", err)
	}
	fmt.Fprintf(out, "  b1's disk is grown to %d MiB: unmounted, checked (e2fsck), resized (resize2fs), mounted back\n", demoGrownMiB)
	fmt.Fprintf(out, "\n$ afrkit heal disk\n")
	if err := healRun(&HealRunOptions{F: &hf, Volume: "disk"}); err != nil && !errors.Is(err, errReported) {
		return err
	}
	fmt.Fprintf(out, "\n$ afrkit heal disk info\n")
	return healInfoRun(&HealInfoOptions{F: &hf, Volume: "disk"})
}

// demoWritePhotos writes the photos through the engine and reports how
// many b1 failed, and with what error.
func demoWritePhotos(v *fixtures.Vol) (missed int, why string, err error) {
	if err := v.Mkdir("/photos"); err != nil {
		return 0, "", fmt.Errorf("demo: %w", err)
	}
	s := v.Set()
	var b1Err error
	// Called from the goroutine running the transaction.
	s.OnError = func(i int, err error) {
		if i == 1 && b1Err == nil {
			b1Err = err
		}
	}
	for k := range demoPhotos {
		content := make([]byte, demoPhotoKiB<<10)
		for i := range content {
			content[i] = byte(k + i)
		}
		e := brick.NewEntry{Path: fmt.Sprintf("/photos/%02d.jpg", k), Type: afr.TypeRegular, Mode: 0o644}
		_, failed, err := s.Create(context.Background(), e, content)
		if err != nil {
			return 0, "", fmt.Errorf("demo: write %s: %w", e.Path, err)
		}
		if failed[1] {
			missed++
		}
	}
	switch {
	case b1Err == nil:
		why = "none failed"
	case errors.Is(b1Err, syscall.ENOSPC):
		why = syscall.ENOSPC.Error()
	default:
		why = b1Err.Error()
	}
	return missed, why, nil
}
