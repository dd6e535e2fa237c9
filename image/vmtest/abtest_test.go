package vmtest

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ovsha/ovsha/image"
)

// arpInterval is how often the A/B part's ARP watch asks for the VIP.
const arpInterval = 20 * time.Millisecond

// step is one console line an upgrade waits for; mark names the lines
// the hand-over check reads (markStandby, markReboot, markReset).
type step struct{ what, re, mark string }

const (
	markStandby = "standby" // OVSHA-STANDBY ... resources moved
	markReboot  = "reboot"  // the CLI's "rebooting into slot b"
	markReset   = "reset"   // the guest's reset: QEMU exited (VM.supervise)
)

// upgradePlan is one VM's upgrade in the A/B part.
type upgradePlan struct {
	vm    *VM
	name  string // for messages and timings: "broken upgrade (n1)"
	img   string // file name on the upgrade disk
	steps []step
	// after, when set, runs once every step was seen.
	after func(ctx context.Context, t *testing.T, tm *timings, start time.Time) error
}

// brokenPlan upgrades vm to the broken release: it hands over, boots slot
// b, fails its boot check and comes back on slot a by itself.
func brokenPlan(vm *VM, img string) upgradePlan {
	n := vm.Cfg.Name
	return upgradePlan{vm: vm, name: "broken upgrade (" + n + ")", img: img, steps: []step{
		{"standby: no resource left on " + n, image.MarkerStandby + ` node=` + n + ` resources moved`, markStandby},
		{"installed in slot b", image.MarkerUpgraded + ` slot=b `, ""},
		{"reboot requested", `rebooting into slot b`, markReboot},
		{"guest reset (qemu exited)", `^== guest rebooted`, markReset},
		{"slot b booted and failed its check", image.MarkerBootFailed + ` slot=b `, ""},
		{"back on slot a: ovshad ready", image.MarkerReady + ` node=` + n + ` .*slot=a .*trial=false`, ""},
		{"back on slot a: quorate", image.MarkerQuorate + ` node=` + n + ` members=2 slot=a`, ""},
		{"back on slot a: standby cleared", image.MarkerStandby + ` node=` + n + ` cleared`, ""},
	}}
}

// goodPlan upgrades vm to the good release: it hands over, boots slot b
// on trial, passes its boot check (standby cleared) and is blessed.
func goodPlan(vm *VM, img string) upgradePlan {
	n := vm.Cfg.Name
	return upgradePlan{vm: vm, name: "good upgrade (" + n + ")", img: img, steps: []step{
		{"standby: no resource left on " + n, image.MarkerStandby + ` node=` + n + ` resources moved`, markStandby},
		{"installed in slot b", image.MarkerUpgraded + ` slot=b `, ""},
		{"reboot requested", `rebooting into slot b`, markReboot},
		{"guest reset (qemu exited)", `^== guest rebooted`, markReset},
		{"slot b on trial: ovshad ready", image.MarkerReady + ` node=` + n + ` .*slot=b .*trial=true`, ""},
		{"slot b: quorate, boot complete", image.MarkerBootOK + ` slot=b `, ""},
		{"slot b: standby cleared", image.MarkerStandby + ` node=` + n + ` cleared`, ""},
	}, after: func(ctx context.Context, t *testing.T, tm *timings, start time.Time) error {
		// systemd-bless-boot runs after boot-complete.target: wait for it, then read the status
		from, err := vm.Shell(ctx, "systemctl start systemd-bless-boot.service; ovsha system status")
		if err == nil {
			_, _, err = vm.Console.Wait(ctx, from, regexp.MustCompile(`^\* slot b .* entry ovsha-[0-9]+-b\.conf +good`))
		}
		if err != nil {
			return fmt.Errorf("good upgrade: slot b not blessed: %w", err)
		}
		tm.add(t, "good upgrade (%s): kept, slot b blessed: %5.1fs after the command", n, time.Since(start).Seconds())
		return nil
	}}
}

// holderFirst orders the plans so that the VIP's holder is upgraded
// first (its hand-over is then checked twice: away and back).
func holderFirst(plans []upgradePlan, holder string) []upgradePlan {
	out := slices.Clone(plans)
	slices.SortStableFunc(out, func(a, b upgradePlan) int {
		return rank(a.vm.Cfg.Name != holder) - rank(b.vm.Cfg.Name != holder)
	})
	return out
}

func rank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// abUpgrades runs the plans one after the other, each once the previous
// node is completely back, while an ARP watch from the bridge follows the
// gateway VIP, first answered by owner. For each upgrade of the VIP's
// holder it checks that the VIP moved to the other VM in one clean
// hand-over (never two MACs in turn), that the other VM answered before
// the upgrading one went down (its reset), and that the VIP is answered
// after the upgrade; it reports the hand-over's figures relative to the
// standby marker. Hand-over failures are test errors (the next upgrade
// still runs); a failed upgrade step ends the A/B part with an error. It
// returns the VM that holds the VIP at the end.
func abUpgrades(ctx context.Context, t *testing.T, tm *timings, nt *Net, vms []*VM, owner string, plans []upgradePlan) (string, error) {
	w, err := nt.WatchARP(ctx, vipAddr, arpInterval)
	if err != nil {
		return owner, err
	}
	defer w.Close()
	watchStart := time.Now()
	defer func() {
		sent, serr := w.Stats()
		tm.add(t, "ARP watch (every %v): %d probes, %d answers (last send error: %v)", arpInterval, sent, len(w.Replies()), serr)
	}()
	macOf := func(name string) string {
		for _, vm := range vms {
			if vm.Cfg.Name == name {
				return vm.Cfg.MAC
			}
		}
		return "none"
	}
	nameOf := func(m string) string {
		for _, vm := range vms {
			if vm.Cfg.MAC == m {
				return vm.Cfg.Name
			}
		}
		return "unknown MAC " + m
	}
	// the next answer after at, within a minute
	next := func(at time.Time) (ARPReply, error) {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return w.Wait(wctx, at, nil)
	}
	first, err := next(watchStart)
	if err != nil {
		return owner, fmt.Errorf("ARP watch: %w", err)
	}
	if first.MAC != macOf(owner) {
		return owner, fmt.Errorf("ARP watch: first answer from %s, want %s (the VIP's holder)", nameOf(first.MAC), owner)
	}
	holder, from := owner, watchStart
	for _, p := range plans {
		start := time.Now()
		lines, err := upgradeSteps(ctx, t, tm, p)
		if err != nil {
			return holder, err
		}
		if p.after != nil {
			if err := p.after(ctx, t, tm, start); err != nil {
				return holder, err
			}
		}
		end := time.Now()
		if p.vm.Cfg.Name != holder {
			// not the holder (the other plan is missing): the VIP stays put
			if err := CheckSteady(w.Replies(), from, end, macOf(holder)); err != nil {
				t.Errorf("%s: gateway VIP %s: %v", p.name, vipAddr, err)
			}
			from = end
			continue
		}
		other := vms[0].Cfg.Name
		if other == holder {
			other = vms[1].Cfg.Name
		}
		checkHandOver(t, tm, w, p, lines, from, start, end, macOf(holder), macOf(other), other)
		// the VIP is answered after the upgrade, by the VM it moved to
		r, err := next(end)
		if err != nil {
			t.Errorf("%s: gateway VIP %s not answered after the upgrade: %v", p.name, vipAddr, err)
			return holder, nil
		}
		if holder = nameOf(r.MAC); holder != other {
			t.Errorf("%s: after the upgrade the gateway VIP %s is answered by %s, want %s", p.name, vipAddr, holder, other)
		}
		from = end
	}
	return holder, nil
}

var standbySeconds = regexp.MustCompile(`resources moved, seconds=([0-9.]+)`)

// checkHandOver checks and reports the VIP's move from oldMAC to newMAC
// during upgrade p: ARP answers in [from, end), the upgrade ran from
// start; lines are p's marked console lines.
func checkHandOver(t *testing.T, tm *timings, w *ARPWatch, p upgradePlan, lines map[string]Line, from, start, end time.Time, oldMAC, newMAC, other string) {
	t.Helper()
	replies := w.Replies()
	v, err := CheckHandOver(replies, from, end, oldMAC, newMAC)
	if err != nil {
		t.Errorf("%s: gateway VIP %s: %v", p.name, vipAddr, err)
	}
	moved := p.vm.Console.Time(lines[markStandby])
	reboot := p.vm.Console.Time(lines[markReboot])
	reset := p.vm.Console.Time(lines[markReset])
	rel := func(x time.Time) string {
		if x.IsZero() {
			return "never"
		}
		return fmt.Sprintf("%+.3fs", x.Sub(moved).Seconds())
	}
	// the marker says how long the wait took: the standby was set then
	set := "?"
	if m := standbySeconds.FindStringSubmatch(lines[markStandby].Text); m != nil {
		if s, err := strconv.ParseFloat(m[1], 64); err == nil {
			set = rel(moved.Add(-time.Duration(s * float64(time.Second))))
		}
	}
	tm.add(t, "%s: VIP hand-over to %s, relative to the standby marker (resources moved, %.1fs after the command): standby set %s, last answer from %s %s, first answer from %s %s, reboot requested %s, guest reset %s",
		p.name, other, moved.Sub(start).Seconds(), set, p.vm.Cfg.Name, rel(v.OldLast), other, rel(v.NewFirst), rel(reboot), rel(reset))
	if d := v.NewFirst.Sub(v.OldLast); !v.OldLast.IsZero() && !v.NewFirst.IsZero() && d >= 0 {
		tm.add(t, "%s: VIP unanswered during the hand-over (last old answer to first new one): %.3fs", p.name, d.Seconds())
	}
	in := Between(replies, start, end)
	g := LongestGap(in, start, end)
	tm.add(t, "%s: longest stretch without any VIP answer during the upgrade (%.1fs, %d answers): %.3fs, from %s to %s",
		p.name, end.Sub(start).Seconds(), len(in), g.Duration().Seconds(), rel(g.From), rel(g.To))
	// The promise: the VIP runs elsewhere before the node goes down. The
	// marker comes once the cluster reports the VIP started there; this
	// watcher sees the first answer up to a probe interval (and an
	// emulated VM's reply time) later, so the deadline is the guest's
	// reset (about 5 s after the reboot request), not the request.
	deadline := reset
	if deadline.IsZero() {
		deadline = reboot.Add(time.Second)
	}
	if v.NewFirst.IsZero() || !v.NewFirst.Before(deadline) {
		t.Errorf("%s: %s did not answer for the gateway VIP %s before %s went down (first answer %s, reboot requested %s, guest reset %s, relative to the standby marker)",
			p.name, other, vipAddr, p.vm.Cfg.Name, rel(v.NewFirst), rel(reboot), rel(reset))
	}
}

func TestHolderFirst(t *testing.T) {
	n1, n2 := &VM{Cfg: VMConfig{Name: "n1"}}, &VM{Cfg: VMConfig{Name: "n2"}}
	plans := []upgradePlan{brokenPlan(n1, "b.img"), goodPlan(n2, "g.img")}
	for holder, want := range map[string][]string{"n1": {"n1", "n2"}, "n2": {"n2", "n1"}} {
		var got []string
		for _, p := range holderFirst(plans, holder) {
			got = append(got, p.vm.Cfg.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("holder %s: order %v, want %v", holder, got, want)
		}
	}
}

// upgradeFailed are console lines that end an upgrade's wait: the CLI's
// error, a standby that timed out or was skipped (no hand-over).
var upgradeFailed = regexp.MustCompile(`^ovsha: |` + image.MarkerStandby + ` (node=\S+ timeout|skipped)`)

// upgradeSteps types `ovsha system upgrade` on the plan's VM, waits for
// each step and returns the marked steps' lines.
func upgradeSteps(ctx context.Context, t *testing.T, tm *timings, p upgradePlan) (map[string]Line, error) {
	vm := p.vm
	start := time.Now()
	// the upgrade images are on an ext4 disk (/dev/vdb), mounted anew after each reboot
	from, err := vm.Shell(ctx, "mkdir -p /run/upgrades && { mountpoint -q /run/upgrades || mount -o ro /dev/vdb /run/upgrades; } && ovsha system upgrade --tries 1 /run/upgrades/"+p.img)
	if err != nil {
		return nil, err
	}
	marked := map[string]Line{}
	for _, s := range p.steps {
		l, pos, err := vm.Console.Wait(ctx, from, regexp.MustCompile(s.re+"|"+upgradeFailed.String()))
		if err == nil && upgradeFailed.MatchString(l.Text) {
			err = fmt.Errorf("the upgrade failed: %s", l.Text)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: waiting for %q: %w", p.name, s.what, err)
		}
		from = pos + 1
		if s.mark != "" {
			marked[s.mark] = l
		}
		tm.add(t, "%s: %s: %5.1fs after the command", p.name, s.what, time.Since(start).Seconds())
	}
	return marked, nil
}
