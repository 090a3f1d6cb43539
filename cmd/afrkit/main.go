// Command afrkit is the self-healing and split-brain repair toolkit for
// replicated file storage in GlusterFS's AFR format.
package main

import "os"

func main() {
	os.Exit(int(Main(os.Args[1:], SystemIO())))
}
