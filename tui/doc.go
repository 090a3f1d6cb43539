// Package tui is afrkit's interactive terminal UI (bubbletea v1): the
// volumes of a host with their backlogs, a volume's entries as heal info
// lists them, and an entry's copies side by side with AFR's verdict and
// the commands that would resolve it (heal.Explain). It reads the bricks as
// heal info does and changes nothing; choosing a source and healing from
// the screen come next.
package tui
