package vmtest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/vishvananda/netns"
)

// Net is a private network namespace with a bridge and one tap per VM.
type Net struct {
	NS   string
	Taps []string
}

func ipCmd(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// bridgeName is the namespace's bridge the taps are on.
const bridgeName = "sw0"

// HostAddr is the bridge's own address in the namespace: the source of
// the test's ARP probes, on the VMs' 10.99.0.0/24.
const HostAddr = "10.99.0.254/24"

// NewNet creates namespace ns with bridge sw0 (bridgeName, address HostAddr) and taps
// tap1..tapN on it.
func NewNet(ctx context.Context, ns string, n int) (*Net, error) {
	if err := ipCmd(ctx, "netns", "add", ns); err != nil {
		return nil, err
	}
	nt := &Net{NS: ns}
	steps := [][]string{
		{"link", "add", bridgeName, "type", "bridge"},
		{"link", "set", bridgeName, "up"},
		{"addr", "add", HostAddr, "dev", bridgeName},
		{"link", "set", "lo", "up"},
	}
	for i := 1; i <= n; i++ {
		tap := fmt.Sprintf("tap%d", i)
		nt.Taps = append(nt.Taps, tap)
		steps = append(steps,
			[]string{"tuntap", "add", tap, "mode", "tap"},
			[]string{"link", "set", tap, "master", bridgeName},
			[]string{"link", "set", tap, "up"})
	}
	for _, s := range steps {
		if err := ipCmd(ctx, append([]string{"-n", ns}, s...)...); err != nil {
			nt.Close(context.Background())
			return nil, err
		}
	}
	return nt, nil
}

// Close deletes the namespace and everything in it.
func (n *Net) Close(ctx context.Context) error {
	return ipCmd(ctx, "netns", "del", n.NS)
}

// inNS runs fn on a thread inside namespace ns; the thread is not
// reused afterwards (it stays locked and ends with its goroutine), so
// sockets fn opens stay in ns and the caller's thread never moves.
func inNS(ns string, fn func() error) error {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return fmt.Errorf("opening namespace %s: %w", ns, err)
	}
	defer h.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("entering namespace %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// arpReply is iputils arping's line for an answer.
var arpReply = regexp.MustCompile(`(?m)^Unicast reply from ([0-9.]+) \[([0-9A-Fa-f:]{17})\]`)

// ARP sends count ARP requests for ip from the bridge (iputils arping,
// about a second apart) and returns the distinct MAC addresses that
// answered, lower case and sorted; none answering is not an error.
func (n *Net) ARP(ctx context.Context, ip string, count int) ([]string, error) {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", n.NS, "arping", "-c", fmt.Sprint(count), "-w", fmt.Sprint(count+1), "-I", bridgeName, ip)
	out, err := cmd.CombinedOutput()
	macs := ParseARPReplies(string(out), ip)
	if err == nil || ctx.Err() != nil {
		return macs, nil // the caller sees its context ended
	}
	// arping exits 1 when nobody answered; anything else is a failure
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 1 {
		return macs, nil
	}
	return nil, fmt.Errorf("arping %s in %s: %w: %s", ip, n.NS, err, strings.TrimSpace(string(out)))
}

// ParseARPReplies returns the distinct MACs of arping's replies for ip.
func ParseARPReplies(out, ip string) []string {
	var macs []string
	for _, m := range arpReply.FindAllStringSubmatch(out, -1) {
		if m[1] != ip {
			continue
		}
		mac := strings.ToLower(m[2])
		if !slices.Contains(macs, mac) {
			macs = append(macs, mac)
		}
	}
	slices.Sort(macs)
	return macs
}
