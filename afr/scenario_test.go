package afr

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txt")

// scenario is one case of a testdata file:
//
//	<command> <name> [key=value ...]
//	<brick> [down] [missing] [file|dir|symlink|special] [size=N] [mode=0755]
//	        [uid=N] [gid=N] [mtime=S[.NS]] [ctime=S[.NS]] [gfid=N]
//	        [client-J=0x<24 hex>] [dirty=0x<24 hex>] [user.k=v] [trusted.k=v]
//	        [unlisted] [arbiter]
//	----
//	<expected output, up to a blank line>
type scenario struct {
	cmd, name string
	args      map[string]string
	bricks    []string
	replies   []Reply
	want      []string
	pos       string
}

func parseScenarios(t *testing.T, path string) (cases []*scenario, lines []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var c *scenario
	inWant := false
	for i, l := range lines {
		switch {
		case inWant && l == "":
			inWant, c = false, nil
		case inWant:
			c.want = append(c.want, l)
		case l == "" || strings.HasPrefix(l, "#"):
		case c == nil:
			f := strings.Fields(l)
			c = &scenario{cmd: f[0], name: f[1], args: map[string]string{}, pos: fmt.Sprintf("%s:%d", path, i+1)}
			for _, kv := range f[2:] {
				k, v, _ := strings.Cut(kv, "=")
				c.args[k] = v
			}
			cases = append(cases, c)
		case l == "----":
			inWant = true
			c.replies = buildReplies(t, c)
		default:
			c.bricks = append(c.bricks, l)
		}
	}
	return cases, lines
}

func buildReplies(t *testing.T, c *scenario) []Reply {
	n := len(c.bricks)
	replies := make([]Reply, n)
	for i, line := range c.bricks {
		f := strings.Fields(line)
		r := Reply{Name: f[0], Answered: true, Exists: true, Type: TypeRegular, Mode: 0644,
			GFID: GFID{15: 1}, Pending: make([]Changelog, n), Xattrs: map[string]string{}}
		for _, tok := range f[1:] {
			k, v, _ := strings.Cut(tok, "=")
			switch {
			case k == "down":
				r.Answered = false
			case k == "missing":
				r.Exists = false
			case k == "unlisted":
				r.XattrsUnlisted = true
			case k == "arbiter":
				r.Arbiter = true
			case k == "file" || k == "dir" || k == "symlink" || k == "special":
				r.Type = map[string]FileType{"file": TypeRegular, "dir": TypeDirectory, "symlink": TypeSymlink, "special": TypeOther}[k]
			case k == "size":
				r.Size = atoi(t, c, v)
			case k == "mode":
				m, err := strconv.ParseUint(v, 8, 32)
				check(t, c, err)
				r.Mode = uint32(m)
			case k == "uid":
				r.UID = uint32(atoi(t, c, v))
			case k == "gid":
				r.GID = uint32(atoi(t, c, v))
			case k == "gfid":
				r.GFID = GFID{15: byte(atoi(t, c, v))}
			case k == "mtime" || k == "ctime":
				s, ns, _ := strings.Cut(v, ".")
				ts := Timespec{Sec: atoi(t, c, s)}
				if ns != "" {
					ts.Nsec = atoi(t, c, ns)
				}
				if k == "mtime" {
					r.Mtime = ts
				} else {
					r.Ctime = ts
				}
			case k == "dirty":
				r.Dirty = changelog(t, c, v)
			case strings.HasPrefix(k, "client-"):
				j := int(atoi(t, c, strings.TrimPrefix(k, "client-")))
				r.Pending[j] = changelog(t, c, v)
			case strings.Contains(k, "."):
				r.Xattrs[k] = v
			default:
				t.Fatalf("%s: unknown brick token %q", c.pos, tok)
			}
		}
		replies[i] = r
	}
	return replies
}

func changelog(t *testing.T, c *scenario, v string) Changelog {
	b, err := hex.DecodeString(strings.TrimPrefix(v, "0x"))
	check(t, c, err)
	if len(b) != 12 {
		t.Fatalf("%s: changelog %s is not 12 bytes", c.pos, v)
	}
	var cl Changelog
	for k := range cl {
		cl[k] = int32(uint32(b[4*k])<<24 | uint32(b[4*k+1])<<16 | uint32(b[4*k+2])<<8 | uint32(b[4*k+3]))
	}
	return cl
}

func atoi(t *testing.T, c *scenario, s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	check(t, c, err)
	return v
}

func check(t *testing.T, c *scenario, err error) {
	if err != nil {
		t.Fatalf("%s: %v", c.pos, err)
	}
}

// run executes one case and returns what a user would see.
func (c *scenario) run(t *testing.T) string {
	brick := func() int {
		for i, r := range c.replies {
			if r.Name == c.args["brick"] {
				return i
			}
		}
		return -1
	}
	quorum := 0
	if q, ok := c.args["quorum"]; ok {
		quorum = int(atoi(t, c, q))
	}
	policy := PolicyNone
	if p, ok := c.args["policy"]; ok {
		var err error
		policy, err = ParsePolicy(p)
		check(t, c, err)
	}
	result := func(src int, err error) string {
		if err != nil {
			return "error: " + err.Error()
		}
		return "source " + c.replies[src].Name
	}
	switch c.cmd {
	case "decide":
		v := Decide(c.replies, Options{QuorumCount: quorum, FavoriteChild: policy, MetadataSplitBrainForcedHeal: c.args["forced"] == "on"})
		return v.String() + "\nheal info: " + HealInfo(c.replies, quorum).String()
	case "healinfo":
		return HealInfo(c.replies, quorum).String()
	case "favorite":
		return result(FavoriteChild(c.replies, policy))
	case "resolve", "resolve-gfid":
		op, err := ParseHealOp(c.args["op"])
		if c.cmd == "resolve-gfid" && c.args["op"] == "" {
			op, err = OpNone, nil
		}
		check(t, c, err)
		if c.cmd == "resolve-gfid" {
			return result(ResolveGFIDSplitBrain(c.replies, op, brick(), policy))
		}
		kind := map[string]Kind{"data": Data, "metadata": Metadata}[c.args["kind"]]
		return result(ResolveSplitBrain(c.replies, kind, op, brick(), quorum))
	}
	t.Fatalf("%s: unknown command %q", c.pos, c.cmd)
	return ""
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, path := range files {
		cases, lines := parseScenarios(t, path)
		var out []string
		next := 0
		for _, c := range cases {
			got := c.run(t)
			t.Run(filepath.Base(path)+"/"+c.name, func(t *testing.T) {
				if want := strings.Join(c.want, "\n"); got != want && !*update {
					t.Errorf("%s\n--- got\n%s\n--- want\n%s", c.pos, got, want)
				}
			})
			if *update {
				// Copy everything up to and including this case's "----",
				// then the new output, skipping the old one.
				for ; next < len(lines) && lines[next] != "----" || next < headerLine(c); next++ {
					out = append(out, lines[next])
				}
				out = append(out, "----", got)
				next++
				for next < len(lines) && lines[next] != "" {
					next++
				}
			}
		}
		if *update {
			out = append(out, lines[next:]...)
			if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func headerLine(c *scenario) int {
	_, l, _ := strings.Cut(c.pos, ":")
	n, _ := strconv.Atoi(l)
	return n - 1
}
