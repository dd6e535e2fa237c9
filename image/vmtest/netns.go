package vmtest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
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

// NewNet creates namespace ns with bridge sw0 and taps tap1..tapN on it.
func NewNet(ctx context.Context, ns string, n int) (*Net, error) {
	if err := ipCmd(ctx, "netns", "add", ns); err != nil {
		return nil, err
	}
	nt := &Net{NS: ns}
	steps := [][]string{
		{"link", "add", "sw0", "type", "bridge"},
		{"link", "set", "sw0", "up"},
		{"link", "set", "lo", "up"},
	}
	for i := 1; i <= n; i++ {
		tap := fmt.Sprintf("tap%d", i)
		nt.Taps = append(nt.Taps, tap)
		steps = append(steps,
			[]string{"tuntap", "add", tap, "mode", "tap"},
			[]string{"link", "set", tap, "master", "sw0"},
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
