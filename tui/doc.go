// Package tui is afrkit's interactive terminal UI (bubbletea v1): every
// brick's copy of an entry side by side, the source chosen by hand, and
// split-brains and stale temp files healed from there. It comes in a later
// release; `afrkit tui` says so.
package tui
