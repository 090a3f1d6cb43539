package brick

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// hashBlock is the unit in which HashFile looks for zeros.
const hashBlock = 64 << 10

// SparsePrefix marks a HashFile name of content with zero blocks.
const SparsePrefix = "b3z:"

// HashFile names the content of the regular file at abs (anything else is
// refused unopened, as OpenFile does), for the history to tell versions
// apart and for people to compare.
//
// A file none of whose aligned 64 KiB blocks is all zeros (almost every
// file) is named by the blake3 of its content in hex, what b3sum prints.
// Hashing the zeros of a sparse terabyte would take many minutes (BLAKE3
// compresses every 1 KiB chunk at its own position, zeros too), so a file
// with zero blocks is named SparsePrefix followed by the blake3 of a
// stream in which each run of zero blocks is its length: its holes are
// skipped without being read, and equal content gets one name whether its
// zeros are holes or written out. The stream is 'D' and a data block, or
// 'Z' and a big-endian count of zero blocks, and the size at the end: no
// two contents make the same stream.
func (b *Brick) HashFile(abs string) (string, error) {
	fd, size, err := b.openRegularRead(abs)
	if err != nil {
		return "", err
	}
	if size < hashBlock {
		// A small file (most files of a tree) is read with one pread,
		// without an *os.File: a tree of them hashes in half the
		// system calls.
		defer unix.Close(fd)
		return hashSmall(fd, abs, size)
	}
	f := os.NewFile(uintptr(fd), abs)
	defer f.Close()
	return hashContent(f, size)
}

// SmallFile is the most ReadSmall reads: a file shorter than a hash
// block, whose content HashBytes names as HashFile does.
const SmallFile = hashBlock - 1

// ReadSmall reads the regular file at abs, as HashFile opens it, when it
// is at most SmallFile bytes; ok is false (and nothing read) when it is
// longer. Comparing two small files' bytes costs less than hashing both.
func (b *Brick) ReadSmall(abs string) (data []byte, ok bool, err error) {
	fd, size, err := b.openRegularRead(abs)
	if err != nil {
		return nil, false, err
	}
	defer unix.Close(fd)
	if size > SmallFile {
		return nil, false, nil
	}
	data, err = preadAll(fd, abs, size)
	return data, err == nil, err
}

// HashBytes names content of at most SmallFile bytes as HashFile names a
// file holding it.
func HashBytes(data []byte) string {
	h := blake3.New()
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// preadAll reads size bytes of fd from its start, zeros where it ended
// sooner (it shrank).
func preadAll(fd int, abs string, size int64) ([]byte, error) {
	buf := make([]byte, size)
	for off := 0; off < len(buf); {
		n, err := unix.Pread(fd, buf[off:], int64(off))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: abs, Err: err}
		}
		if n == 0 {
			break
		}
		off += n
	}
	return buf, nil
}

// hashSmall is hashContent of a file shorter than a block, read from fd:
// its bytes, hashed as they are (no block of it can be a hole to skip),
// zeros where it ended before size as it shrank.
func hashSmall(fd int, abs string, size int64) (string, error) {
	buf, err := preadAll(fd, abs, size)
	if err != nil {
		return "", err
	}
	return HashBytes(buf), nil
}

// openRegularRead opens the regular file at abs for reading, as
// OpenFile does (never a FIFO or a device, never through a symlink), and
// returns its descriptor and size: one openat2 beneath the root for the
// path where it is short enough, the checked O_PATH descriptor then
// reopened.
func (b *Brick) openRegularRead(abs string) (int, int64, error) {
	rel, err := b.rel(abs)
	if err != nil {
		return -1, 0, err
	}
	var pfd int
	if rel == "" || len(rel) > chunkMax {
		if pfd, err = b.openPath("open", abs, isReg); err != nil {
			return -1, 0, err
		}
	} else if err := b.withRoot(func(root int) error {
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: beneathResolve}
		for try := 0; ; try++ {
			pfd, err = unix.Openat2(root, rel, &how)
			// EAGAIN: a rename raced the lookup; the kernel asks to retry.
			if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) || try > 16 {
				break
			}
		}
		switch {
		case errors.Is(err, unix.ELOOP):
			err = fmt.Errorf("%w (%w)", ErrSymlinkInPath, unix.ELOOP)
		case errors.Is(err, unix.EXDEV):
			err = fmt.Errorf("%w (%w)", ErrOutsideBrick, unix.EXDEV)
		}
		if err != nil {
			return &fs.PathError{Op: "open", Path: abs, Err: err}
		}
		return nil
	}); err != nil {
		return -1, 0, err
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return -1, 0, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	if !isReg(st.Mode) {
		return -1, 0, wrongType("open", abs, st.Mode)
	}
	fd, err := unix.Open(procFD(pfd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, 0, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	return fd, st.Size, nil
}

// HashReaderAt is HashFile of the size bytes r holds: the same name for
// the same content, wherever it is read from (a copy over the network).
// Holes are skipped unread only where r is an *os.File; elsewhere zeros
// are read, and named alike.
func HashReaderAt(r io.ReaderAt, size int64) (string, error) { return hashContent(r, size) }

func hashContent(f io.ReaderAt, size int64) (string, error) {
	osf, seekable := f.(*os.File)
	h := blake3.New()
	// A file shorter than a block holds no whole zero block, so never
	// goes sparse (goSparse reads whole blocks): its buffer is its size,
	// which spares the many small files of a tree 64 KiB each.
	buf := make([]byte, max(min(hashBlock, size), 1))
	sparse := false
	var zeros int64 // zero blocks not yet written to the stream
	var num [8]byte
	flushZeros := func() {
		if zeros > 0 {
			binary.BigEndian.PutUint64(num[:], uint64(zeros))
			h.Write([]byte{'Z'})
			h.Write(num[:])
			zeros = 0
		}
	}
	// goSparse restarts the hash as a stream at the first zero block, at
	// off: what came before was all data blocks, read again.
	goSparse := func(off int64) error {
		h.Reset()
		sparse = true
		for o := int64(0); o < off; o += hashBlock {
			if _, err := f.ReadAt(buf, o); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			h.Write([]byte{'D'})
			h.Write(buf)
		}
		return nil
	}
	var dataEnd int64 // [off, dataEnd) is known to be data
	for off := int64(0); off < size; {
		n := min(hashBlock, size-off)
		if off >= dataEnd && (!seekable || size < hashBlock) {
			// A file shorter than a block has no whole block of hole
			// to skip: no need to ask where its data is.
			dataEnd = size
		}
		if off >= dataEnd {
			data, err := SeekData(osf, off)
			if err != nil {
				return "", err
			}
			if data < 0 || data > size {
				data = size
			}
			if whole := (data - off) / hashBlock; whole > 0 {
				// Whole blocks of hole: zeros, unread.
				if !sparse {
					if err := goSparse(off); err != nil {
						return "", err
					}
				}
				zeros += whole
				off += whole * hashBlock
				continue
			}
			if dataEnd, err = HoleAfter(osf, off, size); err != nil {
				return "", err
			}
			dataEnd = max(dataEnd, off+n)
		}
		if _, err := f.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		if n == hashBlock && AllZero(buf) {
			if !sparse {
				if err := goSparse(off); err != nil {
					return "", err
				}
			}
			zeros++
		} else {
			if sparse {
				flushZeros()
				h.Write([]byte{'D'})
			}
			h.Write(buf[:n])
		}
		off += n
	}
	if !sparse {
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	flushZeros()
	binary.BigEndian.PutUint64(num[:], uint64(size))
	h.Write(num[:])
	return SparsePrefix + hex.EncodeToString(h.Sum(nil)), nil
}

// ShortHash abbreviates a HashFile name for a message: its first 16 hex
// digits (after SparsePrefix when it has one). Anything else, such as an
// error in place of a hash, is returned whole.
func ShortHash(name string) string {
	prefix, sum := "", name
	if rest, ok := strings.CutPrefix(name, SparsePrefix); ok {
		prefix, sum = SparsePrefix, rest
	}
	if len(sum) <= 16 {
		return name
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return name
	}
	return prefix + sum[:16]
}

// AllZero reports whether b holds only zero bytes.
func AllZero(b []byte) bool {
	var zero [4096]byte
	for len(b) > 0 {
		n := min(len(b), len(zero))
		if !bytes.Equal(b[:n], zero[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
