package cib

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrPatchVersion is returned when a patch is applied to a CIB whose
// version is not the one the patch was made from.
var ErrPatchVersion = errors.New("cib version does not match the patch source")

// Change is one edit of a Patch. Path addresses an element from the root
// ("/cib/configuration/resources/primitive[@id='vip']", or "name[N]",
// 1-based among same-named siblings, for elements without an id).
type Change struct {
	Op       string            `json:"op"` // create, delete, modify, move
	Path     string            `json:"path"`
	Position int               `json:"position,omitempty"` // create/move: index among the parent's children
	XML      string            `json:"xml,omitempty"`      // create: the new element
	Set      map[string]string `json:"set,omitempty"`      // modify: attributes set
	Unset    []string          `json:"unset,omitempty"`    // modify: attributes removed
	Order    []string          `json:"order,omitempty"`    // modify: attribute order afterwards
}

// Patch turns one CIB version into another.
type Patch struct {
	From    Version  `json:"from"`
	To      Version  `json:"to"`
	Changes []Change `json:"changes"`
}

var versionAttrs = map[string]bool{"admin_epoch": true, "epoch": true, "num_updates": true}

// Diff computes the patch that turns a into b.
func Diff(a, b *CIB) (*Patch, error) {
	ta, err := a.tree()
	if err != nil {
		return nil, err
	}
	tb, err := b.tree()
	if err != nil {
		return nil, err
	}
	p := &Patch{From: a.Version(), To: b.Version()}
	diffNode(ta, tb, "/"+ta.Name, &p.Changes)
	return p, nil
}

func (c *CIB) tree() (*xnode, error) {
	data, err := c.MarshalXMLBytes()
	if err != nil {
		return nil, err
	}
	return parseTree(data)
}

// childKeys gives each child its path segment.
func childKeys(n *xnode) []string {
	keys := make([]string, len(n.Children))
	count := map[string]int{}
	for i, ch := range n.Children {
		if id, ok := ch.attr("id"); ok {
			keys[i] = fmt.Sprintf("%s[@id='%s']", ch.Name, id)
			continue
		}
		count[ch.Name]++
		keys[i] = fmt.Sprintf("%s[%d]", ch.Name, count[ch.Name])
	}
	return keys
}

func diffNode(a, b *xnode, path string, out *[]Change) {
	set := map[string]string{}
	var unset []string
	for _, attr := range b.Attrs {
		if path == "/cib" && versionAttrs[attr.Name.Local] {
			continue
		}
		if v, ok := a.attr(attr.Name.Local); !ok || v != attr.Value {
			set[attr.Name.Local] = attr.Value
		}
	}
	for _, attr := range a.Attrs {
		if path == "/cib" && versionAttrs[attr.Name.Local] {
			continue
		}
		if _, ok := b.attr(attr.Name.Local); !ok {
			unset = append(unset, attr.Name.Local)
		}
	}
	var order []string
	for _, attr := range b.Attrs {
		order = append(order, attr.Name.Local)
	}
	sameOrder := len(a.Attrs) == len(b.Attrs)
	for i := 0; sameOrder && i < len(a.Attrs); i++ {
		sameOrder = a.Attrs[i].Name.Local == b.Attrs[i].Name.Local
	}
	if len(set) > 0 || len(unset) > 0 || !sameOrder {
		*out = append(*out, Change{Op: "modify", Path: path, Set: set, Unset: unset, Order: order})
	}
	ka, kb := childKeys(a), childKeys(b)
	inB := map[string]int{}
	for i, k := range kb {
		inB[k] = i
	}
	inA := map[string]int{}
	for i, k := range ka {
		inA[k] = i
	}
	for i := len(ka) - 1; i >= 0; i-- { // deletions, last first
		if _, ok := inB[ka[i]]; !ok {
			*out = append(*out, Change{Op: "delete", Path: path + "/" + ka[i]})
		}
	}
	// Order of the surviving children, then creations and moves.
	var kept []string
	for _, k := range ka {
		if _, ok := inB[k]; ok {
			kept = append(kept, k)
		}
	}
	for i, k := range kb {
		if _, ok := inA[k]; !ok {
			*out = append(*out, Change{Op: "create", Path: path, Position: i, XML: string(b.Children[i].marshal())})
			kept = insertAt(kept, i, k)
			continue
		}
		if pos := indexOf(kept, k); pos != i {
			*out = append(*out, Change{Op: "move", Path: path + "/" + k, Position: i})
			kept = insertAt(removeAt(kept, pos), i, k)
		}
	}
	for i, k := range kb {
		if j, ok := inA[k]; ok {
			diffNode(a.Children[j], b.Children[i], path+"/"+k, out)
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func insertAt(list []string, i int, s string) []string {
	if i > len(list) {
		i = len(list)
	}
	list = append(list, "")
	copy(list[i+1:], list[i:])
	list[i] = s
	return list
}

func removeAt(list []string, i int) []string {
	return append(list[:i], list[i+1:]...)
}

// Apply returns a new CIB: c with the patch applied. c must be at the
// patch's source version (ErrPatchVersion otherwise).
func (p *Patch) Apply(c *CIB) (*CIB, error) {
	if c.Version() != p.From {
		return nil, fmt.Errorf("applying patch %s → %s to %s: %w", p.From, p.To, c.Version(), ErrPatchVersion)
	}
	root, err := c.tree()
	if err != nil {
		return nil, err
	}
	for i, ch := range p.Changes {
		if err := applyChange(root, ch); err != nil {
			return nil, fmt.Errorf("patch change %d (%s %s): %w", i, ch.Op, ch.Path, err)
		}
	}
	root.setAttr("admin_epoch", strconv.Itoa(p.To.AdminEpoch))
	root.setAttr("epoch", strconv.Itoa(p.To.Epoch))
	root.setAttr("num_updates", strconv.Itoa(p.To.NumUpdates))
	return Parse(root.marshal())
}

// find walks a path; it returns the element, its parent and index.
func find(root *xnode, path string) (n, parent *xnode, idx int, err error) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) == 0 || segs[0] != root.Name {
		return nil, nil, 0, fmt.Errorf("path does not start at <%s>", root.Name)
	}
	n, idx = root, -1
	for _, seg := range segs[1:] {
		keys := childKeys(n)
		i := indexOf(keys, seg)
		if i < 0 {
			return nil, nil, 0, fmt.Errorf("no element %s", seg)
		}
		parent, n, idx = n, n.Children[i], i
	}
	return n, parent, idx, nil
}

func applyChange(root *xnode, ch Change) error {
	n, parent, idx, err := find(root, ch.Path)
	if err != nil {
		return err
	}
	switch ch.Op {
	case "modify":
		for k, v := range ch.Set {
			n.setAttr(k, v)
		}
		for _, k := range ch.Unset {
			n.delAttr(k)
		}
		if len(ch.Order) > 0 {
			rank := map[string]int{}
			for i, k := range ch.Order {
				rank[k] = i
			}
			sort.SliceStable(n.Attrs, func(i, j int) bool {
				ri, oki := rank[n.Attrs[i].Name.Local]
				rj, okj := rank[n.Attrs[j].Name.Local]
				if oki != okj {
					return oki
				}
				return ri < rj
			})
		}
	case "delete":
		if parent == nil {
			return fmt.Errorf("cannot delete the root")
		}
		parent.Children = append(parent.Children[:idx], parent.Children[idx+1:]...)
	case "create":
		el, err := parseTree([]byte(ch.XML))
		if err != nil {
			return err
		}
		pos := min(max(ch.Position, 0), len(n.Children))
		n.Children = append(n.Children, nil)
		copy(n.Children[pos+1:], n.Children[pos:])
		n.Children[pos] = el
	case "move":
		if parent == nil {
			return fmt.Errorf("cannot move the root")
		}
		parent.Children = append(parent.Children[:idx], parent.Children[idx+1:]...)
		pos := min(max(ch.Position, 0), len(parent.Children))
		parent.Children = append(parent.Children, nil)
		copy(parent.Children[pos+1:], parent.Children[pos:])
		parent.Children[pos] = n
	default:
		return fmt.Errorf("unknown operation %q", ch.Op)
	}
	return nil
}
