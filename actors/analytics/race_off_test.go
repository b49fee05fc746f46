//go:build !race

package analytics

// raceBuild: the race detector is on; heap figures are not a normal
// build's.
const raceBuild = false
