package vmtest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/transport"
	"github.com/ovsha/ovsha/image"
)

// The boot test (make image-test) sets:
//
//	OVSHA_VMTEST_IMAGE    the test-variant image both VMs boot (required)
//	OVSHA_VMTEST_BROKEN   an image whose ovshad cannot start (A/B rollback)
//	OVSHA_VMTEST_UPGRADE  a good newer image (A/B upgrade kept)
//	OVSHA_VMTEST_DIR      work directory (default: a temporary directory)
//	OVSHA_VMTEST_ACCEL    tcg (default) or kvm
//
// twoNodeConf raises the token from ovsha's 150 ms to 10 s: an emulated
// VM stops for seconds at times (its vCPU descheduled on a loaded host,
// QEMU waiting for a host flush; the guest logs "clocksource: Long
// readout interval", 3.9 s seen during an upgrade's slot write), and a
// peer stalled longer than the token is a dead one: without fencing both
// VMs then ran the VIP (the ARP watch saw two MACs in turn). The test is
// about planned hand-overs, which do not wait for the token.
const twoNodeConf = `totem {
	version: 2
	cluster_name: vmtest
	token: 10000
	keyfile: /etc/ovsha/authkey
	interface {
		linknumber: 0
	}
}

nodelist {
	node {
		nodeid: 1
		name: n1
		ring0_addr: 10.99.0.1
	}
	node {
		nodeid: 2
		name: n2
		ring0_addr: 10.99.0.2
	}
}

quorum {
	provider: corosync_votequorum
	two_node: 1
}

logging {
	to_stderr: yes
	to_syslog: no
}
`

// vipAddr is the gateway VIP of the seed CIB, on the VMs' link0 subnet.
const vipAddr = "10.99.0.100"

// seedCIB is both seeds' cib.xml: fencing off (the VMs have no fence
// device), one vip resource and, as on a gateway, resource stickiness, so
// the VIP stays where it runs when the other node comes back (the checks
// see it on exactly one VM, not moving). It has no nic: the agent takes
// the interface whose route covers the address (link0).
var seedCIB = `<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.9">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-fencing-enabled" name="fencing-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="vip-instance_attributes">
          <nvpair id="vip-instance_attributes-ip" name="ip" value="` + vipAddr + `"/>
          <nvpair id="vip-instance_attributes-cidr_netmask" name="cidr_netmask" value="24"/>
        </instance_attributes>
        <operations>
          <op id="vip-monitor-interval-10s" name="monitor" interval="10s" timeout="20s"/>
        </operations>
      </primitive>
    </resources>
    <constraints/>
    <rsc_defaults>
      <meta_attributes id="rsc-options">
        <nvpair id="rsc-options-resource-stickiness" name="resource-stickiness" value="100"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
`

func mac(n int) string { return fmt.Sprintf("52:54:00:aa:00:%02x", n) }

// writeSeeds makes one seed directory per node: the same cluster.conf and
// authkey and cib.xml, each node's own node.conf (link0 by MAC address).
func writeSeeds(t *testing.T, dir string, n int) []string {
	t.Helper()
	key := filepath.Join(dir, "authkey")
	if err := transport.WriteKey(key, true); err != nil {
		t.Fatal(err)
	}
	keyData, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	var seeds []string
	for i := 1; i <= n; i++ {
		d := filepath.Join(dir, fmt.Sprintf("seed-n%d", i))
		files := map[string]string{
			image.SeedClusterConf: twoNodeConf,
			image.SeedAuthkey:     string(keyData),
			image.SeedNodeConf:    fmt.Sprintf("# vmtest node %d\nname: n%d\nlink0: %s 10.99.0.%d/24\n", i, i, mac(i), i),
			image.SeedCIB:         seedCIB,
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		seeds = append(seeds, d)
	}
	return seeds
}

// TestBootSeedsValid: the seeds the boot test flashes pass the appliance's
// own first-boot validation, CIB included (checked here in a second
// rather than as a console error minutes into the boot test).
func TestBootSeedsValid(t *testing.T) {
	for i, dir := range writeSeeds(t, t.TempDir(), 2) {
		s, err := image.ValidateSeed(dir)
		if err != nil {
			t.Fatalf("seed %s: %v", dir, err)
		}
		if want := fmt.Sprintf("n%d", i+1); s.Node.Name != want {
			t.Errorf("seed %s: node %q, want %q", dir, s.Node.Name, want)
		}
		if !slices.ContainsFunc(s.Files, func(f image.SeedFile) bool { return f.Name == image.SeedCIB }) {
			t.Errorf("seed %s: no %s", dir, image.SeedCIB)
		}
	}
}

// timings collects the figures the test prints at the end.
type timings struct {
	mu    sync.Mutex
	lines []string
}

func (tm *timings) add(t *testing.T, format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	tm.mu.Lock()
	tm.lines = append(tm.lines, s)
	tm.mu.Unlock()
	t.Log("TIMING " + s)
}

func TestApplianceBoot(t *testing.T) {
	img := os.Getenv("OVSHA_VMTEST_IMAGE")
	if img == "" {
		t.Skip("boot test: set OVSHA_VMTEST_IMAGE (make image-test does)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespace, tap devices")
	}
	broken, upgrade := os.Getenv("OVSHA_VMTEST_BROKEN"), os.Getenv("OVSHA_VMTEST_UPGRADE")
	dir := os.Getenv("OVSHA_VMTEST_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	// SIGINT/SIGTERM end the waits, so the deferred clean-up stops the VMs
	sigCtx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, 15*time.Minute)
	defer cancel()
	var tm timings
	defer func() {
		fmt.Printf("\n== boot test figures\n")
		for _, l := range tm.lines {
			fmt.Println("  " + l)
		}
	}()

	nt, err := NewNet(ctx, fmt.Sprintf("ovsha-vmtest-%d", os.Getpid()), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.Close(context.Background())

	seeds := writeSeeds(t, dir, 2)
	var upgrades string
	var images []string
	for _, x := range []string{broken, upgrade} {
		if x != "" {
			images = append(images, x)
		}
	}
	if len(images) > 0 {
		if upgrades, err = UpgradeDisk(ctx, dir, images...); err != nil {
			t.Fatal(err)
		}
	}
	var vms []*VM
	defer func() {
		for _, vm := range vms {
			if t.Failed() {
				t.Logf("%s console (last lines; full log %s):\n%s", vm.Cfg.Name,
					filepath.Join(vm.Cfg.Dir, vm.Cfg.Name+".log"), vm.Console.Tail(60))
			}
			vm.Stop()
		}
	}()
	for i := 1; i <= 2; i++ {
		c := VMConfig{
			Name: fmt.Sprintf("n%d", i), Dir: dir, Base: img, Seed: seeds[i-1],
			NetNS: nt.NS, Tap: nt.Taps[i-1], MAC: mac(i), Accel: os.Getenv("OVSHA_VMTEST_ACCEL"),
			DiskSize: "1G",
		}
		if upgrades != "" {
			c.Extra = []string{upgrades}
		}
		overlay, err := PrepareDisk(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := Start(ctx, c, overlay)
		if err != nil {
			t.Fatal(err)
		}
		vms = append(vms, vm)
	}

	// Marker lines reach the console through the journal, prefixed with
	// "[ time] ovsha[pid]: ", and may share a line with the shell prompt.
	ready := regexp.MustCompile(image.MarkerReady + ` node=(n[12]) .*slot=a`)
	quorate := regexp.MustCompile(image.MarkerQuorate + ` node=n[12] members=2 `)
	// 1. both nodes: ovshad ready, then a quorate two-node cluster
	for _, vm := range vms {
		l, _, err := vm.Console.Wait(ctx, 0, ready)
		if err != nil {
			t.Fatalf("%s: %v", vm.Cfg.Name, err)
		}
		tm.add(t, "%s: VM start -> ovshad ready: %5.1fs", vm.Cfg.Name, l.At.Seconds())
	}
	for _, vm := range vms {
		l, _, err := vm.Console.Wait(ctx, 0, quorate)
		if err != nil {
			t.Fatalf("%s: %v", vm.Cfg.Name, err)
		}
		tm.add(t, "%s: VM start -> quorate two-node cluster: %5.1fs", vm.Cfg.Name, l.At.Seconds())
	}
	// 2. the seed CIB's gateway VIP runs on exactly one of them: from the
	// bridge, exactly one VM's MAC answers ARP for it
	owner, seen, err := waitVIP(ctx, nt, vipAddr)
	if err != nil {
		t.Fatal(err)
	}
	tm.add(t, "gateway VIP %s answered by exactly one VM (%s): %5.1fs after VM start", vipAddr, owner, seen.Sub(vms[0].Started).Seconds())
	// first boot on a 1 GiB disk: systemd-repart grew the data partition,
	// x-systemd.growfs its ext4
	grown := regexp.MustCompile(`EXT4-fs \(vda4\): resizing filesystem from ([0-9]+) to ([0-9]+) blocks`)
	for _, vm := range vms {
		l, _, err := vm.Console.Wait(ctx, 0, grown)
		if err != nil {
			t.Fatalf("%s: data partition not grown: %v", vm.Cfg.Name, err)
		}
		m := grown.FindStringSubmatch(l.Text)
		from, _ := strconv.Atoi(m[1])
		to, _ := strconv.Atoi(m[2])
		if to <= from {
			t.Fatalf("%s: data file system not grown: %s", vm.Cfg.Name, l.Text)
		}
		tm.add(t, "%s: /data ext4 grown from %d to %d blocks", vm.Cfg.Name, from, to)
	}

	if upgrades == "" {
		return
	}
	// 3. A/B, one node after the other, the VIP's holder first: n1 gets
	// the broken release (boots its slot, fails, falls back by itself),
	// n2 the good one (kept, boot counter blessed). Each upgrade hands
	// the VIP over (standby) before its reboot; the second starts once
	// the first node is completely back. An ARP watch from the bridge
	// follows the VIP throughout (abtest_test.go checks and reports).
	var plans []upgradePlan
	if broken != "" {
		plans = append(plans, brokenPlan(vms[0], filepath.Base(broken)))
	}
	if upgrade != "" {
		plans = append(plans, goodPlan(vms[1], filepath.Base(upgrade)))
	}
	holder, err := abUpgrades(ctx, t, &tm, nt, vms, owner, holderFirst(plans, owner))
	if err != nil {
		t.Fatal(err)
	}
	// 4. both back (each boot check cleared its node's standby): the VIP
	// runs on exactly one of them, the one the last hand-over moved it to
	abEnd := time.Now()
	owner, seen, err = waitVIP(ctx, nt, vipAddr)
	if err != nil {
		t.Fatalf("after the upgrades: %v", err)
	}
	if owner != holder {
		t.Fatalf("after the upgrades: gateway VIP answered by %s, want %s (where the last hand-over moved it)", owner, holder)
	}
	tm.add(t, "after the upgrades: gateway VIP answered by exactly one VM (%s), checked with arping in %.1fs", owner, seen.Sub(abEnd).Seconds())
}

// waitVIP probes ARP for vip from the bridge until a VM answers, then
// checks over a second round of probes that exactly one VM answers, and
// returns its name and when the first round with an answer ended.
func waitVIP(ctx context.Context, nt *Net, vip string) (string, time.Time, error) {
	byMAC := map[string]string{}
	for i := 1; i <= 2; i++ {
		byMAC[mac(i)] = fmt.Sprintf("n%d", i)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		macs, err := nt.ARP(wctx, vip, 3)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("gateway VIP %s: %w", vip, err)
		}
		if len(macs) > 0 {
			break
		}
		if wctx.Err() != nil {
			return "", time.Time{}, fmt.Errorf("no VM answers ARP for the gateway VIP %s: %w", vip, wctx.Err())
		}
	}
	seen := time.Now()
	macs, err := nt.ARP(ctx, vip, 5)
	if err != nil {
		return "", seen, fmt.Errorf("gateway VIP %s: %w", vip, err)
	}
	var owners []string
	for _, m := range macs {
		n, ok := byMAC[m]
		if !ok {
			n = "unknown MAC " + m
		}
		owners = append(owners, n)
	}
	if len(owners) != 1 {
		return "", seen, fmt.Errorf("gateway VIP %s: answered by %v, want exactly one VM", vip, owners)
	}
	return owners[0], seen, nil
}
