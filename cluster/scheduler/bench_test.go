package scheduler_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
)

const generator = "../../../shared/tools/gen-pacemaker-cib"

// BenchmarkSchedule measures one scheduler pass (parsing excluded) over
// CIBs from gen-pacemaker-cib: 10 to 10,000 resources on 3, 16 and 32
// nodes. Run: go test -run - -bench Schedule -benchmem ./cluster/scheduler
func BenchmarkSchedule(b *testing.B) {
	if _, err := os.Stat(generator); err != nil {
		b.Skip("gen-pacemaker-cib not present")
	}
	dir := b.TempDir()
	for _, nodes := range []int{3, 16, 32} {
		for _, rscs := range []int{10, 100, 1000, 10000} {
			b.Run(fmt.Sprintf("nodes=%d/resources=%d", nodes, rscs), func(b *testing.B) {
				path := filepath.Join(dir, fmt.Sprintf("n%d-r%d.xml", nodes, rscs))
				out, err := exec.Command(generator, "--nodes", fmt.Sprint(nodes), "--resources", fmt.Sprint(rscs), "--seed", "1").Output()
				if err != nil {
					b.Fatalf("generating %s: %v", path, err)
				}
				c, err := cib.Parse(out)
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := scheduler.Run(scheduler.Input{CIB: c}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
