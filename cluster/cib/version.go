package cib

import "fmt"

// Version is a CIB version with Pacemaker's meaning: admin_epoch is bumped
// only by an administrator, epoch on every configuration change, num_updates
// on every status change (and reset to 0 when epoch moves).
type Version struct {
	AdminEpoch int `json:"admin_epoch"`
	Epoch      int `json:"epoch"`
	NumUpdates int `json:"num_updates"`
}

// String formats the version as Pacemaker does: "admin.epoch.updates".
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.AdminEpoch, v.Epoch, v.NumUpdates)
}

// Compare returns -1, 0 or 1 as v is older than, equal to or newer than w
// (compared field by field: admin_epoch, then epoch, then num_updates).
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.AdminEpoch - w.AdminEpoch, v.Epoch - w.Epoch, v.NumUpdates - w.NumUpdates} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	return 0
}

// Version returns the CIB's version.
func (c *CIB) Version() Version {
	return Version{AdminEpoch: c.AdminEpoch, Epoch: c.Epoch, NumUpdates: c.NumUpdates}
}

// BumpConfig records a configuration change: epoch+1, num_updates=0.
func (c *CIB) BumpConfig() {
	c.Epoch++
	c.NumUpdates = 0
}

// BumpStatus records a status-only change: num_updates+1.
func (c *CIB) BumpStatus() { c.NumUpdates++ }
