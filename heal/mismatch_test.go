package heal_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// A name that is a file on one brick and a directory on the other is a type
// mismatch: GlusterFS skips it (afr_selfheal_detect_gfid_and_type_mismatch)
// and no policy or command resolves it. Neither a policy heal nor a
// split-brain command may touch either copy, and both say why.
func TestTypeMismatchIsLeftUntouched(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	if err := v.WriteFile("/t", []byte("a file on b0\n"), 1); err != nil {
		t.Fatal(err)
	}
	if err := v.Mkdir("/t", 0); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/t/inside", []byte("in b1's directory\n"), 0); err != nil {
		t.Fatal(err)
	}
	v.V.Options = map[string]string{"cluster.favorite-child-policy": "mtime"}
	before := []map[string]string{tree(t, v.Bricks[0]), tree(t, v.Bricks[1])}
	unchanged := func(after string) {
		t.Helper()
		for i := range before {
			if got := tree(t, v.Bricks[i]); fmt.Sprint(got) != fmt.Sprint(before[i]) {
				t.Errorf("b%d changed after %s", i, after)
			}
		}
	}

	res := runHeal(t, v, false, heal.EngineOptions{})
	var reasons []string
	for _, l := range res.Left {
		reasons = append(reasons, l.Path+": "+l.Reason)
	}
	if want := "/t: type mismatch (file on b0, directory on b1)"; !strings.Contains(strings.Join(reasons, "\n"), want) {
		t.Errorf("left = %q, want a reason containing %q", reasons, want)
	}
	if len(res.Resolved) != 0 {
		t.Errorf("a policy resolved a type mismatch: %+v", res.Resolved)
	}
	unchanged("a heal with favorite-child-policy mtime")

	out, err := newEngine(t, v, heal.EngineOptions{}).SplitBrain(context.Background(), heal.Target{Path: "/t"}, heal.SplitBrainOp{Op: afr.OpLatestMtime})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.Lines, "\n"); out.Healed || !strings.HasSuffix(got, "Lookup failed on /t:Input/output error.\nType mismatch for file /t: file on b0, directory on b1. No split-brain command resolves it: move the wrong copy aside by hand, with its .glusterfs handle.") {
		t.Errorf("latest-mtime on a type mismatch said (healed %v):\n%s", out.Healed, got)
	}
	unchanged("split-brain latest-mtime /t")
}
