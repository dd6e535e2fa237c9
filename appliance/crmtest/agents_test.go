package crmtest

import (
	"os"
	"path/filepath"
	"testing"
)

// sleeperOCF is ocf:test:sleeper: start runs `sleep` in its own session
// with a pidfile per node and resource in OCF_RESKEY_state, and appends
// "TIME start|stop RSC NODE" to state/log.
const sleeperOCF = `#!/bin/sh
st=${OCF_RESKEY_state:?state directory}
node=${OCF_RESKEY_CRM_meta_on_node:?node}
pidf=$st/$node-$OCF_RESOURCE_INSTANCE.pid
# alive and not a zombie (killed sleepers wait for init to reap them)
running() { [ -f "$pidf" ] && p=$(cat "$pidf") && [ -r "/proc/$p/stat" ] && ! grep -q ') Z' "/proc/$p/stat"; }
case "$1" in
start)
	running && exit 0
	setsid sleep 100000 </dev/null >/dev/null 2>&1 &
	pid=$!
	echo "$(date +%s.%N) start $OCF_RESOURCE_INSTANCE $node" >> "$st/log"
	echo $pid > "$pidf"
	exit 0 ;;
stop)
	running && kill "$(cat "$pidf")"
	rm -f "$pidf"
	echo "$(date +%s.%N) stop $OCF_RESOURCE_INSTANCE $node" >> "$st/log"
	exit 0 ;;
monitor) running && exit 0; exit 7 ;;
meta-data) echo '<resource-agent name="sleeper"><parameters><parameter name="state" required="1"><content type="string"/></parameter></parameters><actions/></resource-agent>'; exit 0 ;;
validate-all) exit 0 ;;
*) exit 3 ;;
esac
`

// fenceTest is stonith:fence_test: action=off|reboot kills every process
// whose pid is listed in state/pids-TARGET (the node's ovshad) and every
// sleeper the node runs, then logs "TIME fence TARGET".
const fenceTest = `#!/bin/sh
action=; plug=; st=
while IFS='=' read -r k v; do
	case "$k" in action) action=$v ;; plug) plug=$v ;; state) st=$v ;; esac
done
case "$action" in
monitor|status) exit 0 ;;
metadata) echo '<resource-agent name="fence_test"><parameters><parameter name="state"><content type="string"/></parameter></parameters><actions/></resource-agent>'; exit 0 ;;
off|reboot)
	for p in $(cat "$st/pids-$plug" 2>/dev/null) $(cat "$st/$plug"-*.pid 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	rm -f "$st/$plug"-*.pid
	echo "$(date +%s.%N) fence $plug" >> "$st/log"
	exit 0 ;;
on) exit 0 ;;
esac
exit 1
`

// writeAgents writes both agents under dir and returns the OCF root and
// fence directory.
func writeAgents(t *testing.T, dir string) (ocfRoot, fenceDir string) {
	t.Helper()
	ocfRoot = filepath.Join(dir, "ocf")
	fenceDir = filepath.Join(dir, "fence")
	for _, f := range []struct{ path, body string }{
		{filepath.Join(ocfRoot, "resource.d", "test", "sleeper"), sleeperOCF},
		{filepath.Join(fenceDir, "fence_test"), fenceTest},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return ocfRoot, fenceDir
}
