package vmtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestARPWatch: the watcher on the test network's bridge sees who
// answers for an address, and a move of the address from one interface
// to another as one clean hand-over. Two veth pairs stand in for the VMs'
// taps, their far ends each in its own namespace (one namespace holding
// both would answer on both: Linux answers ARP for any of its addresses
// on any interface, which the check rightly calls two holders).
func TestARPWatch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := fmt.Sprintf("ovsha-arpw-%d", os.Getpid())
	nt, err := NewNet(ctx, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.Close(context.Background())
	const vip = "10.99.0.100"
	macs := map[string]string{"va": macA, "vb": macB}
	for _, v := range []string{"va", "vb"} {
		peer := name + "-" + v
		if err := ipCmd(ctx, "netns", "add", peer); err != nil {
			t.Fatal(err)
		}
		defer ipCmd(context.Background(), "netns", "del", peer)
		for _, s := range [][]string{
			{"-n", name, "link", "add", v, "type", "veth", "peer", "name", "eth0", "netns", peer},
			{"-n", name, "link", "set", v, "master", bridgeName},
			{"-n", name, "link", "set", v, "up"},
			{"-n", peer, "link", "set", "eth0", "address", macs[v]},
			{"-n", peer, "link", "set", "eth0", "up"},
		} {
			if err := ipCmd(ctx, s...); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ipCmd(ctx, "-n", name+"-va", "addr", "add", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	w, err := nt.WatchARP(ctx, vip, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	isMAC := func(m string) func(ARPReply) bool { return func(r ARPReply) bool { return r.MAC == m } }
	start := time.Now()
	if _, err := w.Wait(ctx, start, isMAC(macA)); err != nil {
		t.Fatal(err)
	}
	moved := time.Now()
	if err := ipCmd(ctx, "-n", name+"-va", "addr", "del", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := ipCmd(ctx, "-n", name+"-vb", "addr", "add", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	first, err := w.Wait(ctx, moved, isMAC(macB))
	if err != nil {
		t.Fatal(err)
	}
	// a few more answers from the new holder, so that a late one from
	// the old holder would show as A..B..A
	for range 5 {
		if first, err = w.Wait(ctx, first.At, nil); err != nil {
			t.Fatal(err)
		}
	}
	end := first.At.Add(time.Nanosecond)
	v, err := CheckHandOver(w.Replies(), start, end, macA, macB)
	if err != nil {
		t.Fatal(err)
	}
	sent, serr := w.Stats()
	t.Logf("%d probes (last send error: %v); %s; hand-over gap %v", sent, serr,
		FormatRuns(v.Runs, start), v.NewFirst.Sub(v.OldLast))
	if err := CheckSteady(w.Replies(), start, moved, macA); err != nil {
		t.Errorf("before the move: %v", err)
	}
}
