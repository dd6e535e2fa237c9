package cib

// Walk calls fn for every resource (parents before children), with its
// parent (nil at top level).
func (c *CIB) Walk(fn func(r, parent *Resource)) {
	var walk func(list []Resource, parent *Resource)
	walk = func(list []Resource, parent *Resource) {
		for i := range list {
			r := &list[i]
			fn(r, parent)
			walk(r.Children, r)
		}
	}
	walk(c.Config.Resources.Items, nil)
}

// FindResource returns the resource (at any depth) with the given id.
func (c *CIB) FindResource(id string) *Resource {
	var found *Resource
	c.Walk(func(r, _ *Resource) {
		if found == nil && r.ID == id {
			found = r
		}
	})
	return found
}

// FindNodeState returns the status entry for the node with that id or uname.
func (c *CIB) FindNodeState(idOrName string) *NodeState {
	for i := range c.Status.Nodes {
		n := &c.Status.Nodes[i]
		if n.ID == idOrName || n.Uname == idOrName {
			return n
		}
	}
	return nil
}

// Lookup returns the value of name in the first set that defines it
// (sets with rules are skipped; rules are the scheduler's business).
func Lookup(sets []NVSet, name string) (string, bool) {
	for _, s := range sets {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			if p.Name == name {
				return p.Value, true
			}
		}
	}
	return "", false
}

// propertyAliases maps Pacemaker 3's fencing-* names to the older stonith-*
// names; both are accepted wherever a property is read.
var propertyAliases = map[string]string{
	"fencing-enabled":          "stonith-enabled",
	"fencing-action":           "stonith-action",
	"fencing-timeout":          "stonith-timeout",
	"fencing-watchdog-timeout": "stonith-watchdog-timeout",
	"fencing-max-attempts":     "stonith-max-attempts",
	"priority-fencing-delay":   "priority-fencing-delay",
}

// CanonicalProperty returns the Pacemaker 3 name of a cluster property
// (stonith-enabled → fencing-enabled); other names are returned unchanged.
func CanonicalProperty(name string) string {
	for newName, old := range propertyAliases {
		if name == old {
			return newName
		}
	}
	return name
}

// Property returns a cluster property from crm_config, accepting both the
// fencing-* and the older stonith-* spelling of a name.
func (c *CIB) Property(name string) (string, bool) {
	want := CanonicalProperty(name)
	for _, s := range c.Config.CRMConfig {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			if CanonicalProperty(p.Name) == want {
				return p.Value, true
			}
		}
	}
	return "", false
}
