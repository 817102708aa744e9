//go:build !linux

package ignite

// setParentDeathSignal is a no-op outside Linux.
func setParentDeathSignal(managed bool) {}
