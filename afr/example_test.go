package afr_test

import (
	"fmt"

	"github.com/afrkit/afrkit/afr"
)

// b1 and b2 saw a write that b3 missed, then b3 was given blame of its own:
// every brick is accused, but with replica 3 (quorum-type auto, count 2)
// b1 and b2 are accused only once and are trusted.
func ExampleDecide() {
	blame := func(targets ...int) []afr.Changelog {
		p := make([]afr.Changelog, 3)
		for _, j := range targets {
			p[j][afr.Data] = 1
		}
		return p
	}
	replies := []afr.Reply{
		{Name: "b1", Answered: true, Exists: true, Type: afr.TypeRegular, Size: 13, Pending: blame(2)},
		{Name: "b2", Answered: true, Exists: true, Type: afr.TypeRegular, Size: 13, Pending: blame(2)},
		{Name: "b3", Answered: true, Exists: true, Type: afr.TypeRegular, Size: 6, Pending: blame(0, 1)},
	}
	v := afr.Decide(replies, afr.Options{QuorumCount: afr.QuorumCount(3, "", 0)})
	fmt.Println(v.Reason())
	fmt.Println(afr.HealInfo(replies, afr.QuorumCount(3, "", 0)))
	// Output:
	// data: heal b1 -> b3 (b1 and b2 blame b3; b3 blames b1 and b2; every brick is accused, but b1 and b2 are accused by fewer than 2 (the quorum count), so they are trusted)
	// heal-pending
}
