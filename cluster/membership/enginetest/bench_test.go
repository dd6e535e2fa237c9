package enginetest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBenchTable runs the engine benchmark suite over real UDP between node
// processes in namespaces (AES-GCM on, default timers) and prints a table
// of ovsha's figures next to Corosync 3.1.7's (knet, aes256/sha256, CPG,
// same kind of machine). It reports figures and never asserts speed; it
// fails only when the cluster misbehaves (no ring, inconsistent order).
//
//	go test -v -count=1 -timeout 30m ./cluster/membership/enginetest -run TestBenchTable -bench-table
//
// With OVSHA_SOAK=1 it adds the false-membership-change runs: 10 minutes
// idle (OVSHA_SOAK_IDLE overrides, e.g. 2m) and 3 minutes under 10% random
// packet loss (OVSHA_SOAK_LOSS).
func TestBenchTable(t *testing.T) {
	if !*benchTable {
		t.Skip("benchmark suite: run with -bench-table (and -v to see the table)")
	}
	needRoot(t)
	tb := &table{}
	defer func() { t.Log("\n" + tb.String()) }()

	t.Run("idle3", func(t *testing.T) { benchIdle(t, tb) })
	t.Run("failover3", func(t *testing.T) { benchFailover(t, tb, 10) })
	t.Run("latency3", func(t *testing.T) { benchLatency(t, tb, 3, 500, 2500) })
	t.Run("latency3-idle", func(t *testing.T) { benchLatency(t, tb, 3, 5, 50) })
	t.Run("throughput3", func(t *testing.T) { benchThroughput(t, tb, 3) })
	t.Run("throughput5", func(t *testing.T) { benchThroughput(t, tb, 5) })
	if os.Getenv(envSoak) == "" {
		tb.add("false membership changes", "", "", "", "skipped: set OVSHA_SOAK=1")
		return
	}
	t.Run("soakIdle", func(t *testing.T) { benchSoak(t, tb, envDuration(t, "OVSHA_SOAK_IDLE", 10*time.Minute), 0) })
	t.Run("soakLoss", func(t *testing.T) { benchSoak(t, tb, envDuration(t, "OVSHA_SOAK_LOSS", 3*time.Minute), 10) })
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: want a Go duration such as 2m: %v", name, v, err)
	}
	return d
}

// table collects result rows: metric, ovsha, corosync, ratio, note.
type table struct{ rows [][5]string }

func (tb *table) add(metric, ovsha, ref, ratio, note string) {
	tb.rows = append(tb.rows, [5]string{metric, ovsha, ref, ratio, note})
}

// addRef adds a row with a reference figure and the ratio ovsha/reference.
func (tb *table) addRef(metric string, v float64, ref float64, unit, note string) {
	rs, ratio := "-", "-"
	if ref > 0 {
		rs = fmtNum(ref) + " " + unit
		ratio = fmt.Sprintf("%.2f", v/ref)
	}
	tb.add(metric, fmtNum(v)+" "+unit, rs, ratio, note)
}

func fmtNum(v float64) string {
	switch {
	case v >= 1000:
		s := fmt.Sprintf("%.0f", v)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func (tb *table) String() string {
	head := [5]string{"metric", "ovsha", "corosync 3.1.7", "ovsha/corosync", "note"}
	w := [5]int{}
	for _, r := range append([][5]string{head}, tb.rows...) {
		for i, c := range r {
			w[i] = max(w[i], len(c))
		}
	}
	var b strings.Builder
	line := func(r [5]string) {
		b.WriteString("|")
		for i, c := range r {
			fmt.Fprintf(&b, " %-*s |", w[i], c)
		}
		b.WriteString("\n")
	}
	line(head)
	b.WriteString("|")
	for i := range w {
		b.WriteString(strings.Repeat("-", w[i]+2) + "|")
	}
	b.WriteString("\n")
	for _, r := range tb.rows {
		line(r)
	}
	return b.String()
}

// formed starts an n-node cluster and waits for its ring.
func formed(t *testing.T, n int) *cluster {
	t.Helper()
	c := newCluster(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.waitRing(ctx, allIDs(n), allIDs(n), time.Time{}); err != nil {
		t.Fatalf("ring of %d did not form: %v", n, err)
	}
	return c
}

// wait lets d pass (a measurement window, not a wait for an event).
func wait(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cpuOver measures each node's CPU share over d while fn (if any) runs.
func cpuOver(ctx context.Context, c *cluster, d time.Duration) ([]float64, error) {
	before := make([]time.Duration, len(c.nodes))
	for i, p := range c.nodes {
		v, err := procCPU(p.pid())
		if err != nil {
			return nil, err
		}
		before[i] = v
	}
	t0 := time.Now()
	if err := wait(ctx, d); err != nil {
		return nil, err
	}
	el := time.Since(t0)
	out := make([]float64, len(c.nodes))
	for i, p := range c.nodes {
		v, err := procCPU(p.pid())
		if err != nil {
			return nil, err
		}
		out[i] = 100 * float64(v-before[i]) / float64(el)
	}
	return out, nil
}

func meanMax(v []float64) (mean, mx float64) {
	for _, x := range v {
		mean += x
		mx = max(mx, x)
	}
	return mean / float64(len(v)), mx
}

// benchIdle: CPU and RSS of an idle 3-node ring, then CPU at 10, 100 and
// 1,000 msgs/s from one sender.
func benchIdle(t *testing.T, tb *table) {
	c := formed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cpu, err := cpuOver(ctx, c, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mean, mx := meanMax(cpu)
	tb.addRef("idle CPU per node, 3 nodes (15 s)", mean, 0.4, "%", fmt.Sprintf("max node %.2f%%", mx))
	var rss []float64
	for _, p := range c.nodes {
		v, err := procRSS(p.pid())
		if err != nil {
			t.Fatal(err)
		}
		rss = append(rss, float64(v)/(1<<20))
	}
	mean, mx = meanMax(rss)
	tb.addRef("idle RSS per node", mean, 78, "MiB", fmt.Sprintf("max node %.1f MiB", mx))
	for _, rate := range []float64{10, 100, 1000} {
		const d = 8 * time.Second
		done := make(chan error, 1)
		go func() {
			_, err := c.sendAll(ctx, []uint32{1}, request{DurationMs: int((d + time.Second) / time.Millisecond), Size: 64, Rate: rate})
			done <- err
		}()
		cpu, err := cpuOver(ctx, c, d)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("sending at %v msgs/s: %v", rate, err)
		}
		tb.add(fmt.Sprintf("CPU at %v msgs/s (64 B, 1 sender)", rate), fmt.Sprintf("%.2f%% / %.2f%% / %.2f%%", cpu[0], cpu[1], cpu[2]), "-", "-", "sender / node 2 / node 3")
	}
	if _, err := c.waitSeqs(ctx, allIDs(3), c.sentSeqs()); err != nil {
		t.Fatal(err)
	}
}

// benchFailover: time from SIGSTOP of one node to the new ring on the
// survivors, reps times, rotating the victim; the node is thawed and
// merged back between repetitions.
func benchFailover(t *testing.T, tb *table, reps int) {
	c := formed(t, 3)
	all := allIDs(3)
	var ds []time.Duration
	var merges []time.Duration
	for r := range reps {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		victim := 3 - r%3
		var survivors []uint32
		for _, id := range all {
			if id != uint32(victim) {
				survivors = append(survivors, id)
			}
		}
		stopped, err := c.node(victim).freeze()
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		at, err := c.waitRing(ctx, survivors, survivors, stopped)
		if err != nil {
			cancel()
			t.Fatalf("repetition %d, freeze of node %d: %v", r, victim, err)
		}
		ds = append(ds, at.Sub(stopped))
		thawed := time.Now()
		if err := c.node(victim).thaw(); err != nil {
			cancel()
			t.Fatal(err)
		}
		at, err = c.waitRing(ctx, all, all, thawed)
		cancel()
		if err != nil {
			t.Fatalf("repetition %d, merge after thawing node %d: %v", r, victim, err)
		}
		merges = append(merges, at.Sub(thawed))
	}
	slices.Sort(ds)
	slices.Sort(merges)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	t.Logf("freeze -> new ring: %v", ds)
	t.Logf("thaw -> merged ring: %v", merges)
	tb.add(fmt.Sprintf("freeze -> new ring, p50 / max (%d reps)", reps), fmt.Sprintf("%.0f / %.0f ms", ms(ds[len(ds)/2]), ms(ds[len(ds)-1])), "-", "-", "target < 2 x token (default token 150 ms)")
	tb.add(fmt.Sprintf("thaw -> merged ring, p50 / max (%d reps)", reps), fmt.Sprintf("%.0f / %.0f ms", ms(merges[len(merges)/2]), ms(merges[len(merges)-1])), "-", "-", "")
}

// benchLatency: agreed delivery latency at rate msgs/s from one sender
// (at 5 msgs/s the ring is idle between messages: the token is held).
func benchLatency(t *testing.T, tb *table, n, rate, count int) {
	c := formed(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range allIDs(n) {
		if _, err := c.node(int(id)).call(ctx, request{Op: opLatency, Reset: true}); err != nil {
			t.Fatal(err)
		}
	}
	before := map[uint32]*nodeStatus{}
	for _, id := range allIDs(n) {
		st, err := c.status(ctx, int(id))
		if err != nil {
			t.Fatal(err)
		}
		before[id] = st
	}
	if _, err := c.sendAll(ctx, []uint32{1}, request{Count: count, Size: 64, Rate: float64(rate)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.waitSeqs(ctx, allIDs(n), c.sentSeqs()); err != nil {
		t.Fatal(err)
	}
	var p50, p99 float64
	var notes []string
	for _, id := range allIDs(n) {
		rep, err := c.node(int(id)).call(ctx, request{Op: opLatency})
		if err != nil {
			t.Fatal(err)
		}
		l := rep.Latency
		st, err := c.status(ctx, int(id))
		if err != nil {
			t.Fatal(err)
		}
		b := before[id]
		t.Logf("node %d latency %+v; during the run: %d token retransmits, %d frame retransmits, %d token losses, %d stalls",
			id, *l, st.TokensRetrans-b.TokensRetrans, st.FramesRetrans-b.FramesRetrans, st.TokenLosses-b.TokenLosses, st.Stalls-b.Stalls)
		notes = append(notes, fmt.Sprintf("n%d %.2f/%.2f tokrtx %d", id, l.P50, l.P99, st.TokensRetrans-b.TokensRetrans))
		p50, p99 = max(p50, l.P50), max(p99, l.P99)
	}
	note := "worst receiver; " + strings.Join(notes, " ")
	if rate != 500 {
		tb.add(fmt.Sprintf("latency p50 / p99 at %d msgs/s (idle ring), %d nodes", rate, n), fmt.Sprintf("%.2f / %.2f ms", p50, p99), "", "", "worst receiver")
		return
	}
	tb.addRef(fmt.Sprintf("latency p50 at 500 msgs/s, %d nodes", n), p50, 0.36, "ms", note)
	tb.addRef(fmt.Sprintf("latency p99 at 500 msgs/s, %d nodes", n), p99, 2.1, "ms", "worst receiver")
}

// Reference figures (Corosync 3.1.7, knet, aes256/sha256, CPG).
type tpRef struct{ msgs, mbs float64 }

var corosyncTP = map[string]tpRef{
	"3/1/64":    {msgs: 103_500},
	"3/1/1024":  {msgs: 37_100, mbs: 38},
	"3/1/16384": {mbs: 50},
	"3/a/64":    {msgs: 91_000},
	"3/a/1024":  {mbs: 21},
	"5/1/64":    {msgs: 71_700},
	"5/1/1024":  {mbs: 20.6},
}

// benchThroughput: delivered-everywhere rate for 64 B, 1 KiB and 16 KiB
// messages from one sender and from all senders, over ~3 s each.
func benchThroughput(t *testing.T, tb *table, n int) {
	c := formed(t, n)
	all := allIDs(n)
	for _, size := range []int{64, 1024, 16384} {
		for _, one := range []bool{true, false} {
			senders, who := all, "a"
			if one {
				senders, who = []uint32{1}, "1"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			msgs, mbs, err := throughput(ctx, c, senders, size, 3*time.Second)
			cancel()
			label := fmt.Sprintf("throughput %d nodes, %s, %s", n, map[bool]string{true: "1 sender", false: "all senders"}[one], sizeName(size))
			if err != nil {
				t.Errorf("%s: %v", label, err)
				tb.add(label, "FAILED", "", "", err.Error())
				return
			}
			ref := corosyncTP[fmt.Sprintf("%d/%s/%d", n, who, size)]
			tb.addRef(label+" msgs/s", msgs, ref.msgs, "msgs/s", "")
			tb.addRef(label+" MB/s", mbs, ref.mbs, "MB/s", "")
		}
	}
}

func sizeName(size int) string {
	if size >= 1024 {
		return fmt.Sprintf("%d KiB", size/1024)
	}
	return fmt.Sprintf("%d B", size)
}

// throughput has senders broadcast as fast as flow control allows for d,
// waits until every node delivered everything, checks that all delivered
// the same sequence, and returns the rate from the first send to the last
// delivery anywhere.
func throughput(ctx context.Context, c *cluster, senders []uint32, size int, d time.Duration) (msgs, mbs float64, err error) {
	window := min(4096, max(256, (8<<20)/size))
	res, err := c.sendAll(ctx, senders, request{DurationMs: int(d / time.Millisecond), Size: size, Window: window})
	if err != nil {
		return 0, 0, err
	}
	all := allIDs(len(c.nodes))
	ds, err := c.waitSeqs(ctx, all, c.sentSeqs())
	if err != nil {
		return 0, 0, err
	}
	if err := sameDigests(ds, all); err != nil {
		return 0, 0, err
	}
	var sent int
	start := int64(0)
	for _, r := range res {
		sent += r.Sent
		if start == 0 || r.StartNs < start {
			start = r.StartNs
		}
	}
	var last int64
	for _, d := range ds {
		last = max(last, d.LastNs)
	}
	sec := float64(last-start) / 1e9
	return float64(sent) / sec, float64(sent) * float64(size) / sec / 1e6, nil
}

// benchSoak counts membership changes after the initial formation over d,
// idle (lossPct 0) or under lossPct% random loss with 100 msgs/s of
// traffic, then checks that all nodes delivered the same sequence.
func benchSoak(t *testing.T, tb *table, d time.Duration, lossPct int) {
	c := formed(t, 3)
	all := allIDs(3)
	ctx, cancel := context.WithTimeout(context.Background(), d+2*time.Minute)
	defer cancel()
	base := map[uint32]*nodeStatus{}
	for _, id := range all {
		st, err := c.status(ctx, int(id))
		if err != nil {
			t.Fatal(err)
		}
		base[id] = st
	}
	if lossPct > 0 {
		for _, id := range all {
			if err := c.topo.setLoss(int(id), lossPct); err != nil {
				t.Fatal(err)
			}
		}
	}
	done := make(chan error, 1)
	if lossPct > 0 {
		go func() {
			_, err := c.sendAll(ctx, all, request{DurationMs: int(d / time.Millisecond), Size: 256, Rate: 100.0 / 3})
			done <- err
		}()
	} else {
		close(done)
	}
	if err := wait(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("traffic: %v", err)
	}
	var changes, losses []string
	total := 0
	for _, id := range all {
		st, err := c.status(ctx, int(id))
		if err != nil {
			t.Fatal(err)
		}
		k := st.Regulars - base[id].Regulars
		total = max(total, k) // one ring change is seen by every node
		changes = append(changes, fmt.Sprintf("n%d %d", id, k))
		losses = append(losses, fmt.Sprintf("n%d %d", id, st.TokenLosses-base[id].TokenLosses))
		t.Logf("node %d after %v: %+v", id, d, st)
	}
	for _, id := range all {
		if err := c.topo.setLoss(int(id), 0); err != nil {
			t.Fatal(err)
		}
	}
	what := fmt.Sprintf("false membership changes, idle %v", d)
	if lossPct > 0 {
		what = fmt.Sprintf("false membership changes, %d%% loss, 100 msgs/s, %v", lossPct, d)
		if _, err := c.sendAll(ctx, all, request{Count: 10, Size: 64}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.waitSeqs(ctx, all, c.sentSeqs()); err != nil {
			t.Fatalf("after the loss run: %v", err)
		}
	}
	tb.add(what, fmt.Sprintf("%d", total), "-", "-", "target 0 (new rings after formation, max over nodes); per node "+strings.Join(changes, ", ")+"; token losses "+strings.Join(losses, ", "))
}
